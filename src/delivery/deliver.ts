/**
 * A batch's PushJobs, as the steps of one delivery: claim (look up the
 * recipients, plan a ledger row per notification and device, claim them in
 * one transaction), send what is ours (six at a time, holding what the
 * quiet hours hold), record the outcomes (one transaction), then settle
 * each message by what still waits in it.
 */
import type { StoredDoc } from "../db/doc";
import { QUIET_HOURS } from "../db/ledger";
import type { DeviceRow } from "../db/devices";
import { parseDocs } from "../db/doc-store";
import { claimDeliveries, claimReadStatement, type Released } from "../db/ledger-writes";
import { log } from "../log";
import { runPool } from "../pool";
import { oneSignalConfig, type OneSignalSettings } from "../push/onesignal/config";
import type { PushJob } from "../queue/message";
import { type BatchReport, countOutcome, type Settler } from "./batch";
import { sendGate } from "./budget";
import { waitsOf } from "./delays";
import { type ConsumerDeps, DUE_TOLERANCE_MS } from "./deps";
import { queueReceiptReads, receiptJobsFor } from "./expo-receipts";
import { type Attempted, type Settled, settle } from "./outcomes";
import { ledgerNotification, planDeliveries, type Plan, uniqueWorks, type Work } from "./plan";
import { heldUntil, type QuietHours, quietHoursOf } from "./quiet-hours";
import { recordBatch } from "./record-step";
import { recipientsOf, recipientsStatements } from "./recipients";
import { sendTask, sendTasks } from "./send";
import { readSignals, type Signals } from "./signals";
import { settleMessages } from "./split";
import { splitStarted, type Triage, triage } from "./triage";

/** What every step of a batch works with. */
export interface BatchContext {
  env: Env;
  deps: ConsumerDeps;
  report: BatchReport;
  settler: Settler;
}

/** The claim's result: the plan, and what each of its rows asks of this invocation. */
interface Claimed {
  plan: Plan;
  /** The ledger documents as the claim left them. */
  docs: StoredDoc[];
  claimId: string;
  claimedAt: number;
  rows: Triage;
}

/** The sends' result. */
interface Sent {
  sent: Attempted[];
  /** Rows that go back unsent: never started (the budget ran out), or held for the quiet hours. */
  released: Released[];
  settled: Settled;
  signals: Signals;
  finishedAt: number;
}

export async function deliver(jobs: readonly { message: Message<unknown>; job: PushJob }[], ctx: BatchContext): Promise<void> {
  const { env, report } = ctx;
  const { works, replayed } = uniqueWorks(jobs.map((j) => j.job));
  report.notifications = works.size;
  if (works.size === 0) {
    for (const { message } of jobs) ctx.settler.ack(message);
    return;
  }
  const claimed = await claim(works, replayed, ctx);
  const sent = await send(claimed, ctx);
  const leaseUntil = claimed.claimedAt + ctx.deps.leaseMs;
  const options = {
    claimId: claimed.claimId,
    now: sent.finishedAt,
    docs: claimed.docs.map(({ bucket, seq }) => ({ bucket, seq })),
    ...sent.signals,
    environmentFixes: sent.settled.environmentFixes,
    orphans: claimed.rows.orphans,
    released: sent.released,
  };
  const input = { outcomes: sent.settled.outcomes, options, signals: sent.signals, leaseUntil, cached: claimed.docs };
  const missed = await recordBatch(env.DB, env.PUSH_QUEUE, input, report);
  // What APNs and FCM made of the Expo pushes is in their receipts, read 15 minutes on.
  report.receiptReadsQueued = await queueReceiptReads(env.PUSH_QUEUE, receiptJobsFor(sent.sent, claimed.claimedAt));
  const { notDue, elsewhere } = claimed.rows;
  const waits = waitsOf({ outcomes: sent.settled.delays, released: sent.released, notDue, elsewhere: [...elsewhere, ...missed], now: sent.finishedAt });
  report.split = await settleMessages(jobs, waits, env.PUSH_QUEUE, ctx.settler);
}

