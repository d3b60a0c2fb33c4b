/**
 * The queue consumer: for a batch of PushJobs, look up the recipients (one
 * D1 query), claim the deliveries in the ledger (one), send through the
 * providers six at a time, record the outcomes (one), then ack each message
 * whose deliveries are all final and retry the others with backoff.
 *
 * A message is acked only when its outcome is final: an unexpected error
 * retries every message not yet settled, and the ledger makes the retry
 * resend only what was not sent. Outcomes D1 refuses after the pushes went
 * out are queued as RecordJobs and written by a later invocation
 * (record-later.ts), so they are not sent again.
 */
import { type DeliveryKey, QUIET_HOURS } from "../db/ledger";
import { type ClaimedRow, claimDeliveries, type RecordOptions, recordOutcomes, type Released } from "../db/ledger-writes";
import type { Attempted } from "./outcomes";
import { heldUntil, type QuietHours, quietHoursOf } from "./quiet-hours";
import type { Provider } from "../push/providers";
import { log } from "../log";
import { oneSignalConfig, type OneSignalSettings } from "../push/onesignal/config";
import { createProviders } from "../push/providers";
import type { PushProvider } from "../push/provider";
import { isPushJob, isReceiptJob, isRecordJob, type PushJob, type ReceiptJob, type RecordJob } from "../queue/message";
import { retryDelaySeconds } from "./backoff";
import { sendGate } from "./budget";
import { type MessageAction, messageAction, waitsOf } from "./delays";
import { enqueueJobs } from "../queue/enqueue";
import { queueReceiptReads, readReceipts, receiptJobsFor } from "./expo-receipts";
import { settle } from "./outcomes";
import { planDeliveries, uniqueWorks } from "./plan";
import { runPool } from "../pool";
import { recordLater, recordRetryDelaySeconds, writeRecordJob } from "./record-later";
import { resolveRecipients } from "./recipients";
import { sendTask, sendTasks } from "./send";
import { logSignals, readSignals } from "./signals";
import { splitStarted, triage } from "./triage";
import { countingD1, countingFetch, newUsage } from "./usage";

export interface ConsumerDeps {
  providers: Record<Provider, PushProvider>;
  now: () => number;
  random: () => number;
  /** Sends in flight at once: 6, the per-invocation limit on open connections. */
  concurrency: number;
  /** No new send starts after this long; the rest is retried in a later invocation. */
  sendBudgetMs: number;
  /** Subrequests (fetches and D1 calls) one invocation may make: 10,000 on paid plans by default. */
  subrequestBudget: number;
  /** How long a claimed row belongs to this invocation. */
  leaseMs: number;
}

/**
 * A consumer invocation may run 15 minutes of wall time; a lease that long
 * can only expire once its owner is certainly gone, so reclaiming it never
 * races a live sender.
 */
export const LEASE_MS = 15 * 60_000;
/** Leaves 10 minutes of the 15 for sends already started, D1 and retries. */
export const SEND_BUDGET_MS = 5 * 60_000;
export const SEND_CONCURRENCY = 6;
/** The default per-invocation subrequest limit of paid plans (set MAX_SUBREQUESTS to match yours). */
export const SUBREQUEST_BUDGET = 10_000;
/** Per-request provider timeout. */
export const PUSH_TIMEOUT_MS = 10_000;
/**
 * A `retrying` row may be claimed this early: the message that waits for
 * it is redelivered after its delay by another machine, whose clock may be
 * a little behind; without the margin it would bounce once more and spend
 * a retry for nothing.
 */
export const DUE_TOLERANCE_MS = 1_000;

/** What one invocation did; logged as one line and returned for tests and the benchmark. */
export interface BatchReport {
  messages: number;
  notifications: number;
  claimed: number;
  /** Claimed rows not started because the time or subrequest budget ran out. */
  deferred: number;
  /** Rows left `retrying` because they are not due yet (a duplicate or early message). */
  notDue: number;
  /** Claimed rows held for the quiet hours on their device's clock. */
  held: number;
  outcomes: Record<string, number>;
  /** The consumer's own D1 round trips: lookup, claim, record. */
  d1RoundTrips: number;
  /** Everything counted against the invocation's limit: fetches and every D1 call (the above and the credential cache's). */
  subrequests: number;
  /** Rows D1 read and wrote for this invocation (its `meta`): what D1 bills. */
  d1RowsRead: number;
  d1RowsWritten: number;
  /** RecordJobs this invocation queued because D1 refused its outcomes (see record-later.ts). */
  recordsQueued: number;
  /** RecordJobs of earlier invocations this one wrote. */
  recordsWritten: number;
  /** Claimed rows the record step found no longer this claim's (an internal error: their messages wait for the lease). */
  recordMissed: number;
  /** ReceiptJobs queued for the Expo pushes this invocation sent (read 15 minutes later). */
  receiptReadsQueued: number;
  acked: number;
  retried: number;
  /** Message id -> delay in seconds, for every retried message. */
  retryDelays: Record<string, number>;
  /** Messages queued for groups that wait apart from the rest of their message (delays.ts). */
  split: number;
}

