/**
 * Thousands of generated bad requests against the webhook and the device
 * API: never a 5xx, always a JSON error, nothing queued, nothing stored.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../src/http/app";
import { API_KEY, notification, notificationsSent, RELAY, svixHeaders } from "./support/webhook";

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

/** A notification with one field broken (wrong type, too long, bad path or empty user). */
function brokenNotification(r: ReturnType<typeof rng>): Record<string, unknown> {
  const n: Record<string, unknown> = { ...notification() };
  const field = r.pick(["title", "body", "path", "user_id", "custom_id", "phone_number"]);
  n[field] = r.pick<unknown>([
    42,
    true,
    [],
    {},
    field === "custom_id" || field === "phone_number" ? 0 : null,
    field === "path" ? "no-leading-slash" : "x".repeat(10_000),
    field === "user_id" ? "" : { nested: "object" },
  ]);
  if (field === "custom_id" || field === "phone_number") n[field] = r.pick<unknown>([0, [], {}, true, "x".repeat(300)]);
  return n;
}

function deepNesting(levels: number): string {
  return "[".repeat(levels) + "]".repeat(levels);
}

function badWebhook(r: ReturnType<typeof rng>): Request {
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
      return new Request(url, { method: "POST", headers, body: validBody });
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
      return new Request(url, { method: "POST", headers: svixHeaders(body), body });
    }
    case 2: {
      // Signed notifications.sent with one broken notification among good ones.
      const notifications: unknown[] = [notification(), notification()];
      notifications.splice(r.int(3), 0, brokenNotification(r));
      const body = JSON.stringify(notificationsSent(notifications as never));
      return new Request(url, { method: "POST", headers: svixHeaders(body), body });
    }
    case 3: {
      // Signed envelopes with data of the wrong type.
      const body = JSON.stringify({ type: "notifications.sent", data: randomValue(r) === null ? null : r.pick([[], "x", 1, { notifications: r.pick([null, "x", 1, {}]) }]) });
      return new Request(url, { method: "POST", headers: svixHeaders(body), body });
    }
    case 4: {
      // Invalid UTF-8 bytes, signed over what the sender thought it sent.
      const bytes = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]);
      return new Request(url, { method: "POST", headers: svixHeaders("{\"\uFFFD\":1}"), body: bytes });
    }
    case 5: {
      // A signature for another body, or from another secret.
      const headers = svixHeaders(r.pick(["{}", validBody + " "]), { secret: r.pick(["whsec_" + btoa("x".repeat(24)), undefined]) });
      return new Request(url, { method: "POST", headers, body: validBody });
    }
    case 6:
      // Wrong method.
      return new Request(url, { method: r.pick(["GET", "PUT", "DELETE", "PATCH"]), headers: svixHeaders(validBody), body: r.pick(["GET"]) === "GET" ? undefined : validBody });
    case 7: {
      // A Content-Length that claims more than the limit.
      return new Request(url, { method: "POST", headers: { "content-length": String(r.pick([10_485_761, 99_999_999])) }, body: "{}" });
    }
    default: {
      // Replayed timestamp: far in the past or the future.
      const timestamp = Math.floor(Date.now() / 1000) + r.pick([-86_400, -301, 301, 86_400 * 365]);
      return new Request(url, { method: "POST", headers: svixHeaders(validBody, { timestamp }), body: validBody });
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
      const request = i % 2 === 0 ? badWebhook(r) : badApiRequest(r);
      const label = `#${i} ${request.method} ${new URL(request.url).pathname.slice(0, 60)}`;
      const response = await app.fetch(request, testEnv);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      expect(response.status, label).toBeGreaterThanOrEqual(400);
      expect(response.status, label).toBeLessThan(500);
      expect(response.headers.get("content-type"), label).toContain("application/json");
      const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
      expect(typeof body.error?.code, label).toBe("string");
      expect(typeof body.error?.message, label).toBe("string");
    }

    expect(queued).toBe(0);
    expect(await deviceCount()).toBe(before);
    // The generator reaches every class of rejection.
    for (const status of [400, 401, 404, 413]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0);
    // 3,000 requests take about 3 s alone and over 5 s on a loaded machine: the default 5 s timeout is not what is tested.
  }, 60_000);
});
