/**
 * One bad notification never costs the others: a signed event with a
 * valid envelope is accepted, its invalid notifications are recorded as
 * `rejected` (before anything is queued) and the rest are delivered. Only
 * an event whose every notification is invalid is refused.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { readEvent } from "../../src/db/ledger-reads";
import { MAX_PAYLOAD_BYTES } from "../../src/push/payload";
import { LISTED_REJECTIONS } from "../../src/webhook/route";
import { captureLogs } from "../support/logs";
import { pushes, waitForPushes } from "../support/standins";
import { drainLikeTheQueue, eventDeliveries, ownProviders, rejectedDeliveries, type SeedDevice, seedDevices } from "../support/delivery";
import {
  type AcceptedJson,
  api,
  apnsToken,
  capturingQueue,
  errorOf,
  fcmToken,
  fetchWith,
  notification,
  notificationsSent,
  postWebhook,
  signedRequest,
  uniqueId,
} from "../support/webhook";

const utf8Bytes = (text: string) => new TextEncoder().encode(text).length;

afterEach(() => {
  vi.restoreAllMocks();
});

/** Posts `items` as one signed event through the app with a capturing queue. */
async function post(items: unknown[], overrides: Record<string, unknown> = {}) {
  const capture = capturingQueue();
  const eventId = uniqueId("msg");
  const response = await fetchWith(signedRequest(notificationsSent(items as never, overrides), { id: eventId }), { PUSH_QUEUE: capture.queue });
  return { response, capture, eventId };
}

