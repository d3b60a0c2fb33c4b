/**
 * Identifiers are stored as they were sent, or refused where they enter.
 * D1 stores UTF-8, and a lone UTF-16 surrogate comes back as U+FFFD, a
 * different key: a notification whose `user_id` or `custom_id` is not
 * well-formed is rejected (the rest of the event goes on), a device whose
 * ids are not is a 400 on the field. `title` and `body` are display text:
 * they are made well-formed instead.
 */
import { describe, expect, it } from "vitest";
import { drainLikeTheQueue, eventDeliveries, ownProviders } from "../support/delivery";
import { type AcceptedJson, api, capturingQueue, errorOf, fcmToken, fetchWith, notification, notificationsSent, signedRequest, uniqueId } from "../support/webhook";

/** The reproducers: each, for a user with no device, once left a delivery `sending` for good. */
const LONE = ["U\ud800U", "\udfff", "\ud800\ud800", "\udc00\ud800"];

describe("identifiers at the webhook", () => {
  it.each(["custom_id", "user_id"] as const)("rejects a %s with a lone surrogate, with the field and a reason; the rest is delivered and nothing stays sending", async (field) => {
    const capture = capturingQueue();
    const eventId = uniqueId("msg");
    const items = [...LONE.map((id) => notification({ [field]: id })), notification()];
    const response = await fetchWith(signedRequest(notificationsSent(items), { id: eventId }), { PUSH_QUEUE: capture.queue });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as AcceptedJson;
    expect(answer).toMatchObject({ queued: 1, rejected: LONE.length });
    for (const rejection of answer.rejections) {
      expect(rejection).toMatchObject({ field, code: "not_well_formed", message: expect.stringContaining("surrogate") });
    }
    expect(capture.notifications().map((n) => n.i)).toEqual([LONE.length]);

    expect(await drainLikeTheQueue(capture.jobs(), { providers: await ownProviders() })).toEqual([]);
    const recorded = await eventDeliveries(eventId);
    expect(recorded!.deliveries.map((d) => d.status).sort()).toEqual([...LONE.map(() => "rejected"), "no_device"].sort());
    // Nothing with U+FFFD stored where the surrogate was: the rejected rows keep no id at all.
    expect(JSON.stringify(recorded)).not.toContain("\uFFFD");
  });

  it("replaces lone surrogates in title and body with U+FFFD and queues the notification", async () => {
    const capture = capturingQueue();
    const items = [notification({ title: "Hi \ud800", body: "\udc00 there \ud83d\ude00" })];
    const response = await fetchWith(signedRequest(notificationsSent(items)), { PUSH_QUEUE: capture.queue });
    expect(((await response.json()) as AcceptedJson).queued).toBe(1);
    expect(capture.notifications()[0]).toMatchObject({ title: "Hi \uFFFD", body: "\uFFFD there \ud83d\ude00" });
  });

  it("rejects a path with a lone surrogate", async () => {
    const capture = capturingQueue();
    const items = [notification({ path: "/courses/\ud800" }), notification()];
    const response = await fetchWith(signedRequest(notificationsSent(items)), { PUSH_QUEUE: capture.queue });
    const answer = (await response.json()) as AcceptedJson;
    expect(answer.rejections[0]).toMatchObject({ index: 0, field: "path", code: "not_well_formed" });
  });
});

describe("identifiers at the device API", () => {
  it.each(["custom_id", "user_id"] as const)("answers 400 on %s with a lone surrogate and stores nothing", async (field) => {
    for (const id of LONE) {
      const response = await api("/v1/devices", { method: "PUT", json: { provider: "fcm", token: fcmToken(), [field]: id } });
      expect(response.status).toBe(400);
      expect(await errorOf(response)).toMatchObject({ code: "invalid_request", field });
    }
  });

  it("answers 400 on a lone surrogate in a device-token request", async () => {
    const mint = await api("/v1/device-tokens", { method: "POST", json: { custom_id: "U\ud800U" } });
    expect(mint.status).toBe(400);
    expect(await errorOf(mint)).toMatchObject({ code: "invalid_request", field: "custom_id" });
  });
});
