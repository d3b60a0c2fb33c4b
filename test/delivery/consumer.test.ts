import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { applyWrites, eventDocs } from "../../src/db/doc-store";
import { claimDeliveries } from "../../src/db/ledger-writes";
import { bucketOfJob, ledgerNotification, targetFor } from "../../src/delivery/plan";
import { LEASE_MS } from "../../src/delivery/consumer";
import { api, apnsToken, capturingQueue, fcmToken, uniqueId } from "../support/webhook";
import { drainLikeTheQueue, eventDeliveries, fakeProviders, job, queued, registerDevice, runBatch } from "../support/delivery";
import { captureLogs } from "../support/logs";

describe("consumer: recipients", () => {
  it("sends to every device of the custom_id, falls back to user_id, and records users without devices", async () => {
    const alice = uniqueId("alice");
    const [aliceAndroid, aliceIphone] = [fcmToken(), apnsToken()];
    await registerDevice({ provider: "fcm", token: aliceAndroid, custom_id: alice });
    await registerDevice({ provider: "apns", token: aliceIphone, custom_id: alice, user_id: uniqueId("li") });
    const bobUserId = uniqueId("li-bob");
    const bobPhone = fcmToken();
    await registerDevice({ provider: "fcm", token: bobPhone, user_id: bobUserId });

    const providers = fakeProviders();
    const event = job([
      queued({ i: 0, custom_id: alice, title: "For Alice", path: "/courses/a?x=1" }),
      queued({ i: 1, custom_id: uniqueId("unknown-custom"), user_id: bobUserId, title: "For Bob" }),
      queued({ i: 2, custom_id: null, user_id: uniqueId("nobody") }),
    ]);
    const { report, acked, ids } = await runBatch([event], { providers });

    expect(acked).toEqual(ids);
    expect(report.d1RoundTrips).toBe(3);
    expect(providers.fcm.sent.map((m) => m.token).sort()).toEqual([aliceAndroid, bobPhone].sort());
    expect(providers.apns.sent.map((m) => m.token)).toEqual([aliceIphone]);
    const toAlice = providers.apns.sent[0]!;
    expect(toAlice).toMatchObject({
      title: "For Alice",
      path: "/courses/a?x=1",
      url: "https://m.learn.ink/acme/courses/a?x=1&webview=true",
      event_id: event.event_id,
      index: 0,
    });

    const recorded = await eventDeliveries(event.event_id);
    expect(recorded!.summary).toEqual({ sent: 3, no_device: 1 });
    expect(recorded!.deliveries.find((d) => d.index === 2)).toMatchObject({ status: "no_device", device_token: null });
  });
});

describe("consumer: no duplicates", () => {
  it("sends nothing again when the same message is delivered twice", async () => {
    const customId = uniqueId("emp");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
    const providers = fakeProviders();
    const event = job([queued({ custom_id: customId })]);
    await runBatch([event], { providers });
    const again = await runBatch([event], { providers });
    expect(providers.fcm.sent).toHaveLength(1);
    expect(again.acked).toEqual(again.ids);
    expect(again.report.claimed).toBe(0);
  });

  it("sends once when a repeated webhook puts the same event twice in one batch", async () => {
    const customId = uniqueId("emp");
    await registerDevice({ provider: "apns", token: apnsToken(), custom_id: customId });
    const providers = fakeProviders();
    const event = job([queued({ custom_id: customId })]);
    const copy = structuredClone(event);
    const { acked, ids } = await runBatch([event, copy], { providers });
    expect(providers.apns.sent).toHaveLength(1);
    expect(acked).toEqual(ids);
  });

  it("waits while another invocation holds the claim, and takes over only once its lease has expired", async () => {
    const customId = uniqueId("emp");
    const token = fcmToken();
    await registerDevice({ provider: "fcm", token, custom_id: customId });
    const n = queued({ custom_id: customId });
    const event = job([n]);
    // Another invocation claimed the row and then died before recording anything.
    const now = Date.now();
    await claimDeliveries(
      env.DB,
      {
        notifications: [ledgerNotification(event, n)],
        fresh: [{ ...targetFor(event, n, null), token, provider: "fcm", app: "default" }],
        replay: [],
        withDevices: [],
      },
      { claimId: "crashed-invocation", now, leaseUntil: now + LEASE_MS },
    );

    const providers = fakeProviders();
    const during = await runBatch([event], { providers });
    expect(providers.fcm.sent).toHaveLength(0);
    expect(during.retried.get(during.ids[0]!)).toBe(10);

    // Later attempts wait longer, but never past the holder's lease.
    const later = await runBatch([event], { providers }, 7);
    expect(later.retried.get(later.ids[0]!)).toBe(640);
    const last = await runBatch([event], { providers }, 12);
    expect(last.retried.get(last.ids[0]!)).toBeLessThanOrEqual(LEASE_MS / 1000 + 1);
    expect(last.retried.get(last.ids[0]!)).toBeGreaterThan(LEASE_MS / 1000 - 60);

    const after = await runBatch([event], { providers, now: () => Date.now() + LEASE_MS + 1_000 });
    expect(providers.fcm.sent).toHaveLength(1);
    expect(after.acked).toEqual(after.ids);
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "sent", attempts: 2 });
  });
});

