/**
 * POST /v1/opens through the Worker: the app's device token reports a tap
 * once (a repeat counts once), only for a notification sent to a device of
 * its own user; the event's deliveries and /v1/stats show it.
 */
import { describe, expect, it } from "vitest";
import { deviceToken, REGISTER_KEY } from "../support/device-tokens";
import { eventDeliveries, fakeProviders, job, queued, registerDevice, relayStats, runBatch } from "../support/delivery";
import { api, fcmToken, uniqueId } from "../support/webhook";

/** A user with one FCM device, an event of two notifications for them (sent) and one for a user without a device. */
async function sentToUser() {
  const customId = uniqueId("emp");
  const token = fcmToken();
  await registerDevice({ provider: "fcm", token, custom_id: customId });
  const event = job([queued({ i: 0, custom_id: customId }), queued({ i: 1, custom_id: customId }), queued({ i: 2, custom_id: uniqueId("nobody") })]);
  await runBatch([event], { providers: fakeProviders() });
  return { customId, token, event, app: await deviceToken({ sub: customId }) };
}

const report = (key: string, json: unknown) => api("/v1/opens", { method: "POST", key, json });

describe("POST /v1/opens", () => {
  it("records the tap once, and the event and the stats show it", async () => {
    const { event, app, token } = await sentToUser();
    const before = await relayStats();
    expect((await report(app, { event_id: event.event_id, index: 0 })).status).toBe(202);
    // A repeat (a retry, a cold start reporting again), with the index as FCM's data carries it: counted once.
    expect((await report(app, { event_id: event.event_id, index: "0" })).status).toBe(204);

    const recorded = (await eventDeliveries(event.event_id))!;
    expect(recorded.summary).toMatchObject({ sent: 2, no_device: 1, opened: 1 });
    const opened = recorded.deliveries.filter((d) => d.opened_at !== null);
    expect(opened.map((d) => [d.index, d.device_token])).toEqual([[0, token]]);
    const after = await relayStats();
    expect(after.opens["1h"] - before.opens["1h"]).toBe(1);
    expect(after.opens["7d"] - before.opens["7d"]).toBe(1);
  });

  it("is refused (404) for another user's notification, one never sent, or one that does not exist", async () => {
    const { event, app } = await sentToUser();
    const stranger = await deviceToken({ sub: uniqueId("stranger") });
    expect((await report(stranger, { event_id: event.event_id, index: 0 })).status).toBe(404);
    expect((await report(app, { event_id: event.event_id, index: 2 })).status).toBe(404);
    expect((await report(app, { event_id: event.event_id, index: 9 })).status).toBe(404);
    expect((await report(app, { event_id: uniqueId("msg"), index: 0 })).status).toBe(404);
    expect((await eventDeliveries(event.event_id))!.summary.opened).toBeUndefined();
  });

  it("answers 400 on the field, and is the app's: a register key may not report", async () => {
    const { event, app } = await sentToUser();
    for (const [json, field] of [
      [{ index: 0 }, "event_id"],
      [{ event_id: event.event_id }, "index"],
      [{ event_id: event.event_id, index: -1 }, "index"],
      [{ event_id: event.event_id, index: 1.5 }, "index"],
    ] as const) {
      const response = await report(app, json);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { field?: string } }).error.field).toBe(field);
    }
    expect((await report(REGISTER_KEY, { event_id: event.event_id, index: 0 })).status).toBe(403);
  });
});
