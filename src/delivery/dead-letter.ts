/**
 * The dead-letter consumer: a PushJob lands here after its last retry. What
 * is still open in the ledger becomes `failed` `retries_exhausted`, so
 * nothing stays "retrying" forever, the event's deliveries show the failure,
 * and `POST /v1/events/:id/replay` can send it again. A RecordJob that
 * ran out of retries is written here, one more time.
 */
import { type LedgerNotification, recordDeadLetters } from "../db/ledger-writes";
import { log } from "../log";
import { ledgerNotification } from "./plan";
import { isPushJob, isRecordJob, type PushJob } from "../queue/message";
import { writeRecordJob } from "./record-later";

export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env, now = Date.now()): Promise<void> {
  const notifications: LedgerNotification[] = [];
  const jobs: PushJob[] = [];
  for (const message of batch.messages) {
    const job = message.body;
    if (isRecordJob(job)) await writeRecordJob(env.DB, job);
    if (!isPushJob(job)) continue;
    jobs.push(job);
    for (const n of job.notifications) notifications.push(ledgerNotification(job, n));
  }
  // A failure here throws, so the batch is retried on the dead-letter queue itself.
  await recordDeadLetters(env.DB, notifications, now);
  for (const job of jobs) {
    log(
      "dead_letter",
      { event_id: job.event_id, notifications: job.notifications.length, reason: "retries_exhausted" },
      "error",
    );
  }
  batch.ackAll();
}
