/**
 * Thousands of generated bad requests against the webhook and the device
 * API: never a 5xx, always a JSON error (the expected one where it is
 * certain), nothing queued, nothing stored.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { API_KEY, notification, notificationsSent, RELAY, svixHeaders, svixHeadersForBytes } from "../support/webhook";

/** Deterministic generator (mulberry32), so a failure can be replayed. */
function rng(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}

const NASTY_STRINGS = [
  "",
  " ",
  "'; DROP TABLE devices; --",
  "\" OR 1=1 --",
  "../../etc/passwd",
  "%00",
  "\u0000",
  "\uFEFF",
  "\uD800",
  "𝕳𝖊𝖑𝖑𝖔 👋🏽 مرحبا שלום",
  "<script>alert(1)</script>",
  "${jndi:ldap://x}",
  "a".repeat(300),
  "b".repeat(70_000),
  "\r\n\r\nHTTP/1.1 200 OK",
];

function randomValue(r: ReturnType<typeof rng>, depth = 0): unknown {
  switch (r.int(depth > 3 ? 5 : 8)) {
    case 0:
      return r.pick(NASTY_STRINGS);
    case 1:
      return r.pick([0, -1, 1e308, Number.MAX_SAFE_INTEGER + 2, 3.14]);
    case 2:
      return r.pick([true, false]);
    case 3:
      return null;
    case 4:
      return r.pick(["fcm", "apns", "production", "sandbox", "ios", "android", "notifications.sent"]);
    case 5:
      return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
    default: {
      const keys = ["title", "body", "path", "user_id", "custom_id", "phone_number", "provider", "token", "environment", "platform", "type", "data", "notifications", "__proto__", "constructor"];
      return Object.fromEntries(Array.from({ length: r.int(6) }, () => [r.pick(keys), randomValue(r, depth + 1)]));
    }
  }
}

/**
 * A notification that must be rejected: one field broken, or not an object
 * at all. It also carries what must never matter: any `phone_number` and
 * fields the relay does not know.
 */
function brokenNotification(r: ReturnType<typeof rng>): unknown {
  const bad: Record<string, readonly unknown[]> = {
    title: [42, true, [], {}, null, undefined],
    body: [42, true, [], {}, null, undefined],
    path: [42, null, undefined, "no-leading-slash", "https://evil.example", "//evil.example", "/../other-org", "/%2e%2e/x", "/a\\b", "/x?token=1", "/x?%54OKEN=1", "/x\u0000", "/" + "a".repeat(5_000)],
    user_id: [undefined, null, "", "   ", 1.5, 2 ** 60, {}, [], true, "x".repeat(300)],
    custom_id: [1.5, 2 ** 60, {}, [], true, "x".repeat(300)],
  };
  const field = r.pick([...Object.keys(bad), "whole"]);
  if (field === "whole") return r.pick([null, 42, "x", [], true]);
  const n: Record<string, unknown> = { ...notification(), phone_number: randomValue(r), [r.pick(["locale", "extra", "priority"])]: randomValue(r) };
  const value = r.pick(bad[field]!);
  if (value === undefined) delete n[field];
  else n[field] = value;
  return n;
}

function deepNesting(levels: number): string {
  return "[".repeat(levels) + "]".repeat(levels);
}

/** A bad webhook request, and the answer it must get when that is certain (otherwise: some 4xx). */
async function badWebhook(r: ReturnType<typeof rng>): Promise<{ request: Request; expected?: { status: number; code: string } }> {
  const url = `${RELAY}/webhooks/learnink`;
  const kind = r.int(9);
  const validBody = JSON.stringify(notificationsSent([notification()]));
  switch (kind) {
    case 0: {
      // Broken or missing Svix headers.
      const headers = svixHeaders(validBody);
      const header = r.pick(["svix-id", "svix-timestamp", "svix-signature"]);
      const value = r.pick([undefined, "", "abc", "-1", "99999999999999999999", "v2,AAAA", "v1,", "v1,!!!!", "v1 v1 v1", " ".repeat(10), "v1,\t"]);
      if (value === undefined) delete headers[header];
      else headers[header] = value;
      return { request: new Request(url, { method: "POST", headers, body: validBody }), expected: { status: 401, code: "invalid_signature" } };
    }
    case 1: {
      // Signed, but not JSON, or JSON of the wrong shape.
      const body = r.pick([
        "",
        "{",
        "null",
        "[]",
        "\"string\"",
        "42",
        "{\"type\":",
        JSON.stringify(randomValue(r)),
        deepNesting(r.pick([100, 10_000, 100_000])),
        "\uFEFF{}",
      ]);
      return { request: new Request(url, { method: "POST", headers: svixHeaders(body), body }) };
    }
    case 2: {
      // Signed notifications.sent in which every notification is invalid: most likely a schema change, so 400 (Svix keeps it).
      const notifications = Array.from({ length: 1 + r.int(3) }, () => brokenNotification(r));
      const body = JSON.stringify(notificationsSent(notifications as never));
      return { request: new Request(url, { method: "POST", headers: svixHeaders(body), body }), expected: { status: 400, code: "invalid_event" } };
    }
    case 3: {
      // Signed envelopes with data of the wrong type.
      const body = JSON.stringify({ type: "notifications.sent", data: randomValue(r) === null ? null : r.pick([[], "x", 1, { notifications: r.pick([null, "x", 1, {}]) }]) });
      return { request: new Request(url, { method: "POST", headers: svixHeaders(body), body }), expected: { status: 400, code: "invalid_event" } };
    }
    case 4: {
      // Bytes that are not UTF-8, signed over exactly those bytes: never JSON, whatever the signature.
      const bytes = new TextEncoder().encode(validBody);
      const broken = Uint8Array.from(bytes);
      broken[1 + r.int(broken.length - 2)] = r.pick([0xff, 0xfe, 0xc3, 0x80, 0xed]);
      return {
        request: new Request(url, { method: "POST", headers: await svixHeadersForBytes(broken), body: broken }),
        expected: { status: 400, code: "invalid_json" },
      };
    }
    case 5: {
      // A signature for another body, or from another secret.
      const headers = svixHeaders(r.pick(["{}", validBody + " "]), { secret: r.pick(["whsec_" + btoa("x".repeat(24)), undefined]) });
      return { request: new Request(url, { method: "POST", headers, body: validBody }), expected: { status: 401, code: "invalid_signature" } };
    }
    case 6: {
      // Wrong method, with the signed body wherever a method can carry one.
      const method = r.pick(["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"]);
      const body = method === "GET" || method === "HEAD" ? undefined : validBody;
      return { request: new Request(url, { method, headers: svixHeaders(validBody), body }), expected: { status: 405, code: "method_not_allowed" } };
    }
    case 7: {
      // A Content-Length that claims more than the limit.
      const headers = { "content-length": String(r.pick([10_485_761, 99_999_999])) };
      return { request: new Request(url, { method: "POST", headers, body: "{}" }), expected: { status: 413, code: "payload_too_large" } };
    }
    default: {
      // Replayed timestamp: far in the past or the future.
      const timestamp = Math.floor(Date.now() / 1000) + r.pick([-86_400, -301, 301, 86_400 * 365]);
      const request = new Request(url, { method: "POST", headers: svixHeaders(validBody, { timestamp }), body: validBody });
      return { request, expected: { status: 401, code: "invalid_signature" } };
    }
  }
}

