/**
 * OneSignal through the consumer and the stand-in: users with no device in
 * the relay are reached by external id (never both), a queue message's
 * notifications with the same text go in one request, users OneSignal has
 * no subscription for are recorded no_device, the idempotency key holds
 * across a queue retry after a lost answer (one notification at
 * OneSignal), and a missing or refused key waits as a misconfiguration.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { createIsolateMemory } from "../../src/push/credential-cache";
import { createProviders } from "../../src/push/providers";
import { alertOf, eventDeliveries, job, queued, runBatch, seedDevices } from "../support/delivery";
import { fcmToken, uniqueId } from "../support/ids";
import { captureLogs } from "../support/logs";
import { type FreshOneSignalApp, freshOneSignalApp, pushes, requests, script, stats } from "../support/standins";

let logs: ReturnType<typeof captureLogs> | undefined;
afterEach(() => logs?.stop());

function relayWith(app: FreshOneSignalApp, more: Record<string, string> = {}, timeoutMs?: number) {
  const config = { ...app.config, ...more };
  const providers = createProviders({ ...env, ...config } as Env, timeoutMs === undefined ? {} : { timeoutMs }, createIsolateMemory());
  return { config: config as Partial<Env>, providers };
}

describe("OneSignal through the consumer", () => {
  it("reaches users without a device through OneSignal and users with one through their devices, never both", async () => {
    const app = await freshOneSignalApp();
    const [withDevice, subscribed, unsubscribed, unknown] = [uniqueId("emp"), uniqueId("emp"), uniqueId("emp"), uniqueId("emp")];
    const token = fcmToken();
    await seedDevices([{ token, provider: "fcm", custom_id: withDevice, user_id: null }]);
    await app.users([withDevice, subscribed], "subscribed");
    await app.users([unsubscribed], "unsubscribed");
    const relay = relayWith(app);
    const event = job([withDevice, subscribed, unsubscribed, unknown].map((custom_id, i) => queued({ i, custom_id })));
    const { report } = await runBatch([event], { providers: relay.providers }, 1, relay.config);
    expect(report.outcomes).toEqual({ sent: 3, no_device: 1 });

    const ledger = (await eventDeliveries(event.event_id))!.deliveries;
    expect(ledger.map((d) => [d.index, d.provider, d.device_token, d.status, d.error])).toEqual([
      [0, "fcm", token, "sent", null],
      [1, "onesignal", `onesignal:${subscribed}`, "sent", null],
      [2, "onesignal", `onesignal:${unsubscribed}`, "no_device", "invalid_aliases"],
      // OneSignal does not name ids it has never seen when it reached others: recorded as its answer says.
      [3, "onesignal", `onesignal:${unknown}`, "sent", null],
    ]);
    expect(await pushes({ token: withDevice, provider: "onesignal" })).toEqual([]);
    const [push] = await pushes({ token: subscribed, provider: "onesignal" });
    expect(ledger[1]!.provider_id).toBe(push!.provider_id);
    expect(push!.payload).toMatchObject({
      app_id: app.appId,
      target_channel: "push",
      headings: { en: "Time for your training" },
      contents: { en: "Safety 101 is waiting" },
      // The path once: the app builds the tap link from it (OneSignal's data is at most 2,048 bytes).
      data: { path: "/courses/safety-101", event_id: event.event_id },
      idempotency_key: expect.stringMatching(/^[0-9a-f-]{36}$/),
      ttl: 86_400,
    });
    expect(await stats({ app_id: app.appId })).toMatchObject({ onesignal_notifications: 1 });
  });

  it("sends a message's notifications with the same text in one request: three texts, three requests", async () => {
    const app = await freshOneSignalApp();
    const users = Array.from({ length: 30 }, () => uniqueId("emp"));
    await app.users(users, "subscribed");
    const texts = ["Reminder A", "Reminder B", "Reminder C"];
    const event = job(users.map((custom_id, i) => queued({ i, custom_id, title: texts[i % 3]! })));
    const relay = relayWith(app);
    const { report } = await runBatch([event], { providers: relay.providers }, 1, relay.config);
    expect(report.outcomes).toEqual({ sent: 30 });
    expect(await stats({ app_id: app.appId })).toMatchObject({ onesignal_notifications: 3, onesignal_pushes: 30 });
    const recorded = (await Promise.all(users.map((u) => pushes({ token: u, provider: "onesignal" })))).flat();
    const byRequest = new Map<string, string[]>();
    for (const p of recorded) byRequest.set(p.request_id!, [...(byRequest.get(p.request_id!) ?? []), p.title!]);
    expect([...byRequest.values()].map((titles) => [new Set(titles).size, titles.length])).toEqual([
      [1, 10],
      [1, 10],
      [1, 10],
    ]);
  });

  it("sends once when the answer is lost: the queue retry carries the same idempotency key and gets OneSignal's first answer", async () => {
    const app = await freshOneSignalApp();
    const users = [uniqueId("emp"), uniqueId("emp")];
    await app.users(users, "subscribed");
    // OneSignal takes the request but answers after the relay gave up waiting.
    await script(users[0]!, [{ status: 200, delayMs: 1_500 }]);
    const relay = relayWith(app, {}, 300);
    const event = job(users.map((custom_id, i) => queued({ i, custom_id })));
    const first = await runBatch([event], { providers: relay.providers }, 1, relay.config);
    expect(first.report.outcomes).toEqual({ retrying: 2 });
    expect(first.retried.size).toBe(1);

    const later = Date.now() + first.retried.get(first.ids[0]!)! * 1000;
    const second = await runBatch([event], { providers: relay.providers, now: () => later }, 2, relay.config);
    expect(second.report.outcomes).toEqual({ sent: 2 });
    expect(await stats({ app_id: app.appId })).toMatchObject({ onesignal_notifications: 1, onesignal_pushes: 2 });
    expect((await requests(users[1]!)).map((r) => [r.status, r.reason])).toEqual([
      [200, null],
      [200, "idempotent_repeat"],
    ]);
    expect((await eventDeliveries(event.event_id))!.summary).toEqual({ sent: 2 });
  });

  it("uses LearnInk's user_id as the external id when ONESIGNAL_EXTERNAL_ID says so", async () => {
    const app = await freshOneSignalApp();
    const userId = uniqueId("usr");
    await app.users([userId], "subscribed");
    const relay = relayWith(app, { ONESIGNAL_EXTERNAL_ID: "user_id" });
    const event = job([queued({ user_id: userId, custom_id: uniqueId("emp") })]);
    expect((await runBatch([event], { providers: relay.providers }, 1, relay.config)).report.outcomes).toEqual({ sent: 1 });
    expect(await pushes({ token: userId, provider: "onesignal" })).toHaveLength(1);
  });

  it("waits with an alert when the App API key is missing or refused; nothing is lost", async () => {
    const app = await freshOneSignalApp();
    const user = uniqueId("emp");
    await app.users([user], "subscribed");
    const missing = relayWith(app, { ONESIGNAL_API_KEY: "" });
    const first = job([queued({ custom_id: user })]);
    expect((await runBatch([first], { providers: missing.providers }, 1, missing.config)).report.outcomes).toEqual({ retrying: 1 });
    expect((await eventDeliveries(first.event_id))!.deliveries[0]!.error).toBe("provider_misconfigured:ONESIGNAL_API_KEY");

    const refused = relayWith(app, { ONESIGNAL_API_KEY: "os_v2_app_not-the-key" });
    const second = job([queued({ custom_id: user })]);
    expect((await runBatch([second], { providers: refused.providers }, 1, refused.config)).report.outcomes).toEqual({ retrying: 1 });
    expect(await alertOf("provider_misconfigured", "onesignal", "default", "ONESIGNAL_API_KEY")).toMatchObject({ check: expect.stringContaining("Keys & IDs") });
    expect(await pushes({ token: user })).toEqual([]);
  });
});
