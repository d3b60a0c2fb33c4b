/**
 * Expo through the consumer and the stand-in: a batch's Expo devices go out
 * in requests of up to 100, tickets become deliveries in the ledger's
 * documents (the ticket id as provider id) and verdicts, and a ReceiptJob
 * queued 15 minutes on reads the receipts: DeviceNotRegistered removes a
 * few devices and, in a burst, goes through the pruning brake; receipts not
 * ready are read again.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { packTickets, RECEIPT_DELAY_SECONDS, RECEIPT_ROUNDS } from "../../src/delivery/expo-receipts";
import { bucketOfJob } from "../../src/delivery/plan";
import { createIsolateMemory } from "../../src/push/credential-cache";
import { createProviders } from "../../src/push/providers";
import type { PushJob, ReceiptJob } from "../../src/queue/message";
import { alertOf, job, queued, recordingQueue, runBatch, seedDevices } from "../support/delivery";
import { expoToken, uniqueId } from "../support/ids";
import { legacyDelivery, legacyNotification, seedLegacy } from "../support/legacy";
import { ledgerOf } from "../support/ledger";
import { captureLogs } from "../support/logs";
import { failRate, freshExpoAccessToken, pushes, script, stats } from "../support/standins";

let logs: ReturnType<typeof captureLogs> | undefined;
afterEach(() => logs?.stop());

/** `count` users with an Expo device each, in an app of their own whose access token is the test's. */
async function expoFleet(count: number) {
  const app = uniqueId("app");
  const { accessToken } = await freshExpoAccessToken();
  const prefix = `ExponentPushToken[${uniqueId("fleet")}`;
  const users = Array.from({ length: count }, (_, i) => ({ custom_id: uniqueId("emp"), token: `${prefix}-${i}]` }));
  await seedDevices(users.map((u) => ({ ...u, provider: "expo" as const, user_id: null, app })));
  const jobs: PushJob[] = [];
  for (let i = 0; i < count; i += 50) jobs.push(job(users.slice(i, i + 50).map((u, k) => queued({ i: k, custom_id: u.custom_id }))));
  const queue = recordingQueue();
  const config = {
    EXPO_API_BASE: env.STANDIN_URL,
    EXPO_ACCESS_TOKEN_TEST: accessToken,
    APPS: JSON.stringify({ [app]: { expo_access_token_secret: "EXPO_ACCESS_TOKEN_TEST" } }),
  };
  const envOverrides = { ...config, PUSH_QUEUE: queue.queue } as Partial<Env>;
  const providers = createProviders({ ...env, ...config } as Env, {}, createIsolateMemory());
  const receiptJobs = () => queue.sent.map((m) => m.body as ReceiptJob);
  return { app, accessToken, prefix, users, tokens: users.map((u) => u.token), jobs, queue, envOverrides, providers, receiptJobs };
}

async function devices(tokens: readonly string[]) {
  const { results } = await env.DB.prepare(
    "SELECT token, quarantined_at IS NOT NULL AS held FROM devices WHERE token IN (SELECT value FROM json_each(?1))",
  )
    .bind(JSON.stringify(tokens))
    .all<{ token: string; held: number }>();
  return { kept: results.length, quarantined: results.filter((r) => r.held).length };
}

