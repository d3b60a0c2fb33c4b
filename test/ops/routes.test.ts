import { createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { consumeDeadLetters } from "../../src/delivery/dead-letter";
import { app } from "../../src/app";
import type { PushJob } from "../../src/queue/message";
import { api, API_KEY, fcmToken, RELAY, uniqueId } from "../support/webhook";
import { createIsolateMemory } from "../../src/push/credential-cache";
import { createProviders } from "../../src/push/providers";
import { eventDeliveries, fakeProviders, job, queued, registerDevice, runBatch } from "../support/delivery";
import { freshOneSignalApp, pushes, requests, script, stats } from "../support/standins";

/** Dead-letters `jobs` an hour on, when every wait of their last attempt is long over. */
async function deadLetter(jobs: PushJob[]) {
  const batch = createMessageBatch<PushJob>(
    "learnink-push-dlq",
    jobs.map((body, i) => ({ id: `dlq-${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body })),
  );
  await consumeDeadLetters(batch, env, Date.now() + 3_600_000);
}

/** Calls the replay route with a queue that keeps what it is given. */
async function replay(eventId: string) {
  const jobs: PushJob[] = [];
  const queue = {
    sendBatch: async (messages: Iterable<{ body: PushJob }>) => {
      for (const m of messages) jobs.push(m.body);
    },
  } as unknown as Queue;
  const response = await app.fetch(
    new Request(`${RELAY}/v1/events/${eventId}/replay`, { method: "POST", headers: { authorization: `Bearer ${API_KEY}` } }),
    { ...env, PUSH_QUEUE: queue },
  );
  return { response, jobs };
}

describe("dead letters and replay", () => {
  it("records what is left as failed retries_exhausted, and a replay resends only the failed deliveries", async () => {
    const [a, b] = [uniqueId("a"), uniqueId("b")];
    const [tokenA, tokenB] = [fcmToken(), fcmToken()];
    await registerDevice({ provider: "fcm", token: tokenA, custom_id: a });
    await registerDevice({ provider: "fcm", token: tokenB, custom_id: b });
    const event = job([
      queued({ i: 0, custom_id: a, title: "Sent at once" }),
      queued({ i: 1, custom_id: b, title: "Keeps failing" }),
      queued({ i: 2, custom_id: uniqueId("c"), title: "Never reached" }),
    ]);
    // Only the first two notifications reach the consumer; the provider keeps refusing b.
    const partial = { ...event, notifications: event.notifications.slice(0, 2) };
    await runBatch([partial], {
      providers: fakeProviders((m) => (m.token === tokenB ? { kind: "retry", reason: "UNAVAILABLE" } : { kind: "sent", id: "x" })),
    });

    await deadLetter([event]);
    const recorded = await eventDeliveries(event.event_id);
    expect(recorded!.deliveries.map((d) => [d.index, d.status, d.error])).toEqual([
      [0, "sent", null],
      [1, "failed", "retries_exhausted"],
      [2, "failed", "retries_exhausted"],
    ]);

    const { response, jobs } = await replay(event.event_id);
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ replayed: { notifications: 2, deliveries: 2 }, messages: 1 });
    expect(jobs[0]!.retry_failed).toBe(true);
    expect(jobs[0]!.notifications.map((n) => [n.i, n.title])).toEqual([
      [1, "Keeps failing"],
      [2, "Never reached"],
    ]);

    const providers = fakeProviders();
    await runBatch(jobs, { providers });
    expect(providers.fcm.sent.map((m) => m.token)).toEqual([tokenB]);
    const after = await eventDeliveries(event.event_id);
    expect(after!.summary).toEqual({ sent: 2, no_device: 1 });
  });

  it("replays a OneSignal user with the same idempotency key: within 30 days OneSignal answers as it first did, so nothing shows twice", async () => {
    const oneSignal = await freshOneSignalApp();
    const user = uniqueId("emp");
    await oneSignal.users([user], "subscribed");
    // OneSignal creates the notification, but its answer comes after the relay gave up waiting, every time.
    await script(user, [{ status: 200, delayMs: 1_500 }]);
    const providers = createProviders({ ...env, ...oneSignal.config } as Env, { timeoutMs: 300 }, createIsolateMemory());
    const event = job([queued({ i: 0, custom_id: user })]);
    expect((await runBatch([event], { providers }, 1, oneSignal.config)).report.outcomes).toEqual({ retrying: 1 });
    await deadLetter([event]);
    expect((await eventDeliveries(event.event_id))!.deliveries.map((d) => [d.status, d.error])).toEqual([["failed", "retries_exhausted"]]);

    const { response, jobs } = await replay(event.event_id);
    expect(response.status).toBe(202);
    await runBatch(jobs, { providers }, 1, oneSignal.config);
    const [push] = await pushes({ token: user, provider: "onesignal" });
    const after = await eventDeliveries(event.event_id);
    // The replay's request carried the first attempt's key: OneSignal answered with that first notification.
    expect(after!.deliveries.map((d) => [d.status, d.provider_id])).toEqual([["sent", push!.provider_id]]);
    expect((await requests(user)).at(-1)).toMatchObject({ status: 200, reason: "idempotent_repeat" });
    expect(await stats({ app_id: oneSignal.appId })).toMatchObject({ onesignal_notifications: 1, onesignal_pushes: 1 });
  });

  it("replays nothing (200) when nothing failed, and 404 for an unknown event", async () => {
    const customId = uniqueId("emp");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
    const event = job([queued({ custom_id: customId })]);
    await runBatch([event], { providers: fakeProviders() });
    const { response, jobs } = await replay(event.event_id);
    expect(response.status).toBe(200);
    expect(jobs).toEqual([]);
    expect((await replay("msg_unknown")).response.status).toBe(404);
  });
});

describe("GET /v1/events/:svix_id", () => {
  it("pages through deliveries with a cursor and filters by status", async () => {
    const customId = uniqueId("emp");
    const tokens = [fcmToken(), fcmToken(), fcmToken()];
    for (const token of tokens) await registerDevice({ provider: "fcm", token, custom_id: customId });
    const event = job([queued({ custom_id: customId }), queued({ i: 1, user_id: uniqueId("nobody") })]);
    await runBatch([event], {
      providers: fakeProviders((m) => (m.token === tokens[1] ? { kind: "failed", reason: "INVALID_ARGUMENT" } : { kind: "sent", id: "n" })),
    });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const response = await api(`/v1/events/${event.event_id}${query}`);
      const page = (await response.json()) as { deliveries: { index: number; device_token: string | null }[]; next_cursor: string | null };
      seen.push(...page.deliveries.map((d) => `${d.index}:${d.device_token}`));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...tokens.sort().map((t) => `0:${t}`), "1:null"]);

    const failed = await api(`/v1/events/${event.event_id}?status=failed`);
    const body = (await failed.json()) as { summary: Record<string, number>; deliveries: { device_token: string; error: string }[] };
    expect(body.summary).toEqual({ sent: 2, failed: 1, no_device: 1 });
    expect(body.deliveries).toEqual([expect.objectContaining({ device_token: tokens[1], error: "INVALID_ARGUMENT" })]);
  });

  it.each([
    ["an unknown event", "/v1/events/msg_nothing_here", 404, "not_found"],
    ["an unknown status", "/v1/events/msg_x?status=lost", 400, "invalid_request"],
    ["a limit out of range", "/v1/events/msg_x?limit=0", 400, "invalid_request"],
    ["a forged cursor", "/v1/events/msg_x?cursor=%%%", 400, "invalid_request"],
  ])("answers %s with a JSON error", async (_label, path, status, code) => {
    const response = await api(path);
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
  });

  it("requires the API key", async () => {
    expect((await api("/v1/events/msg_x", { key: null })).status).toBe(401);
  });
});

describe("GET /v1/users/:custom_id/deliveries", () => {
  it("answers \"did Mary get her reminder?\"", async () => {
    const mary = uniqueId("mary");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: mary });
    const event = job([queued({ custom_id: mary, path: "/courses/fire-safety" })]);
    await runBatch([event], { providers: fakeProviders() });
    const response = await api(`/v1/users/${mary}/deliveries`);
    const body = (await response.json()) as { deliveries: { event_id: string; status: string; path: string }[] };
    expect(body.deliveries).toEqual([expect.objectContaining({ event_id: event.event_id, status: "sent", path: "/courses/fire-safety" })]);
  });

  it("finds a user by LearnInk's user_id with ?by=user_id", async () => {
    const userId = uniqueId("li");
    const event = job([queued({ user_id: userId })]);
    await runBatch([event], { providers: fakeProviders() });
    const byUserId = (await (await api(`/v1/users/${userId}/deliveries?by=user_id`)).json()) as { deliveries: { event_id: string; status: string }[] };
    expect(byUserId.deliveries).toEqual([expect.objectContaining({ event_id: event.event_id, status: "no_device" })]);
    const byCustomId = (await (await api(`/v1/users/${userId}/deliveries`)).json()) as { deliveries: unknown[] };
    expect(byCustomId.deliveries).toEqual([]);
  });
});

describe("GET /v1/stats", () => {
  type Stats = {
    deliveries: Record<string, Record<string, Record<string, number>>>;
    retry_queue: { deliveries: number };
    devices: Record<string, Record<string, number>>;
  };
  const read = async () => (await (await api("/v1/stats")).json()) as Stats;
  const count = (s: Stats, window: string, provider: string, status: string) => s.deliveries[window]?.[provider]?.[status] ?? 0;

  it("counts what happened by window, provider and status, the retry queue and the devices", async () => {
    const before = await read();
    const customId = uniqueId("emp");
    const [ok, retry] = [fcmToken(), fcmToken()];
    await registerDevice({ provider: "fcm", token: ok, custom_id: customId });
    await registerDevice({ provider: "fcm", token: retry, custom_id: customId });
    await runBatch([job([queued({ custom_id: customId }), queued({ i: 1, user_id: uniqueId("nobody") })])], {
      providers: fakeProviders((m) => (m.token === retry ? { kind: "retry", reason: "UNAVAILABLE" } : { kind: "sent", id: "s" })),
    });
    const after = await read();
    for (const window of ["1h", "24h", "7d"]) {
      expect(count(after, window, "fcm", "sent") - count(before, window, "fcm", "sent")).toBe(1);
      expect(count(after, window, "fcm", "retrying") - count(before, window, "fcm", "retrying")).toBe(1);
      expect(count(after, window, "none", "no_device") - count(before, window, "none", "no_device")).toBe(1);
    }
    expect(after.retry_queue.deliveries - before.retry_queue.deliveries).toBe(1);
    expect((after.devices.fcm?.production ?? 0) - (before.devices.fcm?.production ?? 0)).toBe(2);
  });
});
