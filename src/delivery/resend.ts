/**
 * Sends again what a provider took but did not pass on because it was
 * throttled (an Expo receipt saying MessageRateExceeded): the delivery is
 * recorded `failed`, and its notification goes back on the queue as a
 * replay (`retry_failed`) after a backoff, so the consumer claims that
 * failed row again and nothing already sent is sent twice.
 */
import { failedNotifications, readEvent } from "../db/ledger-reads";
import { log } from "../log";
import { enqueueJobs, splitIntoJobs } from "../queue/enqueue";
import type { PushJob } from "../queue/message";

/** A throttled delivery: its event and notification. */
export interface Throttled {
  eventId: string;
  index: number;
}

/** Queues the throttled notifications again after `delaySeconds`; returns the messages queued (0 when the queue refused: they stay failed, replayable). */
export async function resendThrottled(env: Env, throttled: readonly Throttled[], delaySeconds: number, now: number): Promise<number> {
  const byEvent = new Map<string, Set<number>>();
  for (const { eventId, index } of throttled) byEvent.set(eventId, (byEvent.get(eventId) ?? new Set()).add(index));
  const jobs: PushJob[] = [];
  for (const [eventId, indexes] of byEvent) {
    // Each resend carries its event's bucket: `now` is not the event's time.
    const { byBucket } = failedNotifications(await readEvent(env.DB, eventId, now));
    for (const [t, notifications] of byBucket) {
      jobs.push(...splitIntoJobs(eventId, notifications.filter((n) => indexes.has(n.i)), now, { retry_failed: true, t }));
    }
  }
  if (jobs.length === 0) return 0;
  try {
    return await enqueueJobs(env.PUSH_QUEUE as Queue<PushJob>, jobs, { delaySeconds });
  } catch (error) {
    log("consumer_error", { reason: "resend_not_queued", notifications: throttled.length, error: String(error) }, "warn");
    return 0;
  }
}