export async function consumePushBatch(
  batch: MessageBatch<unknown>,
  workerEnv: Env,
  overrides: Partial<ConsumerDeps> = {},
): Promise<BatchReport> {
  const usage = newUsage();
  // Every D1 call of this invocation is counted: round trips against the subrequest limit, rows for the bill.
  const env: Env = { ...workerEnv, DB: countingD1(workerEnv.DB, usage) };
  const deps: ConsumerDeps = {
    now: Date.now,
    random: Math.random,
    concurrency: SEND_CONCURRENCY,
    sendBudgetMs: SEND_BUDGET_MS,
    subrequestBudget: Number(env.MAX_SUBREQUESTS) || SUBREQUEST_BUDGET,
    leaseMs: LEASE_MS,
    ...overrides,
    providers:
      overrides.providers ??
      createProviders(env, { fetch: countingFetch(usage), timeoutMs: PUSH_TIMEOUT_MS }),
  };
  const report: BatchReport = {
    messages: batch.messages.length,
    notifications: 0,
    claimed: 0,
    deferred: 0,
    notDue: 0,
    held: 0,
    outcomes: {},
    d1RoundTrips: 0,
    subrequests: 0,
    d1RowsRead: 0,
    d1RowsWritten: 0,
    recordsQueued: 0,
    recordsWritten: 0,
    recordMissed: 0,
    receiptReadsQueued: 0,
    acked: 0,
    retried: 0,
    retryDelays: {},
    split: 0,
  };
  const settled = new Set<string>();
  const ack = (message: Message<unknown>) => {
    settled.add(message.id);
    message.ack();
    report.acked++;
  };
  const retry = (message: Message<unknown>, delaySeconds: number) => {
    settled.add(message.id);
    message.retry({ delaySeconds });
    report.retried++;
    report.retryDelays[message.id] = delaySeconds;
  };

  const jobs: { message: Message<unknown>; job: PushJob }[] = [];
  const records: { message: Message<unknown>; job: RecordJob }[] = [];
  const receipts: { message: Message<unknown>; job: ReceiptJob }[] = [];
  for (const message of batch.messages) {
    if (isPushJob(message.body)) jobs.push({ message, job: message.body });
    else if (isRecordJob(message.body)) records.push({ message, job: message.body });
    else if (isReceiptJob(message.body)) receipts.push({ message, job: message.body });
    else {
      // Not ours (or from an incompatible version): retrying cannot help.
      log("consumer_error", { queue: batch.queue, message_id: message.id, reason: "malformed_message" }, "error");
      ack(message);
    }
  }

  // Outcomes of earlier invocations first: their rows are claimed until these land.
  for (const { message, job } of records) {
    try {
      await writeRecordJob(env.DB, job);
      report.recordsWritten++;
      ack(message);
    } catch (error) {
      const delay = recordRetryDelaySeconds(message.attempts);
      const fields = { queue: batch.queue, reason: "record_failed", outcomes: job.outcomes.length, attempts: message.attempts };
      log("consumer_error", { ...fields, retry_in: delay, error: String(error) }, "error");
      retry(message, delay);
    }
  }

  // Expo push receipts due now (queued 15 minutes after their pushes).
  const receiptDeps = { provider: { fetch: countingFetch(usage), now: deps.now, timeoutMs: PUSH_TIMEOUT_MS }, random: deps.random };
  for (const { message, job } of receipts) {
    try {
      const read = await readReceipts(job, message.attempts, env, receiptDeps);
      if (read.kind === "retry") retry(message, read.delaySeconds);
      else ack(message);
    } catch (error) {
      log("consumer_error", { queue: batch.queue, reason: "receipts_failed", app: job.app, attempts: message.attempts, error: String(error) }, "error");
      retry(message, retryDelaySeconds(message.attempts, undefined, deps.random));
    }
  }

  try {
    await deliver(jobs, env, deps, report, ack, retry);
  } catch (error) {
    log("consumer_error", { queue: batch.queue, reason: "batch_failed", error: String(error) }, "error");
    for (const { message, job } of jobs) {
      if (!settled.has(message.id)) retry(message, retryDelaySeconds(attemptsOf(message, job), undefined, deps.random));
    }
  }
  report.subrequests = usage.fetches + usage.d1;
  report.d1RowsRead = usage.rowsRead;
  report.d1RowsWritten = usage.rowsWritten;
  log("delivery_batch", {
    queue: batch.queue,
    messages: report.messages,
    notifications: report.notifications,
    claimed: report.claimed,
    deferred: report.deferred,
    not_due: report.notDue,
    held: report.held,
    d1_round_trips: report.d1RoundTrips,
    subrequests: report.subrequests,
    d1_rows_read: report.d1RowsRead,
    d1_rows_written: report.d1RowsWritten,
    records_queued: report.recordsQueued,
    records_written: report.recordsWritten,
    acked: report.acked,
    retried: report.retried,
    split: report.split,
    record_missed: report.recordMissed,
  });
  return report;
}

