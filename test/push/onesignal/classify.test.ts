/**
 * OneSignal's answers as a result per user (table tests), and the
 * idempotency key: a name-based UUID of the event and the notifications.
 */
import { describe, expect, it } from "vitest";
import { classifyOneSignal } from "../../../src/push/onesignal/classify";
import { idempotencyKey, uuidV5 } from "../../../src/push/onesignal/idempotency";

const users = ["u1", "u2", "u3"];
const classify = (status: number, body: unknown, headers: Record<string, string> = {}) => classifyOneSignal({ status, headers: new Headers(headers), body }, users, Date.now());

describe("classifyOneSignal", () => {
  it("sends to everyone of a 200 with an id", () => {
    expect(classify(200, { id: "n-1", external_id: null })).toEqual(users.map(() => ({ kind: "sent", id: "n-1" })));
  });

  it("records users named in errors.invalid_aliases as no_device, the rest as sent", () => {
    expect(classify(200, { id: "n-1", errors: { invalid_aliases: { external_id: ["u2"] } } })).toEqual([
      { kind: "sent", id: "n-1" },
      { kind: "no_device", reason: "invalid_aliases" },
      { kind: "sent", id: "n-1" },
    ]);
  });

  it("records everyone as no_device when no notification was created", () => {
    expect(classify(200, { id: "", errors: { invalid_aliases: { external_id: ["u1"] } } })).toEqual([
      { kind: "no_device", reason: "invalid_aliases" },
      { kind: "no_device", reason: "invalid_aliases" },
      { kind: "no_device", reason: "invalid_aliases" },
    ]);
    expect(classify(200, { id: "", errors: ["All included players are not subscribed"] })).toEqual(
      users.map(() => ({ kind: "no_device", reason: "onesignal_no_subscribers" })),
    );
    expect(classify(200, {})).toEqual(users.map(() => ({ kind: "no_device", reason: "onesignal_no_subscribers" })));
  });

  it.each([
    [429, { errors: ["API rate limit exceeded"] }, { "retry-after": "9" }, { kind: "retry", reason: "onesignal_429", retryAfter: 9 }],
    [500, { errors: ["Internal Server Error"] }, {}, { kind: "retry", reason: "onesignal_500" }],
    [403, { errors: ["Access denied."] }, {}, { kind: "misconfigured", reason: "ONESIGNAL_API_KEY" }],
    [401, "", {}, { kind: "misconfigured", reason: "ONESIGNAL_API_KEY" }],
    [400, { errors: ["app_id not found. You may be missing a Content-Type: application/json header."] }, {}, { kind: "misconfigured", reason: "ONESIGNAL_APP_ID" }],
    [400, { errors: ["Notification contents must include English (en) content"] }, {}, { kind: "failed", reason: "onesignal_400" }],
  ])("%s %j", (status, body, headers, result) => {
    expect(classify(status, body, headers)).toEqual(users.map(() => result));
  });
});

describe("idempotencyKey", () => {
  it("is a standard version-5 UUID", async () => {
    // RFC 9562's name-based example namespace (DNS) and a well-known name.
    expect(await uuidV5("python.org", "6ba7b810-9dad-11d1-80b4-00c04fd430c8")).toBe("886313e1-3b8a-5372-9b90-0c9aee199e5d");
  });

  it("depends on the event and the set of notifications only", async () => {
    const key = await idempotencyKey("msg_1", [3, 1, 2]);
    expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await idempotencyKey("msg_1", [1, 2, 3, 3])).toBe(key);
    expect(await idempotencyKey("msg_1", [1, 2])).not.toBe(key);
    expect(await idempotencyKey("msg_2", [1, 2, 3])).not.toBe(key);
  });
});
