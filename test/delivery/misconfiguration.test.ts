/**
 * A wrong setting never deletes devices: the stand-ins answer what a wrong
 * service account or bundle id gets for every token, through the real
 * providers. Devices stay, deliveries wait for a fix, one error line per
 * batch and alarm, an alert in GET /v1/stats; once fixed, the retry
 * delivers and the alert clears; what ran out of retries is replayed.
 */
import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { consumeDeadLetters } from "../../src/delivery/dead-letter";
import { app as relay } from "../../src/app";
import { createProviders } from "../../src/push/providers";
import type { PushJob } from "../../src/queue/message";
import { captureLogs } from "../support/logs";
import {
  alertOf,
  appsFor,
  eventDeliveries,
  fakeProviders,
  job,
  ownProviders,
  queued,
  runBatch,
  seedDevices,
} from "../support/delivery";
import { failRate, pushes } from "../support/standins";
import { hex, uniqueId } from "../support/ids";
import { api, API_KEY, RELAY } from "../support/webhook";

const HOUR = 3_600_000;
let logs: ReturnType<typeof captureLogs> | undefined;
afterEach(() => logs?.stop());

/** `count` users with one device each, all tokens under one prefix (so a stand-in fault can cover them), in an app of their own. */
async function usersWithDevices(provider: "fcm" | "apns", count: number, platform?: "ios" | "android") {
  const app = uniqueId("app");
  const prefix = provider === "fcm" ? uniqueId("cfg") : hex(8);
  const users = Array.from({ length: count }, (_, i) => ({
    custom_id: uniqueId("emp"),
    token: provider === "fcm" ? `${prefix}-${i}:APA91b${"x".repeat(60)}` : `${prefix}${i.toString(16).padStart(48, "0")}`,
  }));
  await seedDevices(users.map((u) => ({ ...u, provider, user_id: null, app, ...(platform ? { platform } : {}) })));
  const event = job(users.map((u, i) => queued({ i, custom_id: u.custom_id })));
  return { app, prefix, users, event };
}

async function deviceCount(tokens: readonly string[]): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM devices WHERE token IN (SELECT value FROM json_each(?1))")
    .bind(JSON.stringify(tokens))
    .first<{ n: number }>();
  return row!.n;
}

