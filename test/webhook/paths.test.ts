/**
 * Tap links stay inside the organisation: every way a `path` could lead
 * elsewhere or bring a sign-in token along is rejected at the webhook, and
 * the link builder itself refuses it too. Paths that can never fit a
 * 4,096-byte push are rejected at the webhook, not failed at send time.
 */
import { describe, expect, it } from "vitest";
import { LINK_ORIGIN, tapLink, UnsafePathError } from "../../src/link";
import { ConfigurationError } from "../../src/errors";
import { pathFit } from "../../src/push/room";
import { pushes } from "../support/standins";
import {
  drainLikeTheQueue,
  eventDeliveries,
  job,
  ownProviders,
  queued,
  registerDevice,
  rejectedDeliveries,
  runBatch,
} from "../support/delivery";
import {
  type AcceptedJson,
  apnsToken,
  capturingQueue,
  fetchWith,
  notification,
  notificationsSent,
  signedRequest,
  uniqueId,
} from "../support/webhook";

const ORG = "acme";
const PREFIX = `${LINK_ORIGIN}/${ORG}/`;

/** Paths that must never become a link, each with what it tries. */
const UNSAFE: [string, string][] = [
  ["no leading slash", "courses/1"],
  ["a URL with a scheme", "https://evil.example/x"],
  ["javascript:", "javascript:alert(1)"],
  ["//host", "//evil.example/x"],
  ["//host, percent-encoded", "/%2F%2Fevil.example"],
  ["/%2fhost, lower case", "/%2fevil.example"],
  ["a .. segment", "/../other-org/courses"],
  ["a .. segment deeper", "/courses/../../other-org"],
  ["a trailing .. segment", "/courses/.."],
  ["%2e%2e", "/%2e%2e/other-org"],
  ["%2E%2E", "/%2E%2E/other-org"],
  [".%2e", "/.%2e/other-org"],
  ["%2e.", "/%2e./other-org"],
  ["double-encoded %252e%252e", "/%252e%252e/other-org"],
  ["an encoded slash around ..", "/courses%2F..%2F..%2Fother-org"],
  ["..;", "/..;/other-org"],
  ["a backslash", "/courses\\..\\other-org"],
  ["a leading backslash", "/\\evil.example"],
  ["an encoded backslash", "/%5Cevil.example"],
  ["a newline", "/courses\nSet-Cookie: x=1"],
  ["an encoded CR LF", "/courses%0d%0aSet-Cookie:%20x=1"],
  ["a NUL", "/courses\u0000"],
  ["an encoded NUL", "/courses%00"],
  ["a tab", "/cour\tses"],
  ["a C1 control", "/courses\u0085"],
  ["DEL", "/courses\u007f"],
  ["a token parameter", "/courses?token=Sekr3t-V4lue"],
  ["TOKEN in capitals", "/courses?TOKEN=Sekr3t-V4lue"],
  ["Token after another parameter", "/courses?step=2&Token=Sekr3t-V4lue"],
  ["a percent-encoded token name", "/courses?%74oken=Sekr3t-V4lue"],
  ["a double-encoded token name", "/courses?%2574oken=Sekr3t-V4lue"],
  ["a token behind an encoded ?", "/courses%3Ftoken=Sekr3t-V4lue"],
  ["a token behind an encoded &", "/courses?step=2%26token%3DSekr3t-V4lue"],
  ["a token in the fragment", "/courses#token=Sekr3t-V4lue"],
  ["a token after ;", "/courses;token=Sekr3t-V4lue"],
  ["a token without a value", "/courses?token"],
];