describe("Expo through the consumer", () => {
  it("sends 150 devices in two requests, records each ticket id, and queues one receipt read 15 minutes on", async () => {
    const fleet = await expoFleet(150);
    const { report } = await runBatch(fleet.jobs, { providers: fleet.providers }, 1, fleet.envOverrides);
    expect(report.outcomes).toEqual({ sent: 150 });
    expect(await stats({ access_token: fleet.accessToken })).toMatchObject({ expo_requests: 2, expo_pushes: 150 });

    const ledger = await ledgerOf(fleet.jobs[0]!.event_id);
    const row = ledger!.deliveries[0]!;
    const [push] = await pushes({ token: row.token });
    expect(row).toMatchObject({ provider: "expo", status: "sent", providerId: push!.provider_id });

    expect(fleet.queue.sent).toHaveLength(1);
    expect(fleet.queue.sent[0]!.delaySeconds).toBe(RECEIPT_DELAY_SECONDS);
    const receiptJob = fleet.receiptJobs()[0]!;
    expect(receiptJob).toMatchObject({ kind: "expo_receipts", app: fleet.app, round: 1 });
    expect(receiptJob.events.flatMap((e) => e.t)).toHaveLength(150);
    // Each event with its bucket: the read finds its documents by key.
    expect(receiptJob.events.map((e) => e.b)).toEqual(fleet.jobs.map(bucketOfJob));
  });

  it("acts on ticket errors: a dead token goes, a throttled device waits, bad credentials raise an alert and wait", async () => {
    const fleet = await expoFleet(4);
    await script(fleet.tokens[0]!, [{ preset: "expo_device_not_registered" }]);
    await script(fleet.tokens[1]!, [{ preset: "expo_message_rate_exceeded" }]);
    await script(fleet.tokens[2]!, [{ preset: "expo_invalid_credentials" }]);
    logs = captureLogs();
    const { report } = await runBatch(fleet.jobs, { providers: fleet.providers }, 1, fleet.envOverrides);
    logs.stop();
    expect(report.outcomes).toEqual({ invalid_token: 1, retrying: 2, sent: 1 });
    expect(await devices(fleet.tokens)).toEqual({ kept: 3, quarantined: 0 });
    const errors = new Map((await ledgerOf(fleet.jobs[0]!.event_id))!.deliveries.map((d) => [d.token, d.error]));
    expect(fleet.tokens.map((t) => errors.get(t))).toEqual(["DeviceNotRegistered", "MessageRateExceeded", "provider_misconfigured:InvalidCredentials", null]);
    expect(await alertOf("provider_misconfigured", "expo", fleet.app, "InvalidCredentials")).toMatchObject({ check: expect.stringContaining("eas credentials") });
  });

  it("applies DeviceNotRegistered from receipts: the device goes and the delivery becomes invalid_token", async () => {
    const fleet = await expoFleet(120);
    for (const token of fleet.tokens.slice(0, 10)) await script(token, [{ preset: "expo_receipt_device_not_registered" }]);
    await script(fleet.tokens[10]!, [{ preset: "expo_receipt_message_too_big" }]);
    await runBatch(fleet.jobs, { providers: fleet.providers }, 1, fleet.envOverrides);
    expect(await devices(fleet.tokens)).toEqual({ kept: 120, quarantined: 0 });

    const later = Date.now() + RECEIPT_DELAY_SECONDS * 1000;
    const read = await runBatch(fleet.receiptJobs(), { providers: fleet.providers, now: () => later }, 1, fleet.envOverrides);
    expect(read.acked).toEqual(read.ids);
    expect(await devices(fleet.tokens)).toEqual({ kept: 110, quarantined: 0 });
    const { summary, deliveries: rows } = (await ledgerOf(fleet.jobs[0]!.event_id))!;
    expect(summary).toEqual({ sent: 39, invalid_token: 10, failed: 1 });
    const ticket = (await pushes({ token: fleet.tokens[0] }))[0]!.provider_id;
    expect(rows.find((d) => d.token === fleet.tokens[0])).toMatchObject({ status: "invalid_token", error: "receipt:DeviceNotRegistered", providerId: ticket });
    expect(rows.find((d) => d.token === fleet.tokens[10])).toMatchObject({ status: "failed", error: "receipt:MessageTooBig" });
    expect(await stats({ access_token: fleet.accessToken })).toMatchObject({ expo_receipt_requests: 1 });
  });

  it("sends a push Expo throttled (receipt MessageRateExceeded) again after a backoff, as a replay of that delivery only", async () => {
    const fleet = await expoFleet(3);
    await script(fleet.tokens[1]!, [{ preset: "expo_receipt_message_rate_exceeded" }]);
    await runBatch(fleet.jobs, { providers: fleet.providers }, 1, fleet.envOverrides);
    const receipts = fleet.receiptJobs();
    const later = Date.now() + RECEIPT_DELAY_SECONDS * 1000;
    await runBatch(receipts, { providers: fleet.providers, now: () => later }, 1, fleet.envOverrides);
    const rows = (await ledgerOf(fleet.jobs[0]!.event_id))!.deliveries;
    expect(rows.find((d) => d.token === fleet.tokens[1])).toMatchObject({ status: "failed", error: "receipt:MessageRateExceeded" });
    const resend = fleet.queue.sent.filter((m) => (m.body as PushJob).retry_failed);
    expect(resend).toHaveLength(1);
    expect(resend[0]!.delaySeconds).toBeGreaterThan(0);
    expect((resend[0]!.body as PushJob).notifications.map((n) => n.i)).toEqual([1]);
    expect((resend[0]!.body as PushJob).t).toBe(bucketOfJob(fleet.jobs[0]!));

    await runBatch([resend[0]!.body], { providers: fleet.providers }, 1, fleet.envOverrides);
    expect((await pushes({ token: fleet.tokens[1] })).length).toBe(2);
    expect((await pushes({ token: fleet.tokens[0] })).length).toBe(1);
    expect((await ledgerOf(fleet.jobs[0]!.event_id))!.summary).toEqual({ sent: 3 });
  });

  it("holds a burst of DeviceNotRegistered receipts with the pruning brake: quarantined, alerted, not deleted", async () => {
    const fleet = await expoFleet(120);
    await failRate({ rate: 1, preset: "expo_receipt_device_not_registered", token_prefix: fleet.prefix });
    await runBatch(fleet.jobs, { providers: fleet.providers }, 1, fleet.envOverrides);
    await failRate({ rate: 0, token_prefix: fleet.prefix });
    logs = captureLogs();
    await runBatch(fleet.receiptJobs(), { providers: fleet.providers }, 1, fleet.envOverrides);
    logs.stop();
    expect(await devices(fleet.tokens)).toEqual({ kept: 120, quarantined: 120 });
    expect(await alertOf("pruning_brake", "expo", fleet.app)).toMatchObject({ count: 120 });
    expect(logs.errors()).toContainEqual(expect.objectContaining({ event: "alert", kind: "pruning_brake", provider: "expo", app: fleet.app, quarantined: 120 }));
  });

  it(`reads receipts Expo does not have yet again, ${RECEIPT_ROUNDS} times in all, then logs them missing`, async () => {
    const fleet = await expoFleet(1);
    const unknown: ReceiptJob = {
      v: 1,
      kind: "expo_receipts",
      app: fleet.app,
      round: 1,
      events: [{ e: uniqueId("msg"), t: [[crypto.randomUUID(), fleet.tokens[0]!, 0]] }],
    };
    await runBatch([unknown], { providers: fleet.providers }, 1, fleet.envOverrides);
    expect(fleet.queue.sent.map((m) => [(m.body as ReceiptJob).round, m.delaySeconds])).toEqual([[2, RECEIPT_DELAY_SECONDS]]);
    logs = captureLogs();
    await runBatch([{ ...unknown, round: RECEIPT_ROUNDS }], { providers: fleet.providers }, 1, fleet.envOverrides);
    logs.stop();
    expect(fleet.queue.sent).toHaveLength(1);
    expect(logs.lines()).toContainEqual(expect.objectContaining({ event: "expo_receipts", pending: 1, missing: 1 }));
  });

  it("retries a receipt read Expo refuses (access token revoked) and raises the alert", async () => {
    const fleet = await expoFleet(1);
    const job: ReceiptJob = { v: 1, kind: "expo_receipts", app: fleet.app, round: 1, events: [{ e: uniqueId("msg"), t: [[crypto.randomUUID(), fleet.tokens[0]!, 0]] }] };
    const revoked = { ...fleet.envOverrides, EXPO_ACCESS_TOKEN_TEST: "revoked-token" } as Partial<Env>;
    const run = await runBatch([job], { providers: fleet.providers }, 1, revoked);
    expect(run.retried.size).toBe(1);
    expect(await alertOf("provider_misconfigured", "expo", fleet.app, "EXPO_ACCESS_TOKEN")).toBeDefined();
  });
});