describe("consumer: outcomes", () => {
  it("retries only what the provider asked to retry, after its Retry-After, and resends nothing else", async () => {
    const [a, b] = [uniqueId("a"), uniqueId("b")];
    const [tokenA, tokenB] = [fcmToken(), fcmToken()];
    await registerDevice({ provider: "fcm", token: tokenA, custom_id: a });
    await registerDevice({ provider: "fcm", token: tokenB, custom_id: b });
    const event = job([queued({ i: 0, custom_id: a }), queued({ i: 1, custom_id: b })]);

    const first = fakeProviders((m) =>
      m.token === tokenB ? { kind: "retry", reason: "QUOTA_EXCEEDED", retryAfter: 120 } : { kind: "sent", id: "ok" },
    );
    const start = Date.now();
    const run1 = await runBatch([event], { providers: first, now: () => start });
    expect(run1.retried.get(run1.ids[0]!)).toBe(120);
    const recorded = await eventDeliveries(event.event_id);
    expect(recorded!.deliveries.map((d) => [d.index, d.status, d.error])).toEqual([
      [0, "sent", null],
      [1, "retrying", "QUOTA_EXCEEDED"],
    ]);

    const second = fakeProviders();
    const run2 = await runBatch([event], { providers: second, now: () => start + 120_000 }, 2);
    expect(second.fcm.sent.map((m) => m.token)).toEqual([tokenB]);
    expect(run2.acked).toEqual(run2.ids);
    expect((await eventDeliveries(event.event_id))!.summary).toEqual({ sent: 2 });
  });

  it("waits the backoff when the provider's Retry-After is shorter", async () => {
    const customId = uniqueId("emp");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
    const providers = fakeProviders(() => ({ kind: "retry", reason: "QUOTA_EXCEEDED", retryAfter: 1 }));
    const run = await runBatch([job([queued({ custom_id: customId })])], { providers, random: () => 0 });
    expect(run.retried.get(run.ids[0]!)).toBe(15);
  });

  it("backs off exponentially with jitter when no Retry-After is given", async () => {
    const customId = uniqueId("emp");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
    const providers = fakeProviders(() => ({ kind: "retry", reason: "UNAVAILABLE" }));
    const event = job([queued({ custom_id: customId })]);
    const delays: number[] = [];
    let now = Date.now();
    for (let attempt = 1; attempt <= 11; attempt++) {
      const at = now;
      const run = await runBatch([event], { providers, now: () => at, random: () => (attempt === 11 ? 1 : 0) }, attempt);
      delays.push(run.retried.get(run.ids[0]!)!);
      now += delays.at(-1)! * 1000;
    }
    // Each send attempt doubles a 30 s ceiling up to 3 h; random() = 0 picks half of it, 1 all of it.
    expect(delays).toEqual([15, 30, 60, 120, 240, 480, 960, 1920, 3840, 5400, 10800]);
    expect(providers.fcm.sent).toHaveLength(11);
    expect((await eventDeliveries(event.event_id))!.deliveries[0]!.attempts).toBe(11);
  });

  it("removes the device when the provider says its token is invalid", async () => {
    const customId = uniqueId("emp");
    const token = apnsToken();
    await registerDevice({ provider: "apns", token, custom_id: customId });
    const providers = fakeProviders(() => ({ kind: "invalid_token", reason: "Unregistered" }));
    const event = job([queued({ custom_id: customId })]);
    const { acked, ids } = await runBatch([event], { providers });
    expect(acked).toEqual(ids);
    const list = await api(`/v1/users/${customId}/devices`);
    expect(((await list.json()) as { devices: unknown[] }).devices).toEqual([]);
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "invalid_token", error: "Unregistered" });
  });

  it("records a final failure with the provider's reason and acks", async () => {
    const customId = uniqueId("emp");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
    const providers = fakeProviders(() => ({ kind: "failed", reason: "provider_not_configured" }));
    const event = job([queued({ custom_id: customId })]);
    const { acked, ids } = await runBatch([event], { providers });
    expect(acked).toEqual(ids);
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "failed", error: "provider_not_configured" });
  });

  it("moves an APNs device to the environment that accepted its token", async () => {
    const customId = uniqueId("emp");
    const token = apnsToken();
    await registerDevice({ provider: "apns", token, custom_id: customId });
    const providers = fakeProviders(() => ({ kind: "sent", id: "apns-id", environment: "sandbox" }));
    await runBatch([job([queued({ custom_id: customId })])], { providers });
    const list = await api(`/v1/users/${customId}/devices`);
    expect(((await list.json()) as { devices: { environment: string }[] }).devices[0]!.environment).toBe("sandbox");
  });

  it("retries, and loses nothing, when a provider throws", async () => {
    const customId = uniqueId("emp");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
    const providers = fakeProviders(() => {
      throw new Error("provider bug");
    });
    const event = job([queued({ custom_id: customId })]);
    const run = await runBatch([event], { providers });
    expect(run.retried.has(run.ids[0]!)).toBe(true);
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "retrying", error: "internal_error" });
  });

  it("stops starting sends when its time budget is spent and retries the rest soon", async () => {
    const customId = uniqueId("emp");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
    const providers = fakeProviders();
    const event = job([queued({ custom_id: customId })]);
    const run = await runBatch([event], { providers, sendBudgetMs: 0 });
    expect(providers.fcm.sent).toHaveLength(0);
    expect(run.retried.get(run.ids[0]!)).toBe(1);
    expect(run.report.deferred).toBe(1);
    // Never sent, so no attempt counted, and due at once.
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "retrying", error: "deferred", attempts: 0 });
    const next = await runBatch([event], { providers }, 2);
    expect(providers.fcm.sent).toHaveLength(1);
    expect(next.acked).toEqual(next.ids);
  });

  it("fails deliveries with org_id_not_configured when LEARNINK_ORG_ID is empty", async () => {
    const customId = uniqueId("emp");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
    const providers = fakeProviders();
    const event = job([queued({ custom_id: customId })]);
    const run = await runBatch([event], { providers }, 1, { LEARNINK_ORG_ID: "" });
    expect(run.acked).toEqual(run.ids);
    expect(providers.fcm.sent).toHaveLength(0);
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "failed", error: "org_id_not_configured" });
  });

  it("acks a malformed message instead of retrying it forever", async () => {
    const run = await runBatch([{ nonsense: true } as never], { providers: fakeProviders() });
    expect(run.acked).toEqual(run.ids);
  });
});

