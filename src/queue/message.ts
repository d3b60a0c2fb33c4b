/**
 * The queue messages: the PushJob is the only type the webhook side and the
 * delivery side share. Field names are short because a scheduled reminder
 * can carry 10,000 notifications and every byte counts against the 128 KB
 * message limit. The consumer also queues RecordJobs for itself (outcomes
 * it could not write to the ledger) and ReceiptJobs (Expo push receipts to
 * read later).
 *
 * A message can wait on the queue for hours (24 at most per delay, a day
 * and more across retries), so its shape is this module's own, built from
 * nothing outside it: a change to a database or provider type cannot change
 * what is in flight, and the code that maps between them (record-later.ts)
 * stops compiling instead. Every message says `v: 1`. Fields added since
 * (`attempts_before`, `sent_at`, a record's `detail`, a released row's
 * `until` and `reason`) are optional, so a message queued by an earlier
 * version still reads the same; a change that older messages could not
 * satisfy takes `v: 2`, and the consumer keeps reading `v: 1` until the
 * longest wait is over.
 */

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
  /**
   * The event's own time in unix seconds: the ledger's bucket for it
   * (src/db/doc.ts eventBucket). Missing from messages queued before the
   * ledger kept documents; bucketOfJob stands in.
   */
  t?: number;
  notifications: QueuedNotification[];
  /** Set by `POST /v1/events/:id/replay`: deliveries recorded `failed` may be sent again. */
  retry_failed?: true;
  /**
   * Set on a message split off another one to wait on its own (the
   * consumer's delays.ts): the deliveries of the messages it continues, so
   * that its own count (Queues' `attempts`) adds to theirs.
   */
  attempts_before?: number;
}

/** A queue body this version of the relay can work on (messages are our own, so a shallow check). */
export function isPushJob(body: unknown): body is PushJob {
  const job = body as PushJob;
  return (
    typeof job === "object" && job !== null && job.v === 1 && typeof job.event_id === "string" && Array.isArray(job.notifications)
  );
}

/** One delivery's outcome, as a record message carries it. */
export interface QueuedOutcome {
  eventId: string;
  index: number;
  token: string;
  status: "sent" | "invalid_token" | "retrying" | "failed" | "no_device";
  providerId?: string | null;
  error?: string | null;
  detail?: string;
  nextAttemptAt?: number | null;
  latencyMs?: number | null;
}

/** A delivery row by its key. */
export interface QueuedRowKey {
  eventId: string;
  index: number;
  token: string;
}

/** What a record step writes besides the outcomes, as a record message carries it. */
export interface QueuedRecordOptions {
  claimId: string;
  now: number;
  tokenAnswers: readonly { provider: string; app: string; answered: number; dead: number }[];
  /** The ledger documents the claim wrote; missing from records queued before the ledger kept documents. */
  docs?: readonly { bucket: number; seq: number }[];
  /** `sentAt` is missing from messages queued before dead answers carried it. */
  deadTokens: readonly { token: string; provider: string; app: string; reason: string; sentAt?: number }[];
  misconfigured: readonly { provider: string; app: string; reason: string; answers: number; lastEventId: string }[];
  accepted: readonly { provider: string; app: string; ios: boolean }[];
  environmentFixes: readonly { token: string; environment: "production" | "sandbox" }[];
  orphans: readonly QueuedRowKey[];
  released?: readonly (QueuedRowKey & { until?: number; reason?: "quiet_hours" })[];
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
  outcomes: QueuedOutcome[];
  options: QueuedRecordOptions;
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
  /**
   * Per event: its ledger bucket (`b`, missing from jobs queued before the
   * ledger kept documents) and [ticket id, device token, notification index].
   */
  events: { e: string; b?: number; t: [string, string, number][] }[];
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

/** A message of a batch and its body, once the body is known to be of that kind. */
export type Entry<T> = { message: Message<unknown>; job: T };

/** A batch's messages by kind; `unknown` holds what no kind recognizes (not ours, or of an incompatible version). */
export interface SortedMessages {
  pushes: Entry<PushJob>[];
  records: Entry<RecordJob>[];
  receipts: Entry<ReceiptJob>[];
  unknown: Message<unknown>[];
}

/** Sorts a batch's messages by kind, for the push consumer and the dead-letter consumer alike. */
export function sortMessages(messages: readonly Message<unknown>[]): SortedMessages {
  const sorted: SortedMessages = { pushes: [], records: [], receipts: [], unknown: [] };
  for (const message of messages) {
    if (isPushJob(message.body)) sorted.pushes.push({ message, job: message.body });
    else if (isRecordJob(message.body)) sorted.records.push({ message, job: message.body });
    else if (isReceiptJob(message.body)) sorted.receipts.push({ message, job: message.body });
    else sorted.unknown.push(message);
  }
  return sorted;
}