async function deliver(
  jobs: readonly { message: Message<unknown>; job: PushJob }[],
  env: Env,
  deps: ConsumerDeps,
  report: BatchReport,
  ack: (message: Message<unknown>) => void,
  retry: (message: Message<unknown>, delaySeconds: number) => void,
): Promise<void> {
  const { works, replayed } = uniqueWorks(jobs.map((j) => j.job));
  report.notifications = works.size;
  if (works.size === 0) {
    for (const { message } of jobs) ack(message);
    return;
  }

  const oneSignal = oneSignalConfig(env as OneSignalSettings);
  const devicesOf = await resolveRecipients(env.DB, [...works.values()].map((w) => w.n), oneSignal.kind === "off" ? null : oneSignal.externalId);
  report.d1RoundTrips++;
  const plan = planDeliveries(works, replayed, devicesOf);

  const claimId = crypto.randomUUID();
  const claimedAt = deps.now();
  const rows = await claimDeliveries(env.DB, plan, {
    claimId,
    now: claimedAt,
    leaseUntil: claimedAt + deps.leaseMs,
    dueBy: claimedAt + DUE_TOLERANCE_MS,
  });
  report.d1RoundTrips++;

  const { mine, orphans, elsewhere, notDue, noDevice } = triage(rows, plan.targets, claimId, claimedAt);
  report.claimed = mine.length;
  report.notDue = notDue.length;
  for (const row of noDevice) {
    report.outcomes[row.status] = (report.outcomes[row.status] ?? 0) + 1;
    log("delivery", { event_id: row.eventId, index: row.index, provider: null, status: row.status, error: row.error });
  }

  const canStart = sendGate({
    subrequests: deps.subrequestBudget,
    spent: report.d1RoundTrips,
    deadline: claimedAt + deps.sendBudgetMs,
    now: deps.now,
  });
  // Pushes that would land in the quiet hours on their device's clock wait for the window's end, unsent.
  const { now: toSend, held } = holdForQuietHours(mine, quietHoursOf(env, quietHoursProblem), claimedAt);
  report.held = held.length;
  // A task is one request: a row for FCM and APNs, up to 100 rows of one app for Expo.
  await runPool(sendTasks(toSend, deps.providers), deps.concurrency, (task) => sendTask(task, env.LEARNINK_ORG_ID, deps.providers), canStart);

  const finishedAt = deps.now();
  // Rows never started go back as they were: no attempt counted, due at once.
  const { sent, released: deferred } = splitStarted(toSend);
  report.deferred = deferred.length;
  const released = [...deferred, ...held];
  const settled = settle(sent, finishedAt, deps.random);
  for (const outcome of settled.outcomes) report.outcomes[outcome.status] = (report.outcomes[outcome.status] ?? 0) + 1;
  const signals = readSignals(sent, claimedAt);
  const recordOptions: RecordOptions = {
    claimId,
    now: finishedAt,
    ...signals,
    environmentFixes: settled.environmentFixes,
    orphans,
    released,
  };
  const leaseUntil = claimedAt + deps.leaseMs;
  try {
    const recorded = await withRetries(() => recordOutcomes(env.DB, settled.outcomes, recordOptions));
    if (recorded) {
      report.d1RoundTrips++;
      logSignals(signals, recorded);
      elsewhere.push(...unmatched(recorded.missed, claimId, leaseUntil, report));
    }
  } catch (error) {
    // The providers have answered: retrying the messages now would resend these pushes once the lease
    // runs out. The outcomes wait on the queue instead, and the messages go on as if they were written.
    report.recordsQueued = await queueRecord(env, settled.outcomes, recordOptions, error);
  }

  // What APNs and FCM made of the Expo pushes is in their receipts, read 15 minutes on.
  report.receiptReadsQueued = await queueReceiptReads(env.PUSH_QUEUE, receiptJobsFor(sent, claimedAt));

  const waits = waitsOf({ outcomes: settled.delays, released, notDue, elsewhere, now: finishedAt });
  const actions = jobs.map(({ message, job }) => ({ message, job, action: messageAction(job, attemptsOf(message, job), waits) }));
  report.split = await splitOff(env.PUSH_QUEUE, actions);
  for (const { message, action } of actions) {
    if (action.kind === "retry") retry(message, action.delaySeconds);
    else ack(message);
  }
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

/** A message's deliveries so far: Queues' count, plus those of the messages it was split off. */
const attemptsOf = (message: Message<unknown>, job: PushJob) => (job.attempts_before ?? 0) + message.attempts;

type Action = { message: Message<unknown>; job: PushJob; action: MessageAction };

/**
 * Queues each group a split message leaves, with its own delay; resolves
 * with the messages queued. Should the queue refuse them, each such message
 * is retried whole after its longest wait instead (what waits is never
 * lost; it only waits together again).
 */
async function splitOff(queue: Queue, actions: Action[]): Promise<number> {
  const byDelay = new Map<number, PushJob[]>();
  for (const { message, job, action } of actions) {
    if (action.kind !== "split") continue;
    for (const group of action.groups) {
      const split: PushJob = { ...job, notifications: group.notifications, attempts_before: attemptsOf(message, job) };
      byDelay.set(group.delaySeconds, [...(byDelay.get(group.delaySeconds) ?? []), split]);
    }
  }
  if (byDelay.size === 0) return 0;
  try {
    await Promise.all([...byDelay].map(([delaySeconds, jobs]) => enqueueJobs(queue as Queue<PushJob>, jobs, { delaySeconds })));
    return [...byDelay.values()].reduce((n, jobs) => n + jobs.length, 0);
  } catch (error) {
    log("consumer_error", { reason: "split_failed", error: String(error) }, "warn");
    for (const entry of actions) {
      if (entry.action.kind !== "split") continue;
      entry.action = { kind: "retry", delaySeconds: Math.max(...entry.action.groups.map((g) => g.delaySeconds)) };
    }
    return 0;
  }
}

/**
 * Claimed rows the record step did not match: an internal error, never
 * silence. They stay `sending` under this claim, so their messages come
 * back like those of a row another invocation holds, and take the row over
 * once the lease is over.
 */
function unmatched(missed: readonly DeliveryKey[], claimId: string, leaseUntil: number, report: BatchReport): ClaimedRow[] {
  if (missed.length === 0) return [];
  report.recordMissed = missed.length;
  const first = missed.slice(0, 10).map((m) => `${m.eventId}#${m.index}`).join(" ");
  log("consumer_error", { reason: "record_missed", rows: missed.length, first, retry_after_lease: new Date(leaseUntil).toISOString() }, "error");
  return missed.map((key) => ({ ...key, status: "sending", claimedBy: claimId, claimedUntil: leaseUntil, nextAttemptAt: null, attempts: 0, error: null }));
}

/**
 * Queues outcomes D1 refused (record-later.ts); resolves with the number of
 * messages. When the queue refuses them too, throws the D1 error: the batch
 * is then retried, and its rows, claimed until the lease ends, sent again.
 */
async function queueRecord(env: Env, outcomes: RecordJob["outcomes"], options: RecordOptions, d1Error: unknown): Promise<number> {
  try {
    const messages = await recordLater(env.PUSH_QUEUE, outcomes, options);
    log("consumer_error", { reason: "record_queued", outcomes: outcomes.length, messages, error: String(d1Error) }, "warn");
    return messages;
  } catch (queueError) {
    log("consumer_error", { reason: "record_lost", outcomes: outcomes.length, error: String(d1Error), queue_error: String(queueError) }, "error");
    throw d1Error;
  }
}

/** The record step is retried briefly: a lost write would leave rows claimed until their lease ends. */
async function withRetries<T>(fn: () => Promise<T>, tries = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= tries) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}