describe("consumer: a retrying delivery waits until it is due", () => {
  it("a duplicate message leaves a retrying row alone until it is due, without counting an attempt", async () => {
    const customId = uniqueId("emp");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
    const event = job([queued({ custom_id: customId })]);
    const start = Date.now();
    const busy = fakeProviders(() => ({ kind: "retry", reason: "QUOTA_EXCEEDED", retryAfter: 300 }));
    await runBatch([event], { providers: busy, now: () => start });

    // The same event again (a repeated webhook, a replay) 10 s later: nothing is sent, the message waits.
    const providers = fakeProviders();
    const early = await runBatch([structuredClone(event)], { providers, now: () => start + 10_000 });
    expect(providers.fcm.sent).toHaveLength(0);
    expect(early.report).toMatchObject({ claimed: 0, notDue: 1 });
    expect(early.retried.get(early.ids[0]!)).toBe(290);
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "retrying", attempts: 1 });

    // Once due (a second early is within the tolerance for clocks), it is claimed and sent.
    const due = await runBatch([structuredClone(event)], { providers, now: () => start + 299_500 }, 2);
    expect(providers.fcm.sent).toHaveLength(1);
    expect(due.acked).toEqual(due.ids);
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "sent", attempts: 2 });
  });

  it("a provider answering Retry-After: 1 for a minute does not send the notification to the dead-letter queue", async () => {
    // The queue is played by drainLikeTheQueue: a retried message comes back
    // after exactly its delay with `attempts` + 1, and after max_retries (12,
    // as in wrangler.toml) it would go to the dead-letter queue. That is what
    // Queues does, minus the waiting: the consumer's clock is simulated, and
    // the provider answers by that clock what FCM's real provider returns for
    // a 429 with `Retry-After: 1` (see the provider tests), for one minute.
    const customId = uniqueId("emp");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
    const clock = { now: Date.now() };
    const busyUntil = clock.now + 60_000;
    const answers: string[] = [];
    const providers = fakeProviders(() => {
      const busy = clock.now < busyUntil;
      answers.push(busy ? "429" : "sent");
      return busy ? { kind: "retry", reason: "QUOTA_EXCEEDED", retryAfter: 1 } : { kind: "sent", id: "ok" };
    });
    const event = job([queued({ custom_id: customId })]);

    const deadLetters = await drainLikeTheQueue([event], { providers, random: () => 0 }, 12, clock);

    expect(deadLetters).toEqual([]);
    // 15 + 30 + 60 s of backoff outlast the minute: three refusals, then sent.
    expect(answers).toEqual(["429", "429", "429", "sent"]);
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "sent", attempts: 4 });
  });
});

