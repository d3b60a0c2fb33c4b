/**
 * The record step of a batch: the outcomes, the pruning brake's and the
 * alerts' answers, and the rows that go back unsent, in one transaction.
 * Briefly retried; should D1 still refuse, the outcomes wait on the queue
 * (record-later.ts) rather than the messages being retried, which would
 * send the pushes again once the claim's lease ran out.
 */
import type { StoredDoc } from "../db/doc";
import type { DeliveryKey } from "../db/ledger";
import { type ClaimedRow, type Outcome, type RecordOptions, recordOutcomes } from "../db/ledger-writes";
import { log } from "../log";
import type { BatchReport } from "./batch";
import { recordLater } from "./record-later";
import { logSignals, type Signals } from "./signals";

/** What the record step takes: the outcomes, the options, and the answers behind them (for the log). */
export interface RecordInput {
  outcomes: readonly Outcome[];
  options: RecordOptions;
  signals: Signals;
  leaseUntil: number;
  /** The documents as the claim left them: written without a read when nobody changed them since. */
  cached?: readonly StoredDoc[];
}

/**
 * Writes the batch's outcomes; resolves with the claimed rows it did not
 * match, as rows another invocation holds (see unmatched).
 */
export async function recordBatch(db: D1Database, queue: Queue, input: RecordInput, report: BatchReport): Promise<ClaimedRow[]> {
  try {
    const recorded = await withRetries(() => recordOutcomes(db, input.outcomes, input.options, input.cached));
    if (!recorded) return [];
    report.d1RoundTrips++;
    logSignals(input.signals, recorded);
    return unmatched(recorded.missed, input, report);
  } catch (error) {
    // The providers have answered: the outcomes wait on the queue, and the messages go on as if they were written.
    report.recordsQueued = await queueRecord(queue, input, error);
    return [];
  }
}

/**
 * Claimed rows the record step did not match: an internal error, never
 * silence. They stay `sending` under this claim, so their messages come
 * back like those of a row another invocation holds, and take the row over
 * once the lease is over.
 */
function unmatched(missed: readonly DeliveryKey[], input: RecordInput, report: BatchReport): ClaimedRow[] {
  if (missed.length === 0) return [];
  report.recordMissed = missed.length;
  const first = missed.slice(0, 10).map((m) => `${m.eventId}#${m.index}`).join(" ");
  const retryAfterLease = new Date(input.leaseUntil).toISOString();
  log("consumer_error", { reason: "record_missed", rows: missed.length, first, retry_after_lease: retryAfterLease }, "error");
  const claim = { status: "sending" as const, claimedBy: input.options.claimId, claimedUntil: input.leaseUntil, nextAttemptAt: null, attempts: 0, error: null };
  return missed.map((key) => ({ ...key, ...claim }));
}

/**
 * Queues outcomes D1 refused (record-later.ts); resolves with the number of
 * messages. When the queue refuses them too, throws the D1 error: the batch
 * is then retried, and its rows, claimed until the lease ends, sent again.
 */
async function queueRecord(queue: Queue, input: RecordInput, d1Error: unknown): Promise<number> {
  const outcomes = input.outcomes.length;
  try {
    const messages = await recordLater(queue, input.outcomes, input.options);
    log("consumer_error", { reason: "record_queued", outcomes, messages, error: String(d1Error) }, "warn");
    return messages;
  } catch (queueError) {
    log("consumer_error", { reason: "record_lost", outcomes, error: String(d1Error), queue_error: String(queueError) }, "error");
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