function badApiRequest(r: ReturnType<typeof rng>): Request {
  const auth = { authorization: `Bearer ${API_KEY}` };
  switch (r.int(6)) {
    case 0: {
      const body = JSON.stringify(randomValue(r));
      return new Request(`${RELAY}/v1/devices`, { method: "PUT", headers: { ...auth, "content-type": "application/json" }, body });
    }
    case 1: {
      // A device body with exactly one bad field.
      const device: Record<string, unknown> = { custom_id: "emp-1", provider: "fcm", token: "a".repeat(40) };
      const field = r.pick(["custom_id", "user_id", "provider", "token", "environment", "platform"]);
      device[field] = r.pick<unknown>([42, [], {}, true, "x".repeat(5_000), "not-an-enum", "'; DROP TABLE devices; --"]);
      if (field === "user_id" || field === "custom_id") device[field] = r.pick<unknown>([42, [], {}, true, "", "x".repeat(300)]);
      if (field === "custom_id" && r.next() < 0.5) delete device.custom_id;
      return new Request(`${RELAY}/v1/devices`, { method: "PUT", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(device) });
    }
    case 2:
      return new Request(`${RELAY}/v1/devices`, { method: "PUT", headers: auth, body: r.pick(["", "{", "\u0000", deepNesting(50_000)]) });
    case 3:
      // Broken or missing credentials.
      return new Request(`${RELAY}/v1/users/x/devices`, {
        headers: r.pick<Record<string, string>>([{}, { authorization: "" }, { authorization: "Bearer" }, { authorization: "Bearer a b" }, { authorization: `Basic ${API_KEY}` }, { authorization: `Bearer ${API_KEY}x` }]),
      });
    case 4:
      // Unknown tokens, including injection strings, to delete.
      return new Request(`${RELAY}/v1/devices/${encodeURIComponent(r.pick(NASTY_STRINGS.filter((s) => s.length > 0 && s.length < 1000 && s.isWellFormed())))}-missing`, { method: "DELETE", headers: auth });
    default:
      return new Request(`${RELAY}/v1/${r.pick(["nope", "devices/x/y", "users", "events"])}`, { method: r.pick(["GET", "POST", "PATCH"]), headers: auth });
  }
}

async function deviceCount(): Promise<number> {
  return (await env.DB.prepare("SELECT COUNT(*) AS n FROM devices").first<number>("n")) ?? 0;
}

describe("fuzz: bad requests", () => {
  it("never answers 5xx, always answers a JSON error, and queues and stores nothing", async () => {
    let queued = 0;
    const queue = {
      send: async () => void queued++,
      sendBatch: async () => void queued++,
    } as unknown as Queue;
    const testEnv = { ...env, PUSH_QUEUE: queue };
    const before = await deviceCount();
    const r = rng(20261123);
    const statuses = new Map<number, number>();

    for (let i = 0; i < 3_000; i++) {
      const { request, expected } = i % 2 === 0 ? await badWebhook(r) : { request: badApiRequest(r), expected: undefined };
      const label = `#${i} ${request.method} ${new URL(request.url).pathname.slice(0, 60)}`;
      const response = await app.fetch(request, testEnv);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      expect(response.status, label).toBeGreaterThanOrEqual(400);
      expect(response.status, label).toBeLessThan(500);
      if (expected) expect(response.status, label).toBe(expected.status);
      expect(response.headers.get("content-type"), label).toContain("application/json");
      if (request.method === "HEAD") continue;
      const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
      expect(typeof body.error?.code, label).toBe("string");
      expect(typeof body.error?.message, label).toBe("string");
      if (expected) expect(body.error?.code, label).toBe(expected.code);
    }

    expect(queued).toBe(0);
    expect(await deviceCount()).toBe(before);
    // The generator reaches every class of rejection.
    for (const status of [400, 401, 405, 413]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0);
    // 3,000 requests take about 3 s alone and over 5 s on a loaded machine: the default 5 s timeout is not what is tested.
  }, 60_000);
});
