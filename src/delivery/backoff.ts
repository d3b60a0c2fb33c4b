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
 * Exponential backoff with jitter for the `attempts`-th try (1-based), or
 * the provider's Retry-After when it gave one.
 */
export function retryDelaySeconds(attempts: number, retryAfter: number | undefined, random: () => number): number {
  if (retryAfter !== undefined) return Math.min(Math.max(1, Math.ceil(retryAfter)), QUEUE_MAX_DELAY_SECONDS);
  const ceiling = Math.min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** Math.max(0, attempts - 1));
  // "Equal jitter": at least half the ceiling, so retries spread out but never come back at once.
  return Math.max(1, Math.round(ceiling / 2 + (random() * ceiling) / 2));
}
