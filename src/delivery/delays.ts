/**
 * What becomes of each queue message after its batch: acked when every
 * notification it carries is final; otherwise each delivery waits its own
 * time. When all that waits in a message asks for about the same delay,
 * the message itself is retried; when waits differ (one device answered
 * `Retry-After: 90`, another a 30 s backoff, a third waits for a fixed
 * setting), the message is split: each group of notifications goes back as
 * a message of its own with its own delay, so no delivery holds back the
 * others that travelled with it. Pure, so the rules read (and are tested)
 * as a table.
 */
import { type DeliveryKey, notificationKey } from "../db/ledger";
import type { ClaimedRow } from "../db/ledger-writes";
import type { PushJob, QueuedNotification } from "../queue/message";
import { QUEUE_MAX_DELAY_SECONDS } from "./backoff";
import { keyOf } from "./plan";

/** Rows claimed but never started (the budget ran out) are tried again this soon. */
export const DEFERRED_RETRY_SECONDS = 1;
/**
 * The push queue's `max_retries` in wrangler.toml (a test keeps them
 * equal). A message on its last delivery is never retried (Queues would
 * hand it to the dead-letter queue instead): what still waits goes back as
 * new messages, carrying the attempts spent so far.
 */
export const PUSH_MAX_RETRIES = 12;
/**
 * Waits within this factor of each other travel together: a delivery may
 * come back up to twice as late as it asked (never earlier), so that the
 * jitter of 50 deliveries' backoffs does not become 50 messages.
 */
export const GROUP_FACTOR = 2;

/** What the batch left waiting. */
export interface Waiting {
  /** notificationKey -> the seconds each of its retried deliveries asked for (backoff or Retry-After). */
  outcomes: ReadonlyMap<string, readonly number[]>;
  /** Rows claimed but never started: due at once, or at `until` (held for the quiet hours). */
  released: readonly (DeliveryKey & { until?: number })[];
  /** `retrying` rows not due yet: they wait until they are. */
  notDue: readonly ClaimedRow[];
  /** Rows another invocation holds: looked at again as its lease runs down. */
  elsewhere: readonly ClaimedRow[];
  /** When the batch's sends ended (epoch ms). */
  now: number;
}

/** Whole seconds from `now` until `at`: at least 1, at most the queue's 24-hour cap. */
export function secondsUntil(at: number, now: number): number {
  return Math.min(QUEUE_MAX_DELAY_SECONDS, Math.max(1, Math.ceil((at - now) / 1000)));
}

/**
 * When to look again at a row another invocation holds. A duplicate in
 * flight finishes within seconds, so the first look is after 10 s; the wait
 * doubles so that a holder that died is outlived by its 15-minute lease
 * within 7 attempts (10 + 20 + ... + 640 s), well before max_retries.
 */
export function heldRetryDelay(leaseSecondsLeft: number, attempts: number): number {
  return Math.max(1, Math.min(leaseSecondsLeft + 1, 10 * 2 ** Math.max(0, attempts - 1)));
}

/** The waits of the batch, by notification: each waiting delivery's own seconds. */
export interface Waits {
  /** notificationKey -> seconds, one entry per waiting delivery. */
  seconds: Map<string, number[]>;
  /** notificationKey -> seconds left on the lease of another invocation's row, one per such row. */
  heldLeaseLeft: Map<string, number[]>;
}

export function waitsOf(waiting: Waiting): Waits {
  const seconds = new Map<string, number[]>();
  const add = (map: Map<string, number[]>, key: string, s: number) => {
    const list = map.get(key);
    if (list) list.push(s);
    else map.set(key, [s]);
  };
  for (const [key, delays] of waiting.outcomes) for (const s of delays) add(seconds, key, s);
  for (const row of waiting.released) {
    add(seconds, notificationKey(row), row.until === undefined ? DEFERRED_RETRY_SECONDS : secondsUntil(row.until, waiting.now));
  }
  for (const row of waiting.notDue) add(seconds, notificationKey(row), secondsUntil(row.nextAttemptAt ?? waiting.now, waiting.now));
  const heldLeaseLeft = new Map<string, number[]>();
  for (const row of waiting.elsewhere) add(heldLeaseLeft, notificationKey(row), Math.ceil(((row.claimedUntil ?? 0) - waiting.now) / 1000));
  return { seconds, heldLeaseLeft };
}

/** A group of a message's notifications that goes back together, after `delaySeconds`. */
export interface WaitGroup {
  delaySeconds: number;
  notifications: QueuedNotification[];
}

export type MessageAction =
  | { kind: "ack" }
  | { kind: "retry"; delaySeconds: number }
  /** Ack this message; each group goes back as a message of its own. */
  | { kind: "split"; groups: WaitGroup[] };

/** Every delay one notification of `job` waits for: one per waiting delivery. */
function delaysOf(job: PushJob, n: QueuedNotification, attempts: number, waits: Waits): number[] {
  const key = notificationKey(keyOf(job, n));
  const held = (waits.heldLeaseLeft.get(key) ?? []).map((left) => heldRetryDelay(left, attempts));
  return [...(waits.seconds.get(key) ?? []), ...held];
}

/** Groups delays, shortest first, so that each group's longest is at most GROUP_FACTOR times its shortest. */
export function groupDelays(delays: readonly number[]): Map<number, number> {
  const sorted = [...new Set(delays)].sort((a, b) => a - b);
  const groupOf = new Map<number, number>();
  let start = 0;
  for (let i = 1; i <= sorted.length; i++) {
    if (i < sorted.length && sorted[i]! <= sorted[start]! * GROUP_FACTOR) continue;
    for (let k = start; k < i; k++) groupOf.set(sorted[k]!, sorted[i - 1]!);
    start = i;
  }
  return groupOf;
}

/**
 * What to do with `job`, delivered for the `attempts`-th time (the attempts
 * of the messages it continues included): ack it, retry it whole, or split
 * what waits into groups of their own.
 */
export function messageAction(job: PushJob, attempts: number, waits: Waits): MessageAction {
  const perNotification = job.notifications.map((n) => ({ n, delays: delaysOf(job, n, attempts, waits) }));
  const groupOf = groupDelays(perNotification.flatMap((p) => p.delays));
  if (groupOf.size === 0) return { kind: "ack" };
  const groups = new Map<number, QueuedNotification[]>();
  for (const { n, delays } of perNotification) {
    for (const delay of new Set(delays.map((d) => groupOf.get(d)!))) {
      const group = groups.get(delay);
      if (group) group.push(n);
      else groups.set(delay, [n]);
    }
  }
  const lastDelivery = attempts > PUSH_MAX_RETRIES;
  if (groups.size === 1 && !lastDelivery) return { kind: "retry", delaySeconds: [...groups.keys()][0]! };
  return { kind: "split", groups: [...groups].map(([delaySeconds, notifications]) => ({ delaySeconds, notifications })) };
}