/** Paths that are fine, and the link each becomes. */
const SAFE: [string, string][] = [
  ["/courses/safety-101", `${PREFIX}courses/safety-101?webview=true`],
  ["/", `${PREFIX}?webview=true`],
  ["/courses/fire?step=2", `${PREFIX}courses/fire?step=2&webview=true`],
  ["/courses/fire#part-2", `${PREFIX}courses/fire?webview=true#part-2`],
  ["/a..b/c.", `${PREFIX}a..b/c.?webview=true`],
  ["/./courses", `${PREFIX}courses?webview=true`],
  ["/tokens/1?tokenize=yes&my_token=no", `${PREFIX}tokens/1?tokenize=yes&my_token=no&webview=true`],
  ["/search?q=100%", `${PREFIX}search?q=100%25&webview=true`],
  ["/cours/é 1", `${PREFIX}cours/%C3%A9%201?webview=true`],
  ["/cours/%C3%A9", `${PREFIX}cours/%C3%A9?webview=true`],
  ["/a//b", `${PREFIX}a//b?webview=true`],
];

/** The link checks every safe path passes, restated independently of the builder. */
function expectInsideOrganisation(link: string) {
  expect(link.startsWith(PREFIX)).toBe(true);
  const url = new URL(link);
  expect(url.origin).toBe(LINK_ORIGIN);
  expect(url.pathname.startsWith(`/${ORG}/`)).toBe(true);
  expect([...url.searchParams.keys()].map((k) => k.toLowerCase())).not.toContain("token");
}

