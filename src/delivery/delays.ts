/**
 * How long each queue message waits before it comes back: 0 (acked) when
 * every notification it carries is final; otherwise the longest wait any of
 * them asks for. Pure, so the rules read (and are tested) as a table.
 */
import { type DeliveryKey, notificationKey } from "../db/ledger";
import type { ClaimedRow } from "../db/ledger-writes";
import type { PushJob } from "../queue/message";
import { QUEUE_MAX_DELAY_SECONDS } from "./backoff";
import { keyOf } from "./plan";

/** Rows claimed but never started (the budget ran out) are tried again this soon. */
export const DEFERRED_RETRY_SECONDS = 1;

/** What the batch left waiting, by notification. */
export interface Waiting {
  /** notificationKey -> seconds its outcomes asked for (retry backoff or Retry-After). */
  outcomes: ReadonlyMap<string, number>;
  /** Rows claimed but never started. */
  released: readonly DeliveryKey[];
  /** `retrying` rows not due yet: the message waits until they are. */
  notDue: readonly ClaimedRow[];
  /** Rows another invocation holds: the message looks again as its lease runs down. */
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

/** The waits of the batch by notification: computed once, then read for each message. */
export interface Waits {
  /** notificationKey -> seconds. */
  seconds: Map<string, number>;
  /** notificationKey -> seconds left on the lease of another invocation's row. */
  heldLeaseLeft: Map<string, number>;
}

export function waitsOf(waiting: Waiting): Waits {
  const seconds = new Map(waiting.outcomes);
  const wait = (key: string, s: number) => seconds.set(key, Math.max(seconds.get(key) ?? 0, s));
  for (const row of waiting.released) wait(notificationKey(row), DEFERRED_RETRY_SECONDS);
  for (const row of waiting.notDue) wait(notificationKey(row), secondsUntil(row.nextAttemptAt ?? waiting.now, waiting.now));
  const heldLeaseLeft = new Map<string, number>();
  for (const row of waiting.elsewhere) {
    const key = notificationKey(row);
    heldLeaseLeft.set(key, Math.max(heldLeaseLeft.get(key) ?? 0, Math.ceil(((row.claimedUntil ?? 0) - waiting.now) / 1000)));
  }
  return { seconds, heldLeaseLeft };
}

/** Seconds `job` (delivered for the `attempts`-th time) must wait; 0 when all it carries is final. */
export function messageDelay(job: PushJob, attempts: number, waits: Waits): number {
  let delay = 0;
  for (const n of job.notifications) {
    const key = notificationKey(keyOf(job, n));
    delay = Math.max(delay, waits.seconds.get(key) ?? 0);
    const held = waits.heldLeaseLeft.get(key);
    if (held !== undefined) delay = Math.max(delay, heldRetryDelay(held, attempts));
  }
  return delay;
}