describe("a wrong setting deletes nothing", () => {
  it("FCM SENDER_ID_MISMATCH for every token: devices kept, one alert line, the alert in stats; the fix delivers and clears it", async () => {
    const { app, prefix, users, event } = await usersWithDevices("fcm", 5);
    const tokens = users.map((u) => u.token);
    await failRate({ rate: 1, preset: "sender_id_mismatch", token_prefix: prefix });
    const providers = await ownProviders({}, [app]);

    logs = captureLogs();
    const first = await runBatch([event], { providers });
    logs.stop();
    expect(first.report.d1RoundTrips).toBe(3);
    expect(await deviceCount(tokens)).toBe(5);
    expect(first.retried.get(first.ids[0]!)).toBeGreaterThan(0);
    const recorded = (await eventDeliveries(event.event_id))!;
    expect(recorded.summary).toEqual({ retrying: 5 });
    for (const d of recorded.deliveries) expect(d.error).toBe("provider_misconfigured:SENDER_ID_MISMATCH");
    expect(logs.errors()).toEqual([
      expect.objectContaining({ event: "alert", kind: "provider_misconfigured", provider: "fcm", app, reason: "SENDER_ID_MISMATCH", answers: 5, total: 5 }),
    ]);
    const alert = await alertOf("provider_misconfigured", "fcm", app, "SENDER_ID_MISMATCH");
    expect(alert).toMatchObject({ count: 5, last_event_id: event.event_id, check: expect.stringContaining("FCM_SERVICE_ACCOUNT") });
    expect(Date.parse(alert!.since)).toBeGreaterThan(Date.now() - 60_000);

    // A second batch counts on the same alert; since stays.
    const sameApp = job([queued({ custom_id: users[0]!.custom_id })]);
    await runBatch([sameApp], { providers });
    expect(await alertOf("provider_misconfigured", "fcm", app, "SENDER_ID_MISMATCH")).toMatchObject({ count: 6, since: alert!.since });

    // The operator fixes the service account: the next retries deliver and clear the alert.
    await failRate({ rate: 0, token_prefix: prefix });
    logs = captureLogs();
    const later = Date.now() + HOUR;
    const fixed = await runBatch([event, sameApp], { providers, now: () => later }, 2);
    logs.stop();
    expect(fixed.acked).toEqual(fixed.ids);
    expect((await eventDeliveries(event.event_id))!.summary).toEqual({ sent: 5 });
    expect((await pushes({ event_id: event.event_id })).map((p) => p.token).sort()).toEqual([...tokens].sort());
    expect(await alertOf("provider_misconfigured", "fcm", app)).toBeUndefined();
    expect(logs.lines()).toContainEqual(expect.objectContaining({ event: "alert", provider: "fcm", app, reason: "SENDER_ID_MISMATCH", cleared: true }));
    expect(logs.errors()).toEqual([]);
  });

  it("APNs DeviceTokenNotForTopic for every token: devices kept, the alert says to check APNS_TOPIC", async () => {
    const { app, prefix, users, event } = await usersWithDevices("apns", 4);
    await failRate({ rate: 1, preset: "apns_device_token_not_for_topic", token_prefix: prefix });
    logs = captureLogs();
    const run = await runBatch([event], { providers: await ownProviders({}, [app]) });
    logs.stop();
    await failRate({ rate: 0, token_prefix: prefix });
    expect(run.report.d1RoundTrips).toBe(3);
    expect(await deviceCount(users.map((u) => u.token))).toBe(4);
    expect((await eventDeliveries(event.event_id))!.summary).toEqual({ retrying: 4 });
    expect(logs.errors()).toEqual([expect.objectContaining({ event: "alert", provider: "apns", app, reason: "DeviceTokenNotForTopic", answers: 4 })]);
    expect(await alertOf("provider_misconfigured", "apns", app, "DeviceTokenNotForTopic")).toMatchObject({
      count: 4,
      check: expect.stringContaining("APNS_TOPIC"),
    });
  });

  it("a typo in APNS_TOPIC (APNs answers TopicDisallowed): nothing deleted; the corrected topic delivers and clears the alert", async () => {
    const { app, users, event } = await usersWithDevices("apns", 3);
    const right = await ownProviders({}, [app]);
    const typo = createProviders({ ...right.config, APNS_TOPIC: `${right.config.APNS_TOPIC}x` });
    await runBatch([event], { providers: typo });
    expect(await deviceCount(users.map((u) => u.token))).toBe(3);
    expect((await eventDeliveries(event.event_id))!.deliveries.map((d) => d.error)).toEqual(Array(3).fill("provider_misconfigured:TopicDisallowed"));
    expect(await alertOf("provider_misconfigured", "apns", app, "TopicDisallowed")).toMatchObject({ count: 3 });

    const later = Date.now() + HOUR;
    const fixed = await runBatch([event], { providers: right, now: () => later }, 2);
    expect(fixed.acked).toEqual(fixed.ids);
    expect((await eventDeliveries(event.event_id))!.summary).toEqual({ sent: 3 });
    expect(await alertOf("provider_misconfigured", "apns", app)).toBeUndefined();
  });

  it("what runs out of retries ends failed and a replay after the fix resends it", async () => {
    const { app, prefix, users, event } = await usersWithDevices("fcm", 3);
    await failRate({ rate: 1, preset: "sender_id_mismatch", token_prefix: prefix });
    const providers = await ownProviders({}, [app]);
    await runBatch([event], { providers });
    // Its retries are spent: the dead-letter queue, once the last wait is over, records what is open as failed.
    const dead = createMessageBatch<PushJob>("learnink-push-dlq", [{ id: uniqueId("dlq"), timestamp: new Date(), attempts: 13, body: event }]);
    await consumeDeadLetters(dead, env, Date.now() + 3_600_000);
    expect((await eventDeliveries(event.event_id))!.summary).toEqual({ failed: 3 });
    expect(await deviceCount(users.map((u) => u.token))).toBe(3);

    await failRate({ rate: 0, token_prefix: prefix });
    const replayed: PushJob[] = [];
    const queue = { sendBatch: async (messages: Iterable<{ body: PushJob }>) => void replayed.push(...[...messages].map((m) => m.body)) } as unknown as Queue;
    const answer = await relay.fetch(
      new Request(`${RELAY}/v1/events/${event.event_id}/replay`, { method: "POST", headers: { authorization: `Bearer ${API_KEY}` } }),
      { ...env, PUSH_QUEUE: queue },
    );
    expect(answer.status).toBe(202);
    await runBatch(replayed, { providers });
    expect((await eventDeliveries(event.event_id))!.summary).toEqual({ sent: 3 });
    expect(await pushes({ event_id: event.event_id })).toHaveLength(3);
  });

  it("THIRD_PARTY_AUTH_ERROR (FCM's APNs credentials) is cleared by a push to an iOS device, not by Android ones", async () => {
    const ios = await usersWithDevices("fcm", 1, "ios");
    const android = uniqueId("emp");
    await seedDevices([{ token: `${uniqueId("and")}:APA91b${"x".repeat(60)}`, provider: "fcm", custom_id: android, user_id: null, app: ios.app }]);
    await runBatch([ios.event], { providers: fakeProviders(() => ({ kind: "misconfigured", reason: "THIRD_PARTY_AUTH_ERROR" })) });
    expect(await alertOf("provider_misconfigured", "fcm", ios.app, "THIRD_PARTY_AUTH_ERROR")).toBeDefined();

    const later = Date.now() + 60_000;
    await runBatch([job([queued({ custom_id: android })])], { providers: fakeProviders(), now: () => later });
    expect(await alertOf("provider_misconfigured", "fcm", ios.app, "THIRD_PARTY_AUTH_ERROR")).toBeDefined();
    await runBatch([ios.event], { providers: fakeProviders(), now: () => later + 60_000 }, 2);
    expect(await alertOf("provider_misconfigured", "fcm", ios.app, "THIRD_PARTY_AUTH_ERROR")).toBeUndefined();
  });

  it("an unreadable setting is a misconfiguration too: kept, retried, alerted", async () => {
    const { app, users, event } = await usersWithDevices("fcm", 2);
    const broken = createProviders({ ...env, APPS: appsFor(app), FCM_SERVICE_ACCOUNT: `{"not": "${crypto.randomUUID()}"}` });
    await runBatch([event], { providers: broken });
    expect(await deviceCount(users.map((u) => u.token))).toBe(2);
    expect((await eventDeliveries(event.event_id))!.deliveries[0]!.error).toBe("provider_misconfigured:FCM_SERVICE_ACCOUNT");
    expect(await alertOf("provider_misconfigured", "fcm", app, "FCM_SERVICE_ACCOUNT")).toMatchObject({
      count: 2,
      check: expect.stringContaining("FCM_SERVICE_ACCOUNT"),
    });
  });

  it("alerts are behind the API key like the rest of the stats", async () => {
    expect((await api("/v1/stats", { key: null })).status).toBe(401);
  });
});