/**
 * Looks up the recipients and reads the ledger's documents (one round
 * trip), then claims the deliveries (one transaction; more only if another
 * invocation wrote the same documents meanwhile); counts the placeholders.
 */
async function claim(works: Map<string, Work>, replayed: ReadonlySet<string>, { env, deps, report }: BatchContext): Promise<Claimed> {
  const oneSignal = oneSignalConfig(env as OneSignalSettings);
  const notifications = [...works.values()].map((w) => ledgerNotification(w.job, w.n));
  const lookups = recipientsStatements(env.DB, [...works.values()].map((w) => w.n));
  const results = await env.DB.batch([...lookups, claimReadStatement(env.DB, notifications)]);
  report.d1RoundTrips++;
  const devices = results.slice(0, lookups.length).flatMap((r) => r.results as DeviceRow[]);
  const read = results.at(-1)!;
  const devicesOf = recipientsOf(devices, oneSignal.kind === "off" ? null : oneSignal.externalId);
  const plan = planDeliveries(works, replayed, devicesOf);
  const claimId = crypto.randomUUID();
  const claimedAt = deps.now();
  const lease = { claimId, now: claimedAt, leaseUntil: claimedAt + deps.leaseMs, dueBy: claimedAt + DUE_TOLERANCE_MS };
  const { rows: ledger, docs } = await claimDeliveries(env.DB, plan, lease, await parseDocs(read));
  const rows = triage(ledger, plan.targets, claimId, claimedAt);
  report.d1RoundTrips++;
  report.claimed = rows.mine.length;
  report.notDue = rows.notDue.length;
  for (const row of rows.noDevice) {
    countOutcome(report, row.status);
    log("delivery", { event_id: row.eventId, index: row.index, provider: null, status: row.status, error: row.error });
  }
  return { plan, docs, claimId, claimedAt, rows };
}

/** Sends this invocation's rows within its budget, the quiet hours aside; settles what the providers answered. */
async function send({ rows, claimedAt }: Claimed, { env, deps, report }: BatchContext): Promise<Sent> {
  const canStart = sendGate({ subrequests: deps.subrequestBudget, spent: report.d1RoundTrips, deadline: claimedAt + deps.sendBudgetMs, now: deps.now });
  // Pushes that would land in the quiet hours on their device's clock wait for the window's end, unsent.
  const { now: toSend, held } = holdForQuietHours(rows.mine, quietHoursOf(env, quietHoursProblem), claimedAt);
  report.held = held.length;
  // A task is one request: a row for FCM and APNs, up to 100 rows of one app for Expo.
  await runPool(sendTasks(toSend, deps.providers), deps.concurrency, (task) => sendTask(task, env.LEARNINK_ORG_ID, deps.providers), canStart);
  const finishedAt = deps.now();
  // Rows never started go back as they were: no attempt counted, due at once.
  const { sent, released: deferred } = splitStarted(toSend);
  report.deferred = deferred.length;
  const settled = settle(sent, finishedAt, deps.random);
  for (const outcome of settled.outcomes) countOutcome(report, outcome.status);
  return { sent, released: [...deferred, ...held], settled, signals: readSignals(sent, claimedAt), finishedAt };
}

/** What the quiet hours hold back (their rows go back `retrying` until the window ends), and what goes now. */
function holdForQuietHours(mine: Attempted[], quiet: QuietHours | null, now: number): { now: Attempted[]; held: Released[] } {
  if (quiet === null) return { now: mine, held: [] };
  const held: Released[] = [];
  const toSend: Attempted[] = [];
  for (const attempt of mine) {
    const until = heldUntil(quiet, attempt.device.time_zone, now);
    if (until === null) toSend.push(attempt);
    else held.push({ eventId: attempt.work.job.event_id, index: attempt.work.n.i, token: attempt.device.token, until, reason: QUIET_HOURS });
  }
  return { now: toSend, held };
}

const quietHoursProblem = (problem: string) => log("consumer_error", { reason: "quiet_hours_setting", problem }, "error");