describe("one bad notification never costs the others", () => {
  it("queues the valid notifications and answers 200 with the counts and each rejection's index, field and code", async () => {
    const items = [
      notification({ title: "ok 0" }),
      { ...notification(), title: null },
      notification({ title: "ok 2" }),
      { ...notification(), body: 42 },
      "not an object",
      { ...notification(), path: "/../other-org" },
      { ...notification(), user_id: "" },
      { ...notification(), custom_id: { id: 1 } },
      { ...notification(), user_id: "u".repeat(257) },
      notification({ title: "ok 9" }),
    ];
    const { response, capture } = await post(items);
    expect(response.status).toBe(200);
    const answer = (await response.json()) as AcceptedJson;
    expect(answer).toMatchObject({ notifications: 10, queued: 3, rejected: 7, messages: 1 });
    expect(answer.rejections.map(({ index, field, code }) => ({ index, field, code }))).toEqual([
      { index: 1, field: "title", code: "required" },
      { index: 3, field: "body", code: "invalid_type" },
      { index: 4, field: null, code: "not_an_object" },
      { index: 5, field: "path", code: "invalid_path" },
      { index: 6, field: "user_id", code: "required" },
      { index: 7, field: "custom_id", code: "invalid_type" },
      { index: 8, field: "user_id", code: "too_long" },
    ]);
    expect(capture.notifications().map((n) => [n.i, n.title])).toEqual([
      [0, "ok 0"],
      [2, "ok 2"],
      [9, "ok 9"],
    ]);
  });

  it("refuses an empty body on that notification alone (OneSignal and Push Kit refuse a push without one); an empty title goes out", async () => {
    const items = [notification({ body: "" }), notification({ body: "  \n" }), notification({ title: "", body: "Only a body" })];
    const { response, capture } = await post(items);
    const answer = (await response.json()) as AcceptedJson;
    expect(answer.rejections.map(({ index, field, code }) => ({ index, field, code }))).toEqual([
      { index: 0, field: "body", code: "required" },
      { index: 1, field: "body", code: "required" },
    ]);
    expect(capture.notifications().map((n) => [n.i, n.title, n.body])).toEqual([[2, "", "Only a body"]]);
  });

  it(`lists the first ${LISTED_REJECTIONS} rejections and counts them all`, async () => {
    const items = [notification(), ...Array.from({ length: 25 }, () => ({ ...notification(), title: 7 }))];
    const { response } = await post(items);
    const answer = (await response.json()) as AcceptedJson;
    expect(answer).toMatchObject({ queued: 1, rejected: 25 });
    expect(answer.rejections.map((r) => r.index)).toEqual(Array.from({ length: LISTED_REJECTIONS }, (_, k) => k + 1));
  });

  it("never rejects for phone_number (any type) or for fields it does not know, and never queues the phone number", async () => {
    const items = [
      { ...notification(), phone_number: 5555550100 },
      { ...notification(), phone_number: { country: "+1", number: "5555550100" } },
      { ...notification(), phone_number: ["+15555550100"] },
      { ...notification(), phone_number: undefined },
      { ...notification(), locale: "de", priority: 5, image: { url: "https://x" }, data: [1, 2] },
    ];
    const { response, capture } = await post(items);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ queued: 5, rejected: 0, rejections: [] });
    const queued = JSON.stringify(capture.jobs());
    expect(queued).not.toContain("5555550100");
    expect(queued).not.toContain("locale");
  });

  it("takes whole-number ids as their decimal text, and refuses numbers that may have lost digits", async () => {
    const items = [
      { ...notification(), user_id: 12345, custom_id: 0 },
      { ...notification(), user_id: "li-1", custom_id: 9007199254740991 },
      { ...notification(), user_id: -7, custom_id: "" },
      { ...notification(), user_id: "li-2", custom_id: 9007199254740992 },
      { ...notification(), user_id: 12.5 },
      { ...notification(), user_id: true },
    ];
    const { response, capture } = await post(items);
    const answer = (await response.json()) as AcceptedJson;
    expect(capture.notifications().map((n) => [n.user_id, n.custom_id])).toEqual([
      ["12345", "0"],
      ["li-1", "9007199254740991"],
      ["-7", null],
    ]);
    expect(answer.rejections.map(({ index, field, code }) => ({ index, field, code }))).toEqual([
      { index: 3, field: "custom_id", code: "invalid_type" },
      { index: 4, field: "user_id", code: "invalid_type" },
      { index: 5, field: "user_id", code: "invalid_type" },
    ]);
  });

  it("does not reject over-long text: it queues at most what a 4 KB push can show, cut like the push cuts it", async () => {
    const title = "Ünïcödé title 学".repeat(1_000);
    const body = "👨‍👩‍👧 family body ".repeat(100_000);
    const { response, capture } = await post([notification({ title, body })]);
    expect(response.status).toBe(200);
    const [queued] = capture.notifications();
    for (const [sent, original] of [
      [queued!.title, title],
      [queued!.body, body],
    ] as const) {
      expect(utf8Bytes(sent)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
      expect(utf8Bytes(sent)).toBeGreaterThan(MAX_PAYLOAD_BYTES - 40);
      expect(sent.endsWith("…")).toBe(true);
      expect(original.startsWith(sent.slice(0, -1))).toBe(true);
    }
    // One message, far below the 128 KB queue limit.
    expect(utf8Bytes(JSON.stringify(capture.jobs()[0]))).toBeLessThan(20_000);
  }, 30_000);

  it("keeps a notification of worst-case text (4 KB of characters JSON escapes six-fold) inside one queue message", async () => {
    const control = "\u0001".repeat(50_000);
    const items = Array.from({ length: 3 }, () => notification({ title: control, body: control }));
    const { response, capture } = await post(items);
    expect(response.status).toBe(200);
    for (const job of capture.jobs()) expect(utf8Bytes(JSON.stringify(job))).toBeLessThan(120_000);
    expect(capture.notifications()).toHaveLength(3);
  }, 30_000);

  it("accepts another api_version when the event validates, with a warning log line", async () => {
    const logs = captureLogs();
    const { response, eventId } = await post([notification()], { api_version: "2031-01-01" });
    expect(response.status).toBe(200);
    expect(logs.lines()).toContainEqual(
      expect.objectContaining({ event: "webhook_api_version", level: "warn", svix_id: eventId, api_version: "2031-01-01", expected: "2022-11-15" }),
    );
    const quiet = captureLogs();
    await post([notification()]);
    expect(quiet.lines().filter((l) => l.event === "webhook_api_version")).toEqual([]);
  });

  it("logs an accepted event with rejections as a warning naming the first one, never the rejected value", async () => {
    const logs = captureLogs();
    const { eventId } = await post([notification(), { ...notification(), path: "/x?token=s3cr3t-sign-in" }]);
    const line = logs.lines().find((l) => l.event === "webhook_accepted" && l.svix_id === eventId);
    expect(line).toMatchObject({ level: "warn", queued: 1, rejected: 1 });
    expect(String(line!.first_rejection)).toContain("data.notifications[1].path: invalid_path");
    expect(logs.raw.join("\n")).not.toContain("s3cr3t");
  });
});