describe("consumer: subrequest budget", () => {
  it("starts only as many sends as the per-invocation subrequest limit allows and retries the rest", async () => {
    const customId = uniqueId("emp");
    for (let i = 0; i < 5; i++) await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
    const providers = fakeProviders();
    const event = job([queued({ custom_id: customId })]);
    // 2 D1 calls made, 1 to come, 8 for the credential cache and 4 per send: 23 leaves room for 3 sends.
    const first = await runBatch([event], { providers, subrequestBudget: 23 });
    expect(providers.fcm.sent).toHaveLength(3);
    expect(first.retried.get(first.ids[0]!)).toBe(1);
    const second = await runBatch([event], { providers, subrequestBudget: 23 }, 2);
    expect(providers.fcm.sent).toHaveLength(5);
    expect(new Set(providers.fcm.sent.map((m) => m.token)).size).toBe(5);
    expect(second.acked).toEqual(second.ids);
  });
});

describe("consumer: devices removed while a delivery is open", () => {
  it("closes a retrying delivery as failed device_removed once its device is gone", async () => {
    const customId = uniqueId("emp");
    const [kept, removed] = [fcmToken(), fcmToken()];
    await registerDevice({ provider: "fcm", token: kept, custom_id: customId });
    await registerDevice({ provider: "fcm", token: removed, custom_id: customId });
    const event = job([queued({ custom_id: customId })]);
    await runBatch([event], {
      providers: fakeProviders((m) => (m.token === removed ? { kind: "retry", reason: "UNAVAILABLE" } : { kind: "sent", id: "s" })),
    });
    expect((await api(`/v1/devices/${removed}`, { method: "DELETE" })).status).toBe(204);

    const providers = fakeProviders();
    const run = await runBatch([event], { providers }, 2);
    expect(providers.fcm.sent).toHaveLength(0);
    expect(run.acked).toEqual(run.ids);
    const byToken = Object.fromEntries((await eventDeliveries(event.event_id))!.deliveries.map((d) => [d.device_token, d]));
    expect(byToken[kept]).toMatchObject({ status: "sent" });
    expect(byToken[removed]).toMatchObject({ status: "failed", error: "device_removed" });
  });
});

describe("consumer: a claim is always closed", () => {
  it("a claimed row the record step does not match is logged as an error and left for a retry that closes it", async () => {
    const customId = uniqueId("emp");
    const [missed, fine] = [fcmToken(), fcmToken()];
    await registerDevice({ provider: "fcm", token: missed, custom_id: customId });
    await registerDevice({ provider: "fcm", token: fine, custom_id: customId });
    const event = job([queued({ custom_id: customId })]);
    // The record step misses one row on purpose: while its push is in flight, its claim is lost.
    const providers = fakeProviders(async (message) => {
      if (message.token === missed) {
        const [stored] = await eventDocs(env.DB, event.event_id, bucketOfJob(event), Date.now());
        const doc = structuredClone(stored!.doc);
        doc.d.find((d) => d.t === missed)!.cb = "someone-else";
        await applyWrites(env.DB, "claim", [{ kind: "update", stored: stored!, doc }], Date.now());
      }
      return { kind: "sent", id: "ok" };
    });
    const start = Date.now();
    const logs = captureLogs();
    const first = await runBatch([event], { providers, now: () => start });
    logs.stop();

    expect(first.report.recordMissed).toBe(1);
    expect(logs.errors()).toEqual([expect.objectContaining({ event: "consumer_error", reason: "record_missed", rows: 1 })]);
    expect(first.acked).toEqual([]);
    expect(first.retried.get(first.ids[0]!)).toBeGreaterThan(0);
    const rows = (await eventDeliveries(event.event_id))!.deliveries;
    expect(Object.fromEntries(rows.map((d) => [d.device_token, d.status]))).toEqual({ [missed]: "sending", [fine]: "sent" });

    // The message comes back after the lease: the row is taken over, sent and closed; the other is not sent again.
    const again = await runBatch([event], { providers: fakeProviders(), now: () => start + LEASE_MS + 1_000 }, 2);
    expect(again.acked).toEqual(again.ids);
    const closed = (await eventDeliveries(event.event_id))!.deliveries;
    expect(Object.fromEntries(closed.map((d) => [d.device_token, d.status]))).toEqual({ [missed]: "sent", [fine]: "sent" });
  });
});

