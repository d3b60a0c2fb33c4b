/**
 * The record step's fallback. When the providers have answered a batch's
 * pushes but D1 refuses the outcomes even after a few quick tries, retrying
 * the messages would leave the rows claimed until the 15-minute lease ran
 * out, and then claim and send them again. Instead the outcomes go on the
 * queue as RecordJobs and the consumer writes them a few seconds later,
 * while the rows are still claimed: the write checks the claim id, so it
 * lands only on rows nobody has taken over. What is left for a duplicate is
 * a crash between the push and the queueing, as docs/delivery-guarantees.md says.
 */
import { utf8Bytes } from "../db/json-chunks";
import { type Outcome, type RecordOptions, recordOutcomes } from "../db/ledger-writes";
import { enqueueJobs, MAX_MESSAGE_BYTES } from "../queue/enqueue";
import type { QueuedOutcome, QueuedRecordOptions, RecordJob } from "../queue/message";
import { logSignals } from "./signals";

/** A failed RecordJob comes back after 5 s, doubling per attempt up to RECORD_MAX_DELAY_SECONDS. */
export const RECORD_BASE_DELAY_SECONDS = 5;
/**
 * Short waits, so that the outcomes land while the rows are still claimed:
 * with the queue's 12 retries (wrangler.toml), 5, 10, 20, 40 s and then
 * 60 s span about 9 minutes, inside the 15-minute lease. What is still
 * unwritten after that goes to the dead-letter queue, whose consumer tries
 * again (dead-letter.ts).
 */
export const RECORD_MAX_DELAY_SECONDS = 60;

/** The wait before a RecordJob's `attempts`-th try (1-based) is repeated. */
export function recordRetryDelaySeconds(attempts: number): number {
  return Math.min(RECORD_MAX_DELAY_SECONDS, RECORD_BASE_DELAY_SECONDS * 2 ** Math.max(0, attempts - 1));
}

/**
 * The outcomes and their options as RecordJobs of at most `maxBytes` each.
 * Every list (the outcomes and each list of `options`, whatever the record
 * step grows to carry) is split between the messages; the other fields of
 * `options` (claim id, time) are copied into each.
 */
export function splitRecordJobs(
  outcomes: readonly QueuedOutcome[],
  options: QueuedRecordOptions,
  maxBytes = MAX_MESSAGE_BYTES,
): RecordJob[] {
  const fields = Object.entries(options);
  const listKeys = fields.filter(([, value]) => Array.isArray(value)).map(([key]) => key);
  const empty = (): RecordJob => ({
    v: 1,
    kind: "record",
    outcomes: [],
    options: Object.fromEntries(fields.map(([key, value]) => [key, Array.isArray(value) ? [] : value])) as unknown as QueuedRecordOptions,
  });
  const sources: [(job: RecordJob) => unknown[], readonly unknown[]][] = [
    [(job) => job.outcomes, outcomes],
    ...listKeys.map((key): [(job: RecordJob) => unknown[], readonly unknown[]] => [
      (job) => (job.options as unknown as Record<string, unknown[]>)[key]!,
      (options as unknown as Record<string, readonly unknown[]>)[key]!,
    ]),
  ];

  const baseBytes = utf8Bytes(JSON.stringify(empty()));
  const jobs: RecordJob[] = [];
  let job = empty();
  let bytes = baseBytes;
  let items = 0;
  for (const [listOf, list] of sources) {
    for (const item of list) {
      const size = utf8Bytes(JSON.stringify(item)) + 1; // and the comma
      if (items > 0 && bytes + size > maxBytes) {
        jobs.push(job);
        job = empty();
        bytes = baseBytes;
        items = 0;
      }
      listOf(job).push(item);
      bytes += size;
      items++;
    }
  }
  if (items > 0) jobs.push(job);
  return jobs;
}

/**
 * Queues the outcomes as RecordJobs; resolves with the number of messages
 * once the queue took them all, else throws. The ledger's types become the
 * queue's here (and back in writeRecordJob): the compiler checks both ways.
 */
export async function recordLater(queue: Queue, outcomes: readonly Outcome[], options: RecordOptions): Promise<number> {
  const jobs = splitRecordJobs(outcomes, options);
  await enqueueJobs(queue, jobs);
  return jobs.length;
}

/**
 * Writes a RecordJob. Writing one twice changes nothing the second time:
 * its rows no longer carry the claim id (only the pruning brake's counts
 * and the alerts' answer counts would grow twice, which moves no
 * threshold: answered and dead grow alike).
 */
export async function writeRecordJob(db: D1Database, job: RecordJob): Promise<void> {
  const options: RecordOptions = {
    ...job.options,
    // Queued before dead answers said when: the record step's time stands in, as the prune then read it.
    deadTokens: job.options.deadTokens.map((dead) => ({ ...dead, sentAt: dead.sentAt ?? job.options.now })),
  };
  const recorded = await recordOutcomes(db, job.outcomes, options);
  if (recorded) logSignals(options, recorded);
}