describe("an event whose every notification is invalid", () => {
  it("answers 400 invalid_event naming the first, and queues nothing", async () => {
    const items = [{ ...notification(), title: 1 }, { ...notification(), path: "//evil.example" }, null];
    const { response, capture } = await post(items);
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error).toMatchObject({ code: "invalid_event", field: "data.notifications[0].title" });
    expect(error.message).toContain("every one of the 3 notifications");
    expect(capture.batches).toHaveLength(0);
  });
});

type Stats = { deliveries: Record<string, Record<string, Record<string, number>>> };
const rejectedInStats = async () => ((await (await api("/v1/stats")).json()) as Stats).deliveries["1h"]?.none?.rejected ?? 0;

/** A D1 binding whose every call fails, as during a D1 outage. */
const failingD1 = {
  prepare: () => {
    throw new Error("D1 is unavailable");
  },
  batch: () => Promise.reject(new Error("D1 is unavailable")),
} as unknown as D1Database;

describe("through the runtime: the webhook, D1, the consumer, stand-in FCM and APNs", () => {
  it("an event of 1,000 with 3 invalid notifications delivers 997 and records 3 rejected, in the event and in the stats", async () => {
    const run = uniqueId("run");
    const devices: SeedDevice[] = Array.from({ length: 1_000 }, (_, i) => ({
      token: i % 2 === 0 ? fcmToken() : apnsToken(),
      provider: i % 2 === 0 ? "fcm" : "apns",
      custom_id: `${run}-${i}`,
      user_id: null,
    }));
    await seedDevices(devices);
    const items: unknown[] = devices.map((d, i) =>
      // Fields the relay drops or does not know never reject: a numeric phone number, an unknown field.
      notification({ custom_id: d.custom_id, title: `Reminder ${i}`, ...(i % 10 === 0 ? { phone_number: 15555550100 as never, locale: "de" } : {}) }),
    );
    items[17] = { ...(items[17] as object), title: null };
    items[500] = { ...(items[500] as object), path: "/courses?token=s3cr3t-sign-in" };
    items[999] = { ...(items[999] as object), user_id: { id: 1 } };
    const statsBefore = await rejectedInStats();

    const eventId = uniqueId("msg");
    const capture = capturingQueue();
    const response = await fetchWith(signedRequest(notificationsSent(items as never), { id: eventId }), { PUSH_QUEUE: capture.queue });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as AcceptedJson;
    expect(answer).toMatchObject({ notifications: 1_000, queued: 997, rejected: 3 });
    expect(answer.rejections.map(({ index, field, code }) => ({ index, field, code }))).toEqual([
      { index: 17, field: "title", code: "required" },
      { index: 500, field: "path", code: "invalid_path" },
      { index: 999, field: "user_id", code: "invalid_type" },
    ]);

    // The consumer, as the queue would run it, with providers of their own (an APNs key shared
    // with other test files would rotate its JWT faster than APNs allows).
    expect(await drainLikeTheQueue(capture.jobs(), { providers: await ownProviders() })).toEqual([]);
    const arrived = await pushes({ event_id: eventId });
    expect(arrived).toHaveLength(997);
    const rejectedTokens = new Set([17, 500, 999].map((i) => devices[i]!.token));
    expect(new Set(arrived.map((p) => p.token)).size).toBe(997);
    expect(arrived.filter((p) => rejectedTokens.has(p.token))).toEqual([]);

    expect((await eventDeliveries(eventId))!.summary).toEqual({ sent: 997, rejected: 3 });
    const rejected = await rejectedDeliveries(eventId);
    expect(rejected).toEqual([
      expect.objectContaining({ index: 17, status: "rejected", error: expect.stringMatching(/^data\.notifications\[17\]\.title: /), custom_id: devices[17]!.custom_id }),
      // The path that carried a token is not kept: the ledger never holds a sign-in token.
      expect.objectContaining({ index: 500, status: "rejected", error: expect.stringMatching(/^data\.notifications\[500\]\.path: /), path: null }),
      expect.objectContaining({ index: 999, status: "rejected", error: expect.stringMatching(/^data\.notifications\[999\]\.user_id: /), user_id: null }),
    ]);
    expect(JSON.stringify(rejected)).not.toContain("s3cr3t");
    expect((await rejectedInStats()) - statsBefore).toBe(3);
  }, 120_000);

  it("answers 400 to an event whose every notification is invalid: nothing queued, nothing recorded", async () => {
    const capture = capturingQueue();
    const eventId = uniqueId("msg");
    const items = [{ ...notification(), title: 5 }, { ...notification(), path: "/%2e%2e/x" }];
    const response = await fetchWith(signedRequest(notificationsSent(items as never), { id: eventId }), { PUSH_QUEUE: capture.queue });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe("invalid_event");
    expect(capture.batches).toHaveLength(0);
    expect((await api(`/v1/events/${eventId}`)).status).toBe(404);
    expect((await readEvent(env.DB, eventId, Date.now())).entries).toEqual([]);
  });

  it("answers 503 ledger_unavailable and queues nothing when D1 cannot record the rejections; Svix's retry records them once", async () => {
    const eventId = uniqueId("msg");
    const event = notificationsSent([notification(), { ...notification(), body: [] } as never]);
    const down = capturingQueue();
    const refused = await fetchWith(signedRequest(event, { id: eventId }), { PUSH_QUEUE: down.queue, DB: failingD1 });
    expect(refused.status).toBe(503);
    expect((await errorOf(refused)).code).toBe("ledger_unavailable");
    expect(down.batches).toHaveLength(0);

    // Svix retries (same svix-id), twice: the rejection is recorded once, the valid notification queued each time (the ledger dedups sends).
    for (let attempt = 0; attempt < 2; attempt++) {
      const capture = capturingQueue();
      const accepted = await fetchWith(signedRequest(event, { id: eventId }), { PUSH_QUEUE: capture.queue });
      expect(accepted.status).toBe(200);
      expect(capture.notifications().map((n) => n.i)).toEqual([0]);
    }
    expect(await rejectedDeliveries(eventId)).toEqual([expect.objectContaining({ index: 1, status: "rejected" })]);
  });

  it("needs no D1 when nothing is rejected", async () => {
    const capture = capturingQueue();
    const response = await fetchWith(signedRequest(notificationsSent([notification()])), { PUSH_QUEUE: capture.queue, DB: failingD1 });
    expect(response.status).toBe(200);
    expect(capture.notifications()).toHaveLength(1);
  });

  it("delivers notifications with a numeric phone_number, numeric ids and unknown fields (webhook, queue, consumer, stand-in FCM)", async () => {
    const customId = 4_200_000 + Math.floor(Math.random() * 1_000_000);
    const token = fcmToken();
    await seedDevices([{ token, provider: "fcm", custom_id: String(customId), user_id: null }]);
    const eventId = uniqueId("msg");
    const response = await postWebhook(
      notificationsSent([{ ...notification(), custom_id: customId, user_id: 77, phone_number: 15555550100, team: { id: 3 } } as never]),
      { id: eventId },
    );
    expect(await response.json()).toMatchObject({ queued: 1, rejected: 0 });
    const [push] = await waitForPushes({ event_id: eventId }, 1, 15_000);
    expect(push!.token).toBe(token);
    expect(JSON.stringify(push!.payload)).not.toContain("5555550100");
    expect(await pushes({ event_id: eventId })).toHaveLength(1);
  }, 30_000);
});
