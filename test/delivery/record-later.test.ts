/**
 * The record step failing after the providers accepted the pushes: D1 is
 * broken for exactly that write (a wrapped binding), the pushes go to the
 * stand-ins through the real providers, and the outcomes travel through the
 * real queue to the Worker's own consumer. Nothing may be pushed twice.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LEASE_MS } from "../../src/delivery/consumer";
import { splitRecordJobs } from "../../src/delivery/record-later";
import type { Outcome, RecordOptions } from "../../src/db/ledger-writes";
import { MAX_MESSAGE_BYTES } from "../../src/queue/enqueue";
import type { PushJob, RecordJob } from "../../src/queue/message";
import { failingD1, isRecordStep } from "../support/d1";
import { alertOf, eventDeliveries, job, ownProviders, queued, registerDevice, runBatch } from "../support/delivery";
import { pushes, script, waitForPushes } from "../support/standins";
import { api, apnsToken, eventually, fcmToken, uniqueId } from "../support/webhook";

const summaryOf = async (eventId: string) => (await eventDeliveries(eventId))?.summary ?? {};

describe("a failed record step", () => {
  it("does not push again: the outcomes are queued and written later, and the message comes back to nothing to send", async () => {
    const customId = uniqueId("emp");
    const [android, iphone, busy] = [fcmToken(), apnsToken(), fcmToken()];
    await registerDevice({ provider: "fcm", token: android, custom_id: customId });
    await registerDevice({ provider: "apns", token: iphone, custom_id: customId });
    await registerDevice({ provider: "fcm", token: busy, custom_id: customId });
    await script(busy, [{ preset: "unavailable", retryAfter: 60 }]);
    const event = job([queued({ custom_id: customId })]);
    const providers = await ownProviders();
    const broken = failingD1(env.DB, isRecordStep);
    const start = Date.now();

    const first = await runBatch([event], { providers, now: () => start }, 1, { DB: broken.db });
    expect(await waitForPushes({ event_id: event.event_id }, 2)).toHaveLength(2);
    expect(broken.failures).toBe(3); // the quick tries, then the queue
    expect(first.report.recordsQueued).toBe(1);
    // The busy device asked for a retry: the message comes back for it as if the outcomes were written.
    expect(first.retried.get(first.ids[0]!)).toBe(60);

    // The RecordJob goes through the real queue to the Worker's consumer, which writes it.
    expect(await eventually(() => summaryOf(event.event_id), (s) => s.sent === 2)).toEqual({ sent: 2, retrying: 1 });

    // The message again, after the claim's lease has long run out: only the busy device is sent to.
    const again = await runBatch([event], { providers, now: () => start + LEASE_MS + 60_000 }, 2);
    expect(again.acked).toEqual(again.ids);
    const all = await pushes({ event_id: event.event_id });
    expect(all.map((p) => p.token).sort()).toEqual([android, iphone, busy].sort());
    expect(await summaryOf(event.event_id)).toEqual({ sent: 3 });
  });

  it("carries what the answers said: written later, a dead token is removed and a wrong setting alerted", async () => {
    const customId = uniqueId("emp");
    const [dead, misfit] = [fcmToken(), fcmToken()];
    await registerDevice({ provider: "fcm", token: dead, custom_id: customId });
    await registerDevice({ provider: "fcm", token: misfit, custom_id: customId });
    await script(dead, [{ preset: "unregistered" }]);
    await script(misfit, [{ preset: "sender_id_mismatch" }]);
    const event = job([queued({ custom_id: customId })]);
    const broken = failingD1(env.DB, isRecordStep);

    const first = await runBatch([event], { providers: await ownProviders() }, 1, { DB: broken.db });
    expect(first.report.recordsQueued).toBe(1);
    await eventually(() => summaryOf(event.event_id), (s) => s.invalid_token === 1);
    const devices = (await (await api(`/v1/users/${customId}/devices`)).json()) as { devices: { token: string }[] };
    expect(devices.devices.map((d) => d.token)).toEqual([misfit]);
    expect(await alertOf("provider_misconfigured", "fcm", "default", "SENDER_ID_MISMATCH")).toMatchObject({ last_event_id: event.event_id });
  });

  it("leaves the rows claimed and retries the batch when the queue refuses the outcomes too", async () => {
    const customId = uniqueId("emp");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
    const event = job([queued({ custom_id: customId })]);
    const broken = failingD1(env.DB, isRecordStep);
    const refusing = { sendBatch: async () => Promise.reject(new Error("Queue send failed: 503")) } as unknown as Queue;

    const run = await runBatch([event], { providers: await ownProviders() }, 1, { DB: broken.db, PUSH_QUEUE: refusing });
    expect(run.retried.has(run.ids[0]!)).toBe(true);
    expect(run.report.recordsQueued).toBe(0);
    // Claimed until the lease runs out: the one window (like a crash) where a resend can happen.
    expect((await eventDeliveries(event.event_id))!.deliveries[0]).toMatchObject({ status: "sending" });
  });

  it("retries a RecordJob D1 refuses after 5 s, doubling to a minute", async () => {
    const record: RecordJob = {
      v: 1,
      kind: "record",
      outcomes: [{ eventId: uniqueId("msg"), index: 0, token: fcmToken(), status: "sent", providerId: "x" }],
      options: {
        claimId: crypto.randomUUID(),
        now: Date.now(),
        tokenAnswers: [],
        deadTokens: [],
        misconfigured: [],
        accepted: [],
        environmentFixes: [],
        orphans: [],
      },
    };
    const broken = failingD1(env.DB, isRecordStep);
    const delays: number[] = [];
    for (const attempts of [1, 2, 3, 5, 12]) {
      const run = await runBatch([record as unknown as PushJob], {}, attempts, { DB: broken.db });
      delays.push(run.retried.get(run.ids[0]!)!);
    }
    // With the queue's retries they end inside the claim's lease (test/e2e/queues-config.test.ts).
    expect(delays).toEqual([5, 10, 20, 60, 60]);
  });
});

describe("splitRecordJobs", () => {
  it("splits every list into messages within the queue's limit, each item once", () => {
    const outcomes: Outcome[] = Array.from({ length: 3_000 }, (_, i) => ({
      eventId: "msg_2f1c0a9e",
      index: i,
      token: `${i}:APA91b${"x".repeat(140)}`,
      status: "sent",
      providerId: `projects/acme/messages/0:${i}%31bd1c9631bd1c96`,
      latencyMs: 840,
    }));
    const options: RecordOptions = {
      claimId: "claim-1",
      now: 1_764_000_000_000,
      tokenAnswers: [{ provider: "fcm", app: "default", answered: 3_000, dead: 500 }],
      deadTokens: Array.from({ length: 500 }, (_, i) => ({ token: `dead-${i}-${"y".repeat(150)}`, provider: "fcm", app: "default", reason: "UNREGISTERED", sentAt: 1_764_000_000_000 })),
      misconfigured: [],
      accepted: [{ provider: "fcm", app: "default", ios: false }],
      environmentFixes: [{ token: "abc", environment: "sandbox" }],
      orphans: [{ eventId: "msg_2f1c0a9e", index: 7, token: "gone" }],
      released: [],
    };
    const jobs = splitRecordJobs(outcomes, options);

    expect(jobs.length).toBeGreaterThan(3);
    for (const j of jobs) {
      expect(new TextEncoder().encode(JSON.stringify(j)).byteLength).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      expect(j.options).toMatchObject({ claimId: "claim-1", now: options.now });
    }
    expect(jobs.flatMap((j) => j.outcomes)).toEqual(outcomes);
    expect(jobs.flatMap((j) => j.options.deadTokens)).toEqual(options.deadTokens);
    // Counted once in all: a job carries each count of the brake and each accepted push once.
    expect(jobs.flatMap((j) => j.options.tokenAnswers)).toEqual(options.tokenAnswers);
    expect(jobs.flatMap((j) => j.options.accepted)).toEqual(options.accepted);
    expect(jobs.flatMap((j) => j.options.environmentFixes)).toEqual(options.environmentFixes);
    expect(jobs.flatMap((j) => j.options.orphans)).toEqual(options.orphans);
    const nothing = { tokenAnswers: [], deadTokens: [], misconfigured: [], accepted: [], environmentFixes: [], orphans: [] };
    expect(splitRecordJobs([], { ...options, ...nothing })).toEqual([]);
  });
});
