/**
 * The queue consumer: for a batch of PushJobs, look up the recipients (one
 * D1 query), claim the deliveries in the ledger (one), send through the
 * providers six at a time, record the outcomes (one), then ack each message
 * whose deliveries are all final and retry (or split) the others with
 * backoff (deliver.ts). Record messages of earlier invocations are written
 * first, and Expo's receipts read when due.
 *
 * A message is acked only when its outcome is final: an unexpected error
 * retries every message not yet settled, and the ledger makes the retry
 * resend only what was not sent. Outcomes D1 refuses after the pushes went
 * out are queued as RecordJobs and written by a later invocation
 * (record-later.ts), so they are not sent again.
 */
import { log } from "../log";
import { createProviders } from "../push/providers";
import { type Entry, type ReceiptJob, type RecordJob, type SortedMessages, sortMessages } from "../queue/message";
import { retryDelaySeconds } from "./backoff";
import { type BatchReport, logBatch, newReport, Settler } from "./batch";
import { type BatchContext, deliver } from "./deliver";
import { type ConsumerDeps, LEASE_MS, PUSH_TIMEOUT_MS, SEND_BUDGET_MS, SEND_CONCURRENCY, SUBREQUEST_BUDGET } from "./deps";
import { readReceipts } from "./expo-receipts";
import { recordRetryDelaySeconds, writeRecordJob } from "./record-later";
import { attemptsOf } from "./split";
import { countingD1, countingFetch, newUsage, type Usage } from "./usage";

export type { BatchReport } from "./batch";
export { type ConsumerDeps, LEASE_MS } from "./deps";

export async function consumePushBatch(batch: MessageBatch<unknown>, workerEnv: Env, overrides: Partial<ConsumerDeps> = {}): Promise<BatchReport> {
  const usage = newUsage();
  const report = newReport(batch.messages.length);
  const ctx = context(workerEnv, overrides, usage, report);
  const { pushes, records, receipts } = sort(batch, ctx.settler);
  // Outcomes of earlier invocations first: their rows are claimed until these land.
  await writeRecords(records, batch.queue, ctx);
  await readDueReceipts(receipts, batch.queue, ctx, usage);
  try {
    await deliver(pushes, ctx);
  } catch (error) {
    log("consumer_error", { queue: batch.queue, reason: "batch_failed", error: String(error) }, "error");
    for (const { message, job } of pushes) {
      if (!ctx.settler.isSettled(message)) ctx.settler.retry(message, retryDelaySeconds(attemptsOf(message, job), undefined, ctx.deps.random));
    }
  }
  logBatch(batch.queue, report, usage);
  return report;
}

/** The invocation's context: every D1 call and fetch counted (round trips against the subrequest limit, rows for the bill). */
function context(workerEnv: Env, overrides: Partial<ConsumerDeps>, usage: Usage, report: BatchReport): BatchContext {
  const env: Env = { ...workerEnv, DB: countingD1(workerEnv.DB, usage) };
  const deps: ConsumerDeps = {
    now: Date.now,
    random: Math.random,
    concurrency: SEND_CONCURRENCY,
    sendBudgetMs: SEND_BUDGET_MS,
    subrequestBudget: Number(env.MAX_SUBREQUESTS) || SUBREQUEST_BUDGET,
    leaseMs: LEASE_MS,
    ...overrides,
    providers: overrides.providers ?? createProviders(env, { fetch: countingFetch(usage), timeoutMs: PUSH_TIMEOUT_MS }),
  };
  return { env, deps, report, settler: new Settler(report) };
}

/** The batch's messages by kind; anything else is acked at once (retrying cannot help). */
function sort(batch: MessageBatch<unknown>, settler: Settler): SortedMessages {
  const sorted = sortMessages(batch.messages);
  for (const message of sorted.unknown) {
    log("consumer_error", { queue: batch.queue, message_id: message.id, reason: "malformed_message" }, "error");
    settler.ack(message);
  }
  return sorted;
}

async function writeRecords(records: readonly Entry<RecordJob>[], queue: string, { env, report, settler }: BatchContext): Promise<void> {
  for (const { message, job } of records) {
    try {
      await writeRecordJob(env.DB, job);
      report.recordsWritten++;
      settler.ack(message);
    } catch (error) {
      const delay = recordRetryDelaySeconds(message.attempts);
      const fields = { queue, reason: "record_failed", outcomes: job.outcomes.length, attempts: message.attempts };
      log("consumer_error", { ...fields, retry_in: delay, error: String(error) }, "error");
      settler.retry(message, delay);
    }
  }
}

/** Expo push receipts due now (queued 15 minutes after their pushes). */
async function readDueReceipts(receipts: readonly Entry<ReceiptJob>[], queue: string, { env, deps, settler }: BatchContext, usage: Usage): Promise<void> {
  const receiptDeps = { provider: { fetch: countingFetch(usage), now: deps.now, timeoutMs: PUSH_TIMEOUT_MS }, random: deps.random };
  for (const { message, job } of receipts) {
    try {
      const read = await readReceipts(job, message.attempts, env, receiptDeps);
      if (read.kind === "retry") settler.retry(message, read.delaySeconds);
      else settler.ack(message);
    } catch (error) {
      log("consumer_error", { queue, reason: "receipts_failed", app: job.app, attempts: message.attempts, error: String(error) }, "error");
      settler.retry(message, retryDelaySeconds(message.attempts, undefined, deps.random));
    }
  }
}