describe("consumer: retries belong to a delivery", () => {

  it("a device's long wait never holds back the others of its message: each wait goes back on its own", async () => {
    const [slow, quick, fine] = [uniqueId("slow"), uniqueId("quick"), uniqueId("fine")];
    const tokens = { slow: fcmToken(), quick: fcmToken(), fine: fcmToken() };
    await registerDevice({ provider: "fcm", token: tokens.slow, custom_id: slow });
    await registerDevice({ provider: "fcm", token: tokens.quick, custom_id: quick });
    await registerDevice({ provider: "fcm", token: tokens.fine, custom_id: fine });
    const event = job([queued({ i: 0, custom_id: slow }), queued({ i: 1, custom_id: quick }), queued({ i: 2, custom_id: fine })]);
    const answers = fakeProviders((m) =>
      m.token === tokens.slow
        ? { kind: "retry", reason: "QUOTA_EXCEEDED", retryAfter: 90 }
        : m.token === tokens.quick
          ? { kind: "retry", reason: "UNAVAILABLE" }
          : { kind: "sent", id: "ok" },
    );
    const start = Date.now();
    const { batches, queue } = capturingQueue();
    const sent = () => batches.flat();
    const first = await runBatch([event], { providers: answers, now: () => start, random: () => 0 }, 1, { PUSH_QUEUE: queue });

    // Acked; the two waits went back as messages of their own: 15 s (backoff) and 90 s (Retry-After).
    expect(first.acked).toEqual(first.ids);
    expect(first.report.split).toBe(2);
    expect(sent().map((m) => [m.delaySeconds, m.body.notifications.map((n) => n.i), m.body.attempts_before]).sort()).toEqual([
      [15, [1], 1],
      [90, [0], 1],
    ]);

    const providers = fakeProviders();
    const [quickJob, slowJob] = sent().sort((a, b) => a.delaySeconds! - b.delaySeconds!).map((m) => m.body);
    const atQuick = await runBatch([quickJob!], { providers, now: () => start + 15_000 });
    expect(atQuick.acked).toEqual(atQuick.ids);
    expect(providers.fcm.sent.map((m) => m.token)).toEqual([tokens.quick]);
    await runBatch([slowJob!], { providers, now: () => start + 90_000 });
    expect(providers.fcm.sent.map((m) => m.token)).toEqual([tokens.quick, tokens.slow]);
    expect((await eventDeliveries(event.event_id))!.summary).toEqual({ sent: 3 });
  });

  it("a delivery gets 13 attempts of its own, then fails retries_exhausted in its own record step", async () => {
    const customId = uniqueId("emp");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
    const event = job([queued({ custom_id: customId })]);
    const providers = fakeProviders(() => ({ kind: "retry", reason: "UNAVAILABLE" }));
    const deadLetters = await drainLikeTheQueue([event], { providers }, 20);
    expect(deadLetters).toEqual([]);
    expect(providers.fcm.sent).toHaveLength(13);
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "failed", error: "retries_exhausted", attempts: 13 });
  });
});

describe("consumer: the provider's own words", () => {
  it("are kept with a failure and shown by the API beside the error", async () => {
    const customId = uniqueId("emp");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
    const event = job([queued({ custom_id: customId })]);
    const providers = fakeProviders(() => ({ kind: "failed", reason: "INVALID_ARGUMENT", detail: "Invalid value at 'message.android.ttl'" }));
    await runBatch([event], { providers });
    const response = await api(`/v1/events/${event.event_id}`);
    const { deliveries } = (await response.json()) as { deliveries: { status: string; error: string; detail: string | null }[] };
    expect(deliveries[0]).toMatchObject({ status: "failed", error: "INVALID_ARGUMENT", detail: "Invalid value at 'message.android.ttl'" });
  });
});
