/**
 * The dead-letter path records everything: rows another invocation still
 * holds end failed once its lease is over, a D1 failure while recording is
 * retried with a delay and, after the last retry, logged with every event
 * id and index, RecordJobs are written, and a batch from a queue the
 * Worker does not know is left alone with an error.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { claimDeliveries, recordOutcomes } from "../../src/db/ledger-writes";
import { LEASE_MS } from "../../src/delivery/consumer";
import { consumeDeadLetters, DEAD_LETTER_MAX_RETRIES, deadLetterRetryDelaySeconds } from "../../src/delivery/dead-letter";
import { ledgerNotification, targetFor } from "../../src/delivery/plan";
import { UNKNOWN_QUEUE_RETRY_SECONDS } from "../../src/delivery/queues";
import worker from "../../src/index";
import type { RecordJob } from "../../src/queue/message";
import { failingD1, isLedgerStep } from "../support/d1";
import { eventDeliveries, fakeProviders, job, queued, registerDevice, replayJobs as replay, runBatch } from "../support/delivery";
import { captureLogs } from "../support/logs";
import { fcmToken, uniqueId } from "../support/webhook";

let logs: ReturnType<typeof captureLogs> | undefined;
afterEach(() => logs?.stop());

/** Feeds `bodies` to the dead-letter consumer as one batch, at `now`, on their `attempts`-th delivery. */
async function deadLetters(bodies: unknown[], options: { now?: number; attempts?: number; db?: D1Database } = {}) {
  const messages = bodies.map((body) => ({ id: `dlq-${crypto.randomUUID()}`, timestamp: new Date(), attempts: options.attempts ?? 1, body }));
  const batch = createMessageBatch("learnink-push-dlq", messages);
  const ctx = createExecutionContext();
  const report = await consumeDeadLetters(batch, { ...env, DB: options.db ?? env.DB }, options.now ?? Date.now());
  const result = await getQueueResult(batch, ctx);
  return { report, ids: messages.map((m) => m.id), acked: result.explicitAcks, retried: result.retryMessages.map((r) => r.msgId) };
}

/** One notification for one registered FCM device, claimed by an invocation `holder` that has not recorded anything. */
async function claimedElsewhere(holder: string, now: number) {
  const customId = uniqueId("emp");
  const token = fcmToken();
  await registerDevice({ provider: "fcm", token, custom_id: customId });
  const n = queued({ custom_id: customId });
  const event = job([n]);
  await claimDeliveries(
    env.DB,
    {
      notifications: [ledgerNotification(event, n)],
      fresh: [{ ...targetFor(event, n, null), token, provider: "fcm", app: "default" }],
      replay: [],
      withDevices: [],
    },
    { claimId: holder, now, leaseUntil: now + LEASE_MS },
  );
  return { event, token };
}

describe("dead letters close only what their own message still owns", () => {
  it("a row another message waits for (not due yet) is left to it; the dead letter comes back a minute past its due time", async () => {
    const customId = uniqueId("emp");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
    const event = job([queued({ custom_id: customId })]);
    const start = Date.now();
    // The delivery waits 90 s, in a message of its own; a copy of the event runs out of retries meanwhile.
    await runBatch([event], { providers: fakeProviders(() => ({ kind: "retry", reason: "QUOTA_EXCEEDED", retryAfter: 90 })), now: () => start });

    const early = await deadLetters([event], { now: start + 10_000 });
    expect(early.retried).toEqual(early.ids);
    expect(early.report.retryDelays[early.ids[0]!]).toBe(80 + 60 + 1);
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "retrying" });

    // Its owner sends it in time: the dead letter then has nothing to close.
    await runBatch([event], { providers: fakeProviders(), now: () => start + 90_000 });
    const back = await deadLetters([event], { now: start + 151_000, attempts: 2 });
    expect(back.acked).toEqual(back.ids);
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "sent" });
  });
});

describe("dead letters meeting a live lease", () => {
  it("wait for the lease to end, then fail the row the dead holder left sending, and a replay sends it", async () => {
    const start = Date.now();
    const { event, token } = await claimedElsewhere("crashed-invocation", start);

    const early = await deadLetters([event], { now: start + 60_000 });
    expect(early.retried).toEqual(early.ids);
    // Back a second after the lease (15 minutes from the claim) is over.
    expect(early.report.retryDelays[early.ids[0]!]).toBe((LEASE_MS - 60_000) / 1000 + 1);
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "sending" });

    const after = await deadLetters([event], { now: start + LEASE_MS + 1_000, attempts: 2 });
    expect(after.acked).toEqual(after.ids);
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "failed", error: "retries_exhausted" });

    const jobs = await replay(event.event_id);
    const providers = fakeProviders();
    await runBatch(jobs, { providers });
    expect(providers.fcm.sent.map((m) => m.token)).toEqual([token]);
    expect((await eventDeliveries(event.event_id))!.summary).toEqual({ sent: 1 });
  });

  it("fail the row a live holder recorded retrying meanwhile, and keep what it sent", async () => {
    const start = Date.now();
    const { event, token } = await claimedElsewhere("slow-invocation", start);
    const first = await deadLetters([event], { now: start + 1_000 });
    expect(first.retried).toEqual(first.ids);

    // The holder finishes after the message was dead-lettered: the provider asked for a retry nobody will make.
    await recordOutcomes(env.DB, [{ eventId: event.event_id, index: 0, token, status: "retrying", error: "UNAVAILABLE", nextAttemptAt: start + 60_000 }], {
      claimId: "slow-invocation",
      now: start + 5_000,
      tokenAnswers: [],
      deadTokens: [],
      misconfigured: [],
      accepted: [],
      environmentFixes: [],
      orphans: [],
    });
    await deadLetters([event], { now: start + LEASE_MS + 1_000, attempts: 2 });
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "failed", error: "retries_exhausted" });
  });
});

