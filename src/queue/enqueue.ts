/**
 * Splits an event into queue messages and sends them within the Queues
 * limits: a message is at most 128 KB (about 100 bytes of it metadata), and
 * one `sendBatch` takes at most 100 messages and 256 KB in total.
 */
import { QueueUnavailableError } from "../errors";
import { runPool } from "../pool";
import type { PushJob, QueuedNotification } from "./message";

/** Room left for Cloudflare's per-message metadata under the 128,000-byte limit. */
export const MAX_MESSAGE_BYTES = 120_000;
/**
 * Notifications per message. A consumer invocation has at most 6 pushes in
 * flight, so its throughput is about 6 / provider latency; speed comes from
 * many invocations at once. A batch of 20 such messages (wrangler.toml) is
 * 200 notifications, a few seconds of work, and a 10,000-user reminder
 * becomes 50 batches the queue can hand to consumers in parallel; small
 * messages are what lets a batch hold 20 single reminders without a
 * fan-out's batch growing past that. The price: 3 queue operations per 10
 * notifications of a fan-out ($0.12 per million at $0.40 per million
 * operations), and OneSignal's grouping stays within a message (10 users).
 */
export const MAX_NOTIFICATIONS_PER_MESSAGE = 10;
/** `sendBatch` limits: 100 messages and 256,000 bytes, with a margin. */
export const MAX_BATCH_MESSAGES = 100;
export const MAX_BATCH_BYTES = 250_000;
/** sendBatch calls in flight at once (6 connections per invocation). */
const SEND_CONCURRENCY = 6;

const encoder = new TextEncoder();
const byteLength = (value: unknown) => encoder.encode(JSON.stringify(value)).byteLength;

/** Packs the notifications, in order, into as few messages as the limits allow. */
export function splitIntoJobs(
  eventId: string,
  notifications: readonly QueuedNotification[],
  receivedAt: number,
  extra: Pick<PushJob, "retry_failed" | "t"> = {},
): PushJob[] {
  const empty = (): PushJob => ({ v: 1, event_id: eventId, received_at: receivedAt, ...extra, notifications: [] });
  const baseBytes = byteLength(empty());
  const jobs: PushJob[] = [];
  let job = empty();
  let bytes = baseBytes;
  for (const notification of notifications) {
    const size = byteLength(notification) + 1; // the comma between elements
    const full = job.notifications.length >= MAX_NOTIFICATIONS_PER_MESSAGE || bytes + size > MAX_MESSAGE_BYTES;
    if (full && job.notifications.length > 0) {
      jobs.push(job);
      job = empty();
      bytes = baseBytes;
    }
    job.notifications.push(notification);
    bytes += size;
  }
  if (job.notifications.length > 0) jobs.push(job);
  return jobs;
}

/** Groups messages into `sendBatch` calls of at most 100 messages and 250 KB. */
export function groupIntoBatches<T>(jobs: readonly T[]): T[][] {
  const batches: T[][] = [];
  let batch: T[] = [];
  let bytes = 0;
  for (const job of jobs) {
    const size = byteLength(job);
    if (batch.length > 0 && (batch.length >= MAX_BATCH_MESSAGES || bytes + size > MAX_BATCH_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(job);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * Resolves once the queue has accepted every message; throws
 * QueueUnavailableError otherwise. A partial failure is safe: the webhook
 * answers 503, Svix sends it again, and the delivery ledger drops what was
 * already sent. `delaySeconds` holds every message back that long.
 */
export async function enqueueJobs<T>(queue: Queue<T>, jobs: readonly T[], options: { delaySeconds?: number } = {}): Promise<number> {
  const batches = groupIntoBatches(jobs);
  // A delay (Expo's receipts are read 15 minutes on) applies to every message; Queues cap it at 24 hours.
  const delay = options.delaySeconds === undefined ? {} : { delaySeconds: options.delaySeconds };
  try {
    await runPool(batches, SEND_CONCURRENCY, async (batch) => {
      await queue.sendBatch(batch.map((body) => ({ body, contentType: "json" as const, ...delay })));
    });
  } catch (error) {
    throw new QueueUnavailableError(error);
  }
  return batches.length;
}