describe("Expo receipts queued by the previous version (no bucket per event)", () => {
  it("find their documents by the event's id", async () => {
    const fleet = await expoFleet(2);
    await script(fleet.tokens[0]!, [{ preset: "expo_receipt_device_not_registered" }]);
    await runBatch(fleet.jobs, { providers: fleet.providers }, 1, fleet.envOverrides);
    const previous = fleet.receiptJobs().map((j) => ({ ...j, events: j.events.map(({ b: _, ...e }) => e) }));
    await runBatch(previous, { providers: fleet.providers }, 1, fleet.envOverrides);
    expect((await ledgerOf(fleet.jobs[0]!.event_id))!.summary).toEqual({ sent: 1, invalid_token: 1 });
  });

  it("land on the previous ledger's row a push of the previous version left", async () => {
    const fleet = await expoFleet(1);
    await script(fleet.tokens[0]!, [{ preset: "expo_receipt_device_not_registered" }]);
    await runBatch(fleet.jobs, { providers: fleet.providers }, 1, fleet.envOverrides);
    // As the previous version recorded it: the ticket on a row of the previous ledger, no document.
    const event = fleet.jobs[0]!;
    const ticket = (await pushes({ token: fleet.tokens[0] }))[0]!.provider_id;
    const mine = "SELECT bucket, seq FROM ledger WHERE bucket = ?1 AND instr(events, json_quote(?2)) > 0";
    await env.DB.batch(["ledger_docs", "ledger"].map((t) => env.DB.prepare(`DELETE FROM ${t} WHERE (bucket, seq) IN (${mine})`).bind(bucketOfJob(event), event.event_id)));
    const sent = legacyDelivery({ device_token: fleet.tokens[0]!, provider: "expo", app: fleet.app, provider_id: ticket });
    await seedLegacy([{ event_id: event.event_id, received_at: event.received_at, replayed_at: null, notifications: [legacyNotification(0, [sent])] }]);

    const previous = fleet.receiptJobs().map((j) => ({ ...j, events: j.events.map(({ b: _, ...e }) => e) }));
    await runBatch(previous, { providers: fleet.providers }, 1, fleet.envOverrides);
    const row = await env.DB.prepare("SELECT status, error, provider_id FROM deliveries WHERE event_id = ?1").bind(event.event_id).first();
    expect(row).toEqual({ status: "invalid_token", error: "receipt:DeviceNotRegistered", provider_id: ticket });
  });
});

describe("packTickets", () => {
  it("packs at most 1,000 tickets and 120 KB per job, grouped by event", () => {
    const tickets = Array.from({ length: 2_500 }, (_, i) => ({
      eventId: `msg_${Math.floor(i / 700)}_${"e".repeat(30)}`,
      index: i % 700,
      token: expoToken(),
      id: crypto.randomUUID(),
    }));
    const jobs = packTickets({ app: "default", round: 1, sentAt: 1 }, tickets);
    expect(jobs.map((j) => j.events.reduce((n, e) => n + e.t.length, 0))).toEqual([1000, 1000, 500]);
    for (const j of jobs) expect(new TextEncoder().encode(JSON.stringify(j)).length).toBeLessThan(120_000);
    expect(jobs.flatMap((j) => j.events.flatMap((e) => e.t.map((t) => t[0])))).toEqual(tickets.map((t) => t.id));
  });
});
