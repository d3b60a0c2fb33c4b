/**
 * A replay: the failed deliveries of an event go back on the queue, marked
 * so the consumer may claim their `failed` rows again (and only those; sent
 * ones are never sent twice). Used by `POST /v1/events/:svix_id/replay`
 * and by the console's Replay button.
 */
import { eventSummary, failedNotifications, readEvent } from "../db/ledger-reads";
import { markReplayed } from "../db/ledger-writes";
import { NotFoundError } from "../errors";
import { enqueueJobs, splitIntoJobs } from "../queue/enqueue";
import type { PushJob } from "../queue/message";

export interface ReplayResult {
  event_id: string;
  replayed: { notifications: number; deliveries: number };
  /** Queue messages sent: 0 when nothing had failed. */
  messages: number;
}

/** Replays what failed in `eventId`; throws NotFoundError for an event the ledger does not know. */
export async function replayEvent(env: Env, eventId: string, now = Date.now()): Promise<ReplayResult> {
  const event = await readEvent(env.DB, eventId, now);
  if (Object.keys(eventSummary(event)).length === 0) throw new NotFoundError("no deliveries recorded for this event");
  const failed = failedNotifications(event);
  // Each message names the bucket its notifications are kept in: the consumer's claim reads that one.
  const jobs = [...failed.byBucket].flatMap(([t, notifications]) => splitIntoJobs(eventId, notifications, now, { retry_failed: true, t }));
  if (jobs.length > 0) {
    // Marked first: retention must never sweep an event whose replay is on its way.
    for (const bucket of failed.byBucket.keys()) await markReplayed(env.DB, eventId, bucket, now);
    await enqueueJobs(env.PUSH_QUEUE as Queue<PushJob>, jobs);
  }
  const notifications = [...failed.byBucket.values()].reduce((sum, list) => sum + list.length, 0);
  return { event_id: eventId, replayed: { notifications, deliveries: failed.deliveries }, messages: jobs.length };
}
