/**
 * The dead-letter consumer: a PushJob lands here after its last retry. What
 * is still open in the ledger becomes `failed` `retries_exhausted`, so
 * nothing stays "retrying" forever, the event's deliveries show the failure,
 * and `POST /v1/events/:id/replay` can send it again. It closes only what
 * its own message still owns: a row another invocation holds under its
 * lease, or that another message waits for (not due yet), is left to it,
 * and the dead letter comes back when it would be its own, to close
 * whatever is still open then. A
 * RecordJob that ran out of retries is written here, one more time.
 *
 * There is no dead-letter queue for this queue: a message it cannot record
 * is retried with a growing delay, and after its last retry it is logged as
 * an error with every event id and notification index it carried, and the
 * scheduled sweep (abandoned.ts) closes its rows two days later.
 */
import { notificationKey } from "../db/ledger";
import { type HeldRow, type LedgerNotification, recordDeadLetters } from "../db/ledger-writes";
import { log } from "../log";
import { type Entry, type PushJob, type RecordJob, type SortedMessages, sortMessages } from "../queue/message";
import { QUEUE_MAX_DELAY_SECONDS } from "./backoff";
import { keyOf, ledgerNotification } from "./plan";
import { writeRecordJob } from "./record-later";

/** The dead-letter consumer's `max_retries` in wrangler.toml (a test keeps them equal). */
export const DEAD_LETTER_MAX_RETRIES = 10;
/** A dead letter that could not be recorded comes back after a minute, doubling to an hour: about 5 hours over 10 retries. */
export const DEAD_LETTER_BASE_DELAY_SECONDS = 60;
export const DEAD_LETTER_MAX_DELAY_SECONDS = 60 * 60;

/** The wait before a dead letter's `attempts`-th try (1-based) at being recorded is repeated. */
export function deadLetterRetryDelaySeconds(attempts: number): number {
  return Math.min(DEAD_LETTER_MAX_DELAY_SECONDS, DEAD_LETTER_BASE_DELAY_SECONDS * 2 ** Math.max(0, attempts - 1));
}

/** What one invocation did, for tests. */
export interface DeadLetterReport {
  recorded: number;
  /** Message id -> delay in seconds, for every retried message. */
  retryDelays: Record<string, number>;
  /** Messages given up on after the last retry (logged as errors). */
  lost: number;
}

/** Settles dead letters and counts them in the report. */
class DeadLetters {
  constructor(readonly report: DeadLetterReport) {}

  retry(message: Message<unknown>, delaySeconds: number): void {
    message.retry({ delaySeconds });
    this.report.retryDelays[message.id] = delaySeconds;
  }

  /** A message that could not be recorded: retried, or after the last retry given up on loudly. */
  failed(message: Message<unknown>, fields: Record<string, string | number>, error: unknown): void {
    const last = message.attempts > DEAD_LETTER_MAX_RETRIES;
    log("dead_letter", { ...fields, reason: last ? "unrecorded" : "record_failed", attempts: message.attempts, error: String(error) }, "error");
    if (!last) return this.retry(message, deadLetterRetryDelaySeconds(message.attempts));
    this.report.lost++;
    message.ack();
  }
}

export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env, now = Date.now()): Promise<DeadLetterReport> {
  const letters = new DeadLetters({ recorded: 0, retryDelays: {}, lost: 0 });
  const { pushes, records } = sortDeadLetters(batch);
  for (const { message, job } of records) {
    try {
      await writeRecordJob(env.DB, job);
      letters.report.recorded++;
      message.ack();
    } catch (error) {
      letters.failed(message, recordJobFields(job), error);
    }
  }
  if (pushes.length > 0) await closePushes(pushes, env.DB, now, letters);
  return letters.report;
}

/** The batch's push and record messages; receipts and anything else are acked at once. */
function sortDeadLetters(batch: MessageBatch<unknown>): Pick<SortedMessages, "pushes" | "records"> {
  const { pushes, records, receipts, unknown } = sortMessages(batch.messages);
  for (const { message, job } of receipts) {
    // Receipts never read cost no notification: the pushes went out; only their fate stays unknown.
    log("expo_receipts", { app: job.app, reason: "retries_exhausted", unread: true }, "warn");
    message.ack();
  }
  for (const message of unknown) {
    log("consumer_error", { queue: batch.queue, message_id: message.id, reason: "malformed_message" }, "error");
    message.ack();
  }
  return { pushes, records };
}

/** Closes what the dead push messages still own; a message with rows another still owns comes back for them. */
async function closePushes(pushes: readonly Entry<PushJob>[], db: D1Database, now: number, letters: DeadLetters): Promise<void> {
  let held: HeldRow[];
  try {
    const notifications: LedgerNotification[] = pushes.flatMap(({ job }) => job.notifications.map((n) => ledgerNotification(job, n)));
    held = await recordDeadLetters(db, notifications, now);
  } catch (error) {
    for (const { message, job } of pushes) letters.failed(message, pushJobFields(job), error);
    return;
  }
  // Rows another message still owns: come back once they would be this one's (and a second later).
  const heldUntil = new Map<string, number>();
  for (const row of held) heldUntil.set(notificationKey(row), Math.max(heldUntil.get(notificationKey(row)) ?? 0, row.until));
  for (const { message, job } of pushes) {
    const until = Math.max(0, ...job.notifications.map((n) => heldUntil.get(notificationKey(keyOf(job, n))) ?? 0));
    if (until > 0) {
      const delay = Math.min(QUEUE_MAX_DELAY_SECONDS, Math.max(1, Math.ceil((until - now) / 1000) + 1));
      log("dead_letter", { ...pushJobFields(job), reason: "held", retry_in: delay }, "warn");
      letters.retry(message, delay);
      continue;
    }
    letters.report.recorded++;
    log("dead_letter", { ...pushJobFields(job), reason: "retries_exhausted" }, "error");
    message.ack();
  }
}

/** What the log says of a PushJob: its event and every notification index, so nothing is lost without a trace. */
function pushJobFields(job: PushJob): Record<string, string | number> {
  return { kind: "push", event_id: job.event_id, notifications: job.notifications.length, indexes: job.notifications.map((n) => n.i).join(",") };
}

/** What the log says of a RecordJob: each outcome as event:index:status (the last 6 characters of the token, as elsewhere). */
function recordJobFields(job: RecordJob): Record<string, string | number> {
  return {
    kind: "record",
    outcomes: job.outcomes.length,
    rows: job.outcomes.map((o) => `${o.eventId}:${o.index}:…${o.token.slice(-6)}:${o.status}`).join(","),
  };
}
