/**
 * The rate limits, as declared in wrangler.toml's [[ratelimits]] bindings:
 * the Worker needs each period for `Retry-After`, and the deploy test checks
 * that wrangler.toml says the same. No imports, so Node-side tests can read it.
 * docs/api.md "Rate limits" explains each number.
 */

/** Limit per period (seconds: the binding allows only 10 or 60), by binding name. */
export const RATE_LIMITS = {
  /** Device writes (register, remove) per user, for register keys and device tokens. */
  REGISTRATIONS_PER_USER: { limit: 10, period: 60 },
  /** Device writes per client address, for device tokens (the app on the phone). */
  REGISTRATIONS_PER_CLIENT: { limit: 300, period: 60 },
  /** Failed authentications per client address, any credential. */
  AUTH_FAILURES_PER_CLIENT: { limit: 10, period: 10 },
} as const;

export type RateLimitName = keyof typeof RATE_LIMITS;