describe("dead letters D1 cannot record", () => {
  it("come back after a minute, doubling to an hour, and after the last retry are logged with every event id and index", async () => {
    const event = job([queued({ i: 0 }), queued({ i: 3 }), queued({ i: 7 })]);
    const broken = failingD1(env.DB, isLedgerStep("dead_letter"));
    const delays: number[] = [];
    for (const attempts of [1, 2, 3, 7, DEAD_LETTER_MAX_RETRIES]) {
      const run = await deadLetters([event], { attempts, db: broken.db });
      expect(run.retried).toEqual(run.ids);
      delays.push(run.report.retryDelays[run.ids[0]!]!);
    }
    expect(delays).toEqual([60, 120, 240, 3600, 3600]);
    // 10 retries: 60 + 120 + ... + 1,920 s, then an hour four times: about 5 hours.
    const total = Array.from({ length: DEAD_LETTER_MAX_RETRIES }, (_, i) => deadLetterRetryDelaySeconds(i + 1)).reduce((a, b) => a + b, 0);
    expect(total).toBe(18_180);

    logs = captureLogs();
    const last = await deadLetters([event], { attempts: DEAD_LETTER_MAX_RETRIES + 1, db: broken.db });
    expect(last.report.lost).toBe(1);
    expect(logs.errors()).toContainEqual(
      expect.objectContaining({ event: "dead_letter", reason: "unrecorded", event_id: event.event_id, indexes: "0,3,7" }),
    );
    expect(await eventDeliveries(event.event_id)).toBeNull();
  });

  it("are recorded once D1 answers again", async () => {
    const event = job([queued()]);
    const broken = failingD1(env.DB, isLedgerStep("dead_letter"), 1);
    expect((await deadLetters([event], { db: broken.db })).retried).toHaveLength(1);
    const again = await deadLetters([event], { attempts: 2, db: broken.db });
    expect(again.acked).toEqual(again.ids);
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "failed", error: "retries_exhausted" });
  });
});

describe("RecordJobs in the dead-letter queue", () => {
  it("are written", async () => {
    const now = Date.now();
    const { event, token } = await claimedElsewhere("the-claim", now);
    const record: RecordJob = {
      v: 1,
      kind: "record",
      outcomes: [{ eventId: event.event_id, index: 0, token, status: "sent", providerId: "projects/p/messages/1" }],
      options: { claimId: "the-claim", now, tokenAnswers: [], deadTokens: [], misconfigured: [], accepted: [], environmentFixes: [], orphans: [] },
    };
    const run = await deadLetters([record], { attempts: 1 });
    expect(run.acked).toEqual(run.ids);
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "sent", provider_id: "projects/p/messages/1" });
  });
});

describe("the Worker's queue handler", () => {
  it("leaves a batch from a queue it does not know alone, retried in an hour, with an error naming the settings", async () => {
    logs = captureLogs();
    const batch = createMessageBatch("learnink-push-dlq-old", [{ id: "m1", timestamp: new Date(), attempts: 1, body: job([queued()]) }]);
    const retryAll = vi.spyOn(batch, "retryAll");
    const ctx = createExecutionContext();
    await worker.queue(batch as MessageBatch<never>, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryBatch.retry).toBe(true);
    expect(retryAll).toHaveBeenCalledWith({ delaySeconds: UNKNOWN_QUEUE_RETRY_SECONDS });
    expect(result.explicitAcks).toEqual([]);
    expect(logs.errors()).toContainEqual(
      expect.objectContaining({
        event: "consumer_error",
        reason: "unknown_queue",
        queue: "learnink-push-dlq-old",
        push_queue_name: env.PUSH_QUEUE_NAME,
        dead_letter_queue: env.DEAD_LETTER_QUEUE,
      }),
    );
  });

  it("records a batch from DEAD_LETTER_QUEUE as dead letters instead of delivering it", async () => {
    const customId = uniqueId("emp");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
    const event = job([queued({ custom_id: customId })]);
    const batch = createMessageBatch(env.DEAD_LETTER_QUEUE, [{ id: "d1", timestamp: new Date(), attempts: 1, body: event }]);
    const ctx = createExecutionContext();
    await worker.queue(batch as MessageBatch<never>, env);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["d1"]);
    // Delivered, it would be `sent`: the device is registered and the providers work.
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "failed", error: "retries_exhausted" });
  });
});
