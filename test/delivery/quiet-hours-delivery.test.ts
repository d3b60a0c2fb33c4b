/**
 * Quiet hours through the consumer, on a test clock: a device whose own
 * clock is inside the window is held (shown as held, with the time it will
 * go) and sent once when the window ends; a device of the same user on
 * another clock, and a device with no clock, are sent at once; neither a
 * repeated webhook nor a replay sends a held push early or twice.
 */
import { describe, expect, it } from "vitest";
import { eventDeliveries, fakeProviders, job, queued, registerDevice, runBatch } from "../support/delivery";
import { api, capturingQueue, fcmToken, uniqueId } from "../support/webhook";

const QUIET = { QUIET_HOURS: "21:00-07:30", DEFAULT_TIME_ZONE: "" };
/** 22:00 in Nairobi (UTC+3), 14:00 in New York. */
const EVENING_IN_NAIROBI = Date.parse("2026-12-07T19:00:00Z");
const MORNING_IN_NAIROBI = Date.parse("2026-12-08T04:30:00Z");


describe("quiet hours", () => {
  it("holds a push inside the window on its device's clock until the window ends, and sends it once", async () => {
    const [traveller, other] = [uniqueId("emp"), uniqueId("emp")];
    const tokens = { nairobi: fcmToken(), newYork: fcmToken(), noClock: fcmToken() };
    await registerDevice({ provider: "fcm", token: tokens.nairobi, custom_id: traveller, time_zone: "Africa/Nairobi" });
    await registerDevice({ provider: "fcm", token: tokens.newYork, custom_id: traveller, time_zone: "America/New_York" });
    await registerDevice({ provider: "fcm", token: tokens.noClock, custom_id: other });
    const event = job([queued({ i: 0, custom_id: traveller }), queued({ i: 1, custom_id: other })]);
    const providers = fakeProviders();
    const { batches, queue } = capturingQueue();
    const sent = () => batches.flat();
    const env = { ...QUIET, PUSH_QUEUE: queue };

    const first = await runBatch([event], { providers, now: () => EVENING_IN_NAIROBI }, 1, env);
    expect(first.report.held).toBe(1);
    expect(providers.fcm.sent.map((m) => m.token).sort()).toEqual([tokens.newYork, tokens.noClock].sort());
    // The held push waits in the message's place until 07:30 in Nairobi.
    expect(first.retried.get(first.ids[0]!)).toBe((MORNING_IN_NAIROBI - EVENING_IN_NAIROBI) / 1000);
    const held = (await eventDeliveries(event.event_id))!;
    expect(held.summary).toEqual({ sent: 2, held: 1 });
    expect(held.deliveries.find((d) => d.device_token === tokens.nairobi)).toMatchObject({
      status: "held",
      attempts: 0,
      error: "quiet_hours",
      next_attempt_at: new Date(MORNING_IN_NAIROBI).toISOString(),
    });
    expect((await api(`/v1/events/${event.event_id}?status=held`).then((r) => r.json()) as { deliveries: unknown[] }).deliveries).toHaveLength(1);

    // A repeated webhook an hour later sends nothing early; a replay has nothing failed to send.
    await runBatch([structuredClone(event)], { providers, now: () => EVENING_IN_NAIROBI + 3_600_000 }, 1, env);
    expect(providers.fcm.sent).toHaveLength(2);
    expect((await api(`/v1/events/${event.event_id}/replay`, { method: "POST" })).status).toBe(200);
    expect(sent()).toEqual([]);

    // The window ends: the message comes back, the held push goes, once.
    const released = await runBatch([event], { providers, now: () => MORNING_IN_NAIROBI }, 2, env);
    expect(released.acked).toEqual(released.ids);
    expect(providers.fcm.sent.map((m) => m.token).sort()).toEqual([tokens.nairobi, tokens.newYork, tokens.noClock].sort());
    expect((await eventDeliveries(event.event_id))!.summary).toEqual({ sent: 3 });
  });

  it("a device without a time_zone is held on DEFAULT_TIME_ZONE's clock; without either it is never held", async () => {
    const customId = uniqueId("emp");
    const token = fcmToken();
    await registerDevice({ provider: "fcm", token, custom_id: customId });
    const providers = fakeProviders();
    const withDefault = await runBatch([job([queued({ custom_id: customId })])], { providers, now: () => EVENING_IN_NAIROBI }, 1, {
      QUIET_HOURS: QUIET.QUIET_HOURS,
      DEFAULT_TIME_ZONE: "Africa/Nairobi",
    });
    expect(withDefault.report.held).toBe(1);
    expect(providers.fcm.sent).toHaveLength(0);
    const without = await runBatch([job([queued({ custom_id: customId })])], { providers, now: () => EVENING_IN_NAIROBI }, 1, QUIET);
    expect(without.report.held).toBe(0);
    expect(providers.fcm.sent).toHaveLength(1);
  });

  it("a held push waits apart from the rest of its message: a retry due in seconds is not held back till morning", async () => {
    const [sleeper, busy] = [uniqueId("emp"), uniqueId("emp")];
    const tokens = { sleeper: fcmToken(), busy: fcmToken() };
    await registerDevice({ provider: "fcm", token: tokens.sleeper, custom_id: sleeper, time_zone: "Africa/Nairobi" });
    await registerDevice({ provider: "fcm", token: tokens.busy, custom_id: busy, time_zone: "America/New_York" });
    const event = job([queued({ i: 0, custom_id: sleeper }), queued({ i: 1, custom_id: busy })]);
    const { batches, queue } = capturingQueue();
    const sent = () => batches.flat();
    const providers = fakeProviders(() => ({ kind: "retry", reason: "UNAVAILABLE" }));
    const run = await runBatch([event], { providers, now: () => EVENING_IN_NAIROBI, random: () => 0 }, 1, { ...QUIET, PUSH_QUEUE: queue });
    expect(run.acked).toEqual(run.ids);
    expect(sent().map((m) => [m.delaySeconds, m.body.notifications.map((n) => n.i)]).sort()).toEqual([
      [15, [1]],
      [(MORNING_IN_NAIROBI - EVENING_IN_NAIROBI) / 1000, [0]],
    ]);
  });
});
