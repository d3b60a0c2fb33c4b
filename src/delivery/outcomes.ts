/**
 * Turns what the providers answered into ledger outcomes, the APNs
 * environment corrections they imply, the retry delay each notification
 * asks for, and one log line per delivery. (What the answers say about
 * tokens and settings, for the pruning brake and the alerts: signals.ts.)
 */
import type { DeviceRow } from "../db/devices";
import { notificationKey } from "../db/ledger";
import type { Outcome } from "../db/ledger-writes";
import { log, shortToken } from "../log";
import type { PushResult } from "../push/provider";
import { retryDelaySeconds } from "./backoff";
import { keyOf, type Work } from "./plan";

/** A row this invocation claimed and sent (or tried to). */
export interface Attempted {
  work: Work;
  device: DeviceRow;
  result: PushResult;
  /** The row's send attempts, this one included. */
  attempts: number;
}

export interface Settled {
  outcomes: Outcome[];
  environmentFixes: { token: string; environment: "production" | "sandbox" }[];
  /** notificationKey -> the seconds until each of its retried deliveries' next attempt. */
  delays: Map<string, number[]>;
}

/**
 * Send attempts one delivery gets: the first and the push queue's 12
 * retries (max_retries in wrangler.toml), about 13 hours with the backoff.
 * A delivery whose last attempt would retry fails `retries_exhausted`
 * (replayable) in its own record step: its message no longer decides.
 */
export const MAX_DELIVERY_ATTEMPTS = 13;

export function settle(attempted: readonly Attempted[], finishedAt: number, random: () => number): Settled {
  const settled: Settled = { outcomes: [], environmentFixes: [], delays: new Map() };
  for (const attempt of attempted) {
    const outcome = outcomeOf(attempt, finishedAt, random);
    const { device, result } = attempt;
    if (result.kind === "sent" && result.environment && result.environment !== device.environment) {
      settled.environmentFixes.push({ token: device.token, environment: result.environment });
    }
    if (outcome.status === "retrying") {
      const key = notificationKey(outcome);
      const delay = (outcome.nextAttemptAt! - finishedAt) / 1000;
      const delays = settled.delays.get(key);
      if (delays) delays.push(delay);
      else settled.delays.set(key, [delay]);
    }
    settled.outcomes.push(outcome);
    logDelivery(outcome, attempt);
  }
  return settled;
}

/** The ledger outcome of one attempt. */
function outcomeOf({ work, device, result, attempts }: Attempted, finishedAt: number, random: () => number): Outcome {
  const outcome: Outcome = { ...keyOf(work.job, work.n), token: device.token, status: "failed", latencyMs: finishedAt - work.job.received_at };
  if (result.kind !== "sent" && result.detail) outcome.detail = result.detail;
  switch (result.kind) {
    case "sent":
      return { ...outcome, status: "sent", providerId: result.id };
    case "invalid_token":
      return { ...outcome, status: "invalid_token", error: result.reason };
    case "retry":
    case "misconfigured": {
      // A wrong setting deletes nothing and loses nothing: the delivery waits for the operator's fix
      // like any retry (the retries span about 13 hours), then fails and can be replayed.
      if (attempts >= MAX_DELIVERY_ATTEMPTS) return { ...outcome, error: "retries_exhausted" };
      const error = result.kind === "retry" ? result.reason : `provider_misconfigured:${result.reason}`;
      const delay = retryDelaySeconds(attempts, result.kind === "retry" ? result.retryAfter : undefined, random);
      return { ...outcome, status: "retrying", error, nextAttemptAt: finishedAt + delay * 1000 };
    }
    case "failed":
      return { ...outcome, error: result.reason };
    case "no_device":
      // OneSignal knows the user but has no subscription to push to: final, like a user without devices.
      return { ...outcome, status: "no_device", error: result.reason };
  }
}

/**
 * One log line per delivery that did not go out: a failure, a retry, a
 * dead token. A sent one is counted in its batch's `delivery_batch` line
 * and kept in the ledger (`GET /v1/events/:id`): a line per push would be a
 * fifth of the consumer's CPU (measured: 0.65 against 0.54 ms per
 * notification of a fan-out), and Workers Logs bills each line past 20
 * million a month ($0.60 per million), more than the relay's own cost per
 * notification.
 */
function logDelivery(outcome: Outcome, { device, attempts }: Attempted): void {
  if (outcome.status === "sent") return;
  log(
    "delivery",
    {
      event_id: outcome.eventId,
      index: outcome.index,
      provider: device.provider,
      device: shortToken(device.token),
      status: outcome.status,
      error: outcome.error ?? null,
      ...(outcome.detail ? { detail: outcome.detail } : {}),
      attempts,
      latency_ms: outcome.latencyMs,
    },
    outcome.status === "failed" ? "warn" : "info",
  );
}
