/**
 * What one consumer invocation may still start: every send reserves its
 * worst case of subrequests before it begins, and none begins after the
 * send budget's deadline, so an invocation never runs into the platform's
 * limits (10,000 subrequests by default on paid plans, 50 on the free
 * plan; 15 minutes of wall time) with pushes half done.
 */

/**
 * Fetches one send may need at worst: an FCM token mint, the push, a 401,
 * a second mint and the push again (APNs: the push, again with a new JWT,
 * then the other host).
 */
export const SUBREQUESTS_PER_SEND = 4;
/** D1 calls of the credential cache in one invocation at worst: read, publish, drop a refused one, publish again, per provider. */
export const CREDENTIAL_SUBREQUESTS = 8;
/** D1 round trips still to come after the sends: the record step. */
const RECORD_SUBREQUESTS = 1;

export interface SendBudget {
  /** Subrequests the invocation may make in all. */
  subrequests: number;
  /** Subrequests already spent before the sends (the lookup and the claim). */
  spent: number;
  /** No send starts at or after this time (epoch ms). */
  deadline: number;
  now: () => number;
}

/** A gate for runPool: true (and counted) while one more send fits the budget. */
export function sendGate(budget: SendBudget): () => boolean {
  let started = 0;
  return () => {
    const reserved = budget.spent + RECORD_SUBREQUESTS + CREDENTIAL_SUBREQUESTS + (started + 1) * SUBREQUESTS_PER_SEND;
    if (reserved > budget.subrequests || budget.now() >= budget.deadline) return false;
    started++;
    return true;
  };
}
