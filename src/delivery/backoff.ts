/**
 * How long a queue message waits before its next attempt. Queue delays are
 * capped at 24 hours by the platform; ours stop growing at 3 hours, which
 * with max_retries = 12 spans about 13 hours of provider trouble before the
 * dead-letter queue takes over.
 */
export const BASE_DELAY_SECONDS = 30;
export const MAX_DELAY_SECONDS = 3 * 60 * 60;
/** The platform's cap on `delaySeconds` for `retry()` and `send()`. */
export const QUEUE_MAX_DELAY_SECONDS = 24 * 60 * 60;

/**
 * The wait before the `attempts`-th try (1-based) is repeated: exponential
 * backoff with jitter, or the provider's Retry-After when that is longer.
 * Never shorter than the backoff: a provider that keeps answering
 * `Retry-After: 1` would otherwise spend all 12 retries in seconds and send
 * the notification to the dead-letter queue while it is still busy.
 */
export function retryDelaySeconds(attempts: number, retryAfter: number | undefined, random: () => number): number {
  const ceiling = Math.min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** Math.max(0, attempts - 1));
  // "Equal jitter": at least half the ceiling, so retries spread out but never come back at once.
  const backoff = Math.max(1, Math.round(ceiling / 2 + (random() * ceiling) / 2));
  if (retryAfter === undefined) return backoff;
  return Math.min(Math.max(backoff, Math.ceil(retryAfter)), QUEUE_MAX_DELAY_SECONDS);
}
