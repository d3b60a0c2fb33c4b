/**
 * A replay: the failed deliveries of an event go back on the queue, marked
 * so the consumer may claim their `failed` rows again (and only those; sent
 * ones are never sent twice). Used by `POST /v1/events/:svix_id/replay`
 * and by the console's Replay button.
 */
import { eventSummary, failedNotifications } from "../db/ledger-reads";
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
  const [summary, failed] = await Promise.all([eventSummary(env.DB, eventId), failedNotifications(env.DB, eventId)]);
  if (Object.keys(summary).length === 0) throw new NotFoundError("no deliveries recorded for this event");
  const jobs = splitIntoJobs(eventId, failed.notifications, now, { retry_failed: true });
  if (jobs.length > 0) {
    // Marked first: retention must never sweep an event whose replay is on its way.
    await markReplayed(env.DB, eventId, now);
    await enqueueJobs(env.PUSH_QUEUE as Queue<PushJob>, jobs);
  }
  return {
    event_id: eventId,
    replayed: { notifications: failed.notifications.length, deliveries: failed.deliveries },
    messages: jobs.length,
  };
}
