/**
 * What a consumer invocation works with, and the numbers behind its
 * limits. Tests and the benchmark override any of them.
 */
import type { PushProvider } from "../push/provider";
import type { Provider } from "../push/providers";

export interface ConsumerDeps {
  providers: Record<Provider, PushProvider>;
  now: () => number;
  random: () => number;
  /** Sends in flight at once: 6, the per-invocation limit on open connections. */
  concurrency: number;
  /** No new send starts after this long; the rest is retried in a later invocation. */
  sendBudgetMs: number;
  /** Subrequests (fetches and D1 calls) one invocation may make: 10,000 on paid plans by default. */
  subrequestBudget: number;
  /** How long a claimed row belongs to this invocation. */
  leaseMs: number;
}

/**
 * A consumer invocation may run 15 minutes of wall time; a lease that long
 * can only expire once its owner is certainly gone, so reclaiming it never
 * races a live sender.
 */
export const LEASE_MS = 15 * 60_000;
/** Leaves 10 minutes of the 15 for sends already started, D1 and retries. */
export const SEND_BUDGET_MS = 5 * 60_000;
export const SEND_CONCURRENCY = 6;
/** The default per-invocation subrequest limit of paid plans (set MAX_SUBREQUESTS to match yours). */
export const SUBREQUEST_BUDGET = 10_000;
/** Per-request provider timeout. */
export const PUSH_TIMEOUT_MS = 10_000;
/**
 * A `retrying` row may be claimed this early: the message that waits for
 * it is redelivered after its delay by another machine, whose clock may be
 * a little behind; without the margin it would bounce once more and spend
 * a retry for nothing.
 */
export const DUE_TOLERANCE_MS = 1_000;
