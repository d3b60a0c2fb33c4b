/**
 * The queue messages: the PushJob is the only type the webhook side and the
 * delivery side share. Field names are short because a scheduled reminder
 * can carry 10,000 notifications and every byte counts against the 128 KB
 * message limit. The consumer also queues RecordJobs for itself (outcomes
 * it could not write to the ledger) and ReceiptJobs (Expo push receipts to
 * read later).
 */
import type { Outcome, RecordOptions } from "../db/ledger-writes";

/** One notification of an event, without `phone_number` (never queued). */
export interface QueuedNotification {
  /** Index of the notification in the event's `data.notifications[]`. */
  i: number;
  title: string;
  body: string;
  path: string;
  user_id: string;
  custom_id: string | null;
}

export interface PushJob {
  v: 1;
  /** The Svix message id: same across Svix retries and dashboard replays. */
  event_id: string;
  /** When the relay accepted the webhook (epoch ms), for end-to-end latency. */
  received_at: number;
  notifications: QueuedNotification[];
  /** Set by `POST /v1/events/:id/replay`: deliveries recorded `failed` may be sent again. */
  retry_failed?: true;
}

/** A queue body this version of the relay can work on (messages are our own, so a shallow check). */
export function isPushJob(body: unknown): body is PushJob {
  const job = body as PushJob;
  return (
    typeof job === "object" && job !== null && job.v === 1 && typeof job.event_id === "string" && Array.isArray(job.notifications)
  );
}

/**
 * Outcomes of pushes the providers already answered, which the ledger could
 * not take (a D1 failure): the consumer queues them for itself and writes
 * them later, so the sent ones are not sent again once the claim's lease
 * runs out. One record step may take several messages (each within the
 * 128 KB limit); every list is split between them.
 */
export interface RecordJob {
  v: 1;
  kind: "record";
  outcomes: Outcome[];
  options: RecordOptions;
}

/**
 * Expo push tickets whose receipts are to be read (about 15 minutes after
 * the push, as Expo suggests): one app's, at most 1,000 (Expo's limit per
 * request), grouped by event to keep the message small (1,000 tickets are
 * about 90 KB). `round` counts the reads so far: receipts Expo does not
 * have yet are asked for again, a few times.
 */
export interface ReceiptJob {
  v: 1;
  kind: "expo_receipts";
  app: string;
  round: number;
  /** When the pushes began (epoch ms): a receipt's dead token prunes only a registration older than this. */
  sent_at?: number;
  /** Per event: [ticket id, device token, notification index]. */
  events: { e: string; t: [string, string, number][] }[];
}

/** Everything the push queue carries. */
export type QueueMessage = PushJob | RecordJob | ReceiptJob;

/** A ReceiptJob (a shallow check, as for PushJob). */
export function isReceiptJob(body: unknown): body is ReceiptJob {
  const job = body as ReceiptJob;
  return (
    typeof job === "object" &&
    job !== null &&
    job.v === 1 &&
    job.kind === "expo_receipts" &&
    typeof job.app === "string" &&
    typeof job.round === "number" &&
    Array.isArray(job.events)
  );
}

/** A RecordJob (a shallow check, as for PushJob). */
export function isRecordJob(body: unknown): body is RecordJob {
  const job = body as RecordJob;
  return (
    typeof job === "object" &&
    job !== null &&
    job.v === 1 &&
    job.kind === "record" &&
    Array.isArray(job.outcomes) &&
    typeof job.options === "object" &&
    job.options !== null &&
    typeof job.options.claimId === "string"
  );
}