describe("tap links: the link builder", () => {
  it.each(UNSAFE)("refuses %s", (_label, path) => {
    let thrown: unknown;
    try {
      tapLink(ORG, path);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UnsafePathError);
    expect((thrown as UnsafePathError).code).toBe("invalid_path");
    // The message never repeats the path: it may be a token.
    expect((thrown as UnsafePathError).message).not.toContain("Sekr3t-V4lue");
  });

  it.each(SAFE)("builds %j", (path, link) => {
    expect(tapLink(ORG, path)).toBe(link);
    expectInsideOrganisation(link);
  });

  it.each([[""], ["."], [".."], [undefined]])("refuses the org id %j as a configuration error", (orgId) => {
    expect(() => tapLink(orgId, "/courses")).toThrow(ConfigurationError);
  });

  it("encodes an org id so it stays one segment", () => {
    expect(tapLink("a/../b", "/x")).toBe(`${LINK_ORIGIN}/a%2F..%2Fb/x?webview=true`);
  });

  it("never builds a link outside the organisation or with a token, for 20,000 generated paths", () => {
    const pieces = ["/", "//", "..", ".", "%2e", "%2E", "%252e", "%2f", "%5c", "\\", "?", "#", "&", ";", "=", "token", "TOKEN", "%74oken", "a", "é", "%", "%0a", "\t", ":", "@", "evil.example", "https:", "%3f", "%26", "%3d"];
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    let built = 0;
    for (let i = 0; i < 20_000; i++) {
      const path = "/" + Array.from({ length: 1 + random(8) }, () => pieces[random(pieces.length)]).join("");
      let link: string;
      try {
        link = tapLink(ORG, path);
      } catch (error) {
        expect(error, path).toBeInstanceOf(UnsafePathError);
        continue;
      }
      built++;
      expect(link.startsWith(PREFIX), `${path} -> ${link}`).toBe(true);
      const url = new URL(link);
      expect(url.host, path).toBe("m.learn.ink");
      // Nothing a later decode could turn into a way out or a token.
      const decoded = decodeURIComponent(url.pathname.replace(/%(?![0-9a-f]{2})/gi, "%25"));
      expect(decoded.split("/"), path).not.toContain("..");
      expect(/[?&;#]token(?=[=&;#]|$)/i.test(decodeURIComponent(url.search.replace(/%(?![0-9a-f]{2})/gi, "%25"))), path).toBe(false);
    }
    // The generator reaches both sides.
    expect(built).toBeGreaterThan(1_000);
  });
});

/** Token-named parameters a lenient reader still reads as `token`: refused at the webhook in every spelling. */
const TOKEN_SPELLINGS: [string, string][] = [
  ["token[]", "/courses?token[]=Sekr3t-V4lue"],
  ["token[0]", "/courses?step=2&token[0]=Sekr3t-V4lue"],
  ["an encoded trailing space", "/courses?Token%20=Sekr3t-V4lue"],
  ["a plus for a space", "/courses?token+=Sekr3t-V4lue"],
  ["a leading space", "/courses?%20token=Sekr3t-V4lue"],
  ["encoded brackets", "/courses?token%5B%5D=Sekr3t-V4lue"],
  ["fullwidth letters", "/courses?\uFF54\uFF4F\uFF4B\uFF45\uFF4E=Sekr3t-V4lue"],
  ["UTF-8 escapes of fullwidth letters", "/courses?%EF%BD%94oken=Sekr3t-V4lue"],
  ["a fragment's query", "/courses#/step?TOKEN[]=Sekr3t-V4lue"],
];

describe("tap links: token-named parameters in every spelling", () => {
  it.each(TOKEN_SPELLINGS)("rejects %s at the webhook as invalid_path", async (_label, path) => {
    const capture = capturingQueue();
    const items = [notification({ path }), notification()];
    const response = await fetchWith(signedRequest(notificationsSent(items)), { PUSH_QUEUE: capture.queue });
    const answer = (await response.json()) as AcceptedJson;
    expect(answer).toMatchObject({ queued: 1, rejected: 1 });
    expect(answer.rejections[0]).toMatchObject({ index: 0, field: "path", code: "invalid_path" });
    expect(JSON.stringify(answer)).not.toContain("Sekr3t-V4lue");
  });
});

describe("tap links: through the webhook", () => {
  it("rejects every unsafe path as invalid_path, records each in the ledger without the path, and queues the safe ones as they came", async () => {
    const capture = capturingQueue();
    const eventId = uniqueId("msg");
    const items = [...UNSAFE.map(([, path]) => path), ...SAFE.map(([path]) => path)].map((path) => notification({ path }));
    const response = await fetchWith(signedRequest(notificationsSent(items), { id: eventId }), { PUSH_QUEUE: capture.queue });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as AcceptedJson;
    expect(answer).toMatchObject({ notifications: items.length, queued: SAFE.length, rejected: UNSAFE.length });
    for (const rejection of answer.rejections) expect(rejection).toMatchObject({ field: "path", code: "invalid_path" });
    expect(answer.rejections.map((r) => r.index)).toEqual(UNSAFE.slice(0, answer.rejections.length).map((_, i) => i));
    expect(capture.notifications().map((n) => n.path)).toEqual(SAFE.map(([path]) => path));
    expect(capture.notifications().map((n) => n.i)).toEqual(SAFE.map((_, k) => UNSAFE.length + k));

    const rejected = await rejectedDeliveries(eventId);
    expect(rejected.map((r) => r.index)).toEqual(UNSAFE.map((_, i) => i));
    for (const row of rejected) {
      expect(row).toMatchObject({ status: "rejected", path: null, error: expect.stringMatching(/^data\.notifications\[\d+\]\.path: /) });
    }
    expect(JSON.stringify(rejected)).not.toContain("Sekr3t-V4lue");
  });

  it("delivers safe paths with links inside the organisation (the consumer, stand-in APNs)", async () => {
    const users = SAFE.map(() => uniqueId("emp"));
    const tokens = users.map(() => apnsToken());
    for (const [k, custom_id] of users.entries()) await registerDevice({ provider: "apns", token: tokens[k]!, custom_id });
    const capture = capturingQueue();
    const eventId = uniqueId("msg");
    const event = notificationsSent([
      notification({ path: "/../other-org", custom_id: users[0]! }),
      ...SAFE.map(([path], k) => notification({ path, custom_id: users[k]! })),
    ]);
    expect((await fetchWith(signedRequest(event, { id: eventId }), { PUSH_QUEUE: capture.queue })).status).toBe(200);
    // Providers with an APNs key of their own: test files sharing one would rotate its JWT faster than APNs allows.
    expect(await drainLikeTheQueue(capture.jobs(), { providers: await ownProviders() })).toEqual([]);
    const arrived = await pushes({ event_id: eventId });
    expect(arrived).toHaveLength(SAFE.length);
    const byToken = new Map(arrived.map((p) => [p.token, p]));
    for (const [k, [path, link]] of SAFE.entries()) expect(byToken.get(tokens[k]!), path).toMatchObject({ path, url: link });
  }, 30_000);
});

describe("tap links: the consumer refuses what reached the queue anyway", () => {
  it("fails an unsafe path as invalid_path without pushing or retrying", async () => {
    const custom_id = uniqueId("emp");
    const token = apnsToken();
    await registerDevice({ provider: "apns", token, custom_id });
    const message = job([queued({ i: 0, custom_id, path: "/%2e%2e/other-org?token=abc" })]);
    const run = await runBatch([message], { providers: await ownProviders() });
    expect(run.retried.size).toBe(0);
    expect(run.acked).toEqual(run.ids);
    const recorded = await eventDeliveries(message.event_id);
    expect(recorded!.deliveries).toMatchObject([{ device_token: token, status: "failed", error: "invalid_path" }]);
    expect(await pushes({ event_id: message.event_id })).toEqual([]);
  });
});

describe("paths too long for a 4 KB push", () => {
  /** The longest `/xxx…` path the webhook accepts for an event, found through the same measure it uses. */
  function longestPath(eventId: string, unit: string): string {
    const fits = pathFit(eventId, Date.now());
    let path = "/";
    while (fits(path + unit, tapLink(ORG, path + unit)) === null) path += unit;
    return path;
  }

  it.each([
    ["ASCII", "a"],
    ["CJK (3 bytes, 9 in the link)", "学"],
  ])("accepts the longest %s path that fits, delivers it within 4,096 bytes, and rejects one character more", async (_label, unit) => {
    const custom_id = uniqueId("emp");
    // A very long FCM token (the token is not part of what FCM counts) and an APNs token: both pushes must fit.
    const fcm = `${uniqueId("fcm")}:${"x".repeat(4_000)}`.slice(0, 4_000);
    const apns = apnsToken();
    await registerDevice({ provider: "fcm", token: fcm, custom_id });
    await registerDevice({ provider: "apns", token: apns, custom_id });
    const eventId = uniqueId("msg");
    const longest = longestPath(eventId, unit);
    expect(longest.length).toBeGreaterThan(unit === "a" ? 1_500 : 150);

    const event = notificationsSent([
      notification({ path: longest + unit, custom_id }),
      notification({ path: longest, custom_id, title: "T".repeat(5_000), body: "B".repeat(5_000) }),
    ]);
    const capture = capturingQueue();
    const response = await fetchWith(signedRequest(event, { id: eventId }), { PUSH_QUEUE: capture.queue });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as AcceptedJson;
    expect(answer).toMatchObject({ queued: 1, rejected: 1 });
    expect(answer.rejections).toEqual([{ index: 0, field: "path", code: "too_large", message: expect.any(String) }]);
    expect(await drainLikeTheQueue(capture.jobs(), { providers: await ownProviders() })).toEqual([]);

    const arrived = await pushes({ event_id: eventId });
    expect(arrived.map((p) => p.token).sort()).toEqual([fcm, apns].sort());
    for (const push of arrived) {
      expect(push.path).toBe(longest);
      // What each provider counts: APNs the whole payload, FCM the notification and data it delivers.
      const { message } = push.payload as { message?: { notification: unknown; data: unknown } };
      const counted = message ? { notification: message.notification, data: message.data } : push.payload;
      expect(new TextEncoder().encode(JSON.stringify(counted)).length).toBeLessThanOrEqual(4_096);
      // Never cut to an alert without text.
      expect(push.title).toMatch(/^T+…$/);
    }
  }, 30_000);
});
