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
  for (const { work, device, result, attempts } of attempted) {
    const outcome: Outcome = {
      ...keyOf(work.job, work.n),
      token: device.token,
      status: "failed",
      latencyMs: finishedAt - work.job.received_at,
    };
    switch (result.kind) {
      case "sent":
        outcome.status = "sent";
        outcome.providerId = result.id;
        if (result.environment && result.environment !== device.environment) {
          settled.environmentFixes.push({ token: device.token, environment: result.environment });
        }
        break;
      case "invalid_token":
        outcome.status = "invalid_token";
        outcome.error = result.reason;
        break;
      case "retry":
      case "misconfigured": {
        // A wrong setting deletes nothing and loses nothing: the delivery waits for the operator's fix
        // like any retry (the retries span about 13 hours), then fails and can be replayed.
        if (attempts >= MAX_DELIVERY_ATTEMPTS) {
          outcome.error = "retries_exhausted";
          break;
        }
        outcome.status = "retrying";
        outcome.error = result.kind === "retry" ? result.reason : `provider_misconfigured:${result.reason}`;
        const delay = retryDelaySeconds(attempts, result.kind === "retry" ? result.retryAfter : undefined, random);
        outcome.nextAttemptAt = finishedAt + delay * 1000;
        const key = notificationKey(outcome);
        settled.delays.set(key, [...(settled.delays.get(key) ?? []), delay]);
        break;
      }
      case "failed":
        outcome.error = result.reason;
        break;
      case "no_device":
        // OneSignal knows the user but has no subscription to push to: final, like a user without devices.
        outcome.status = "no_device";
        outcome.error = result.reason;
        break;
    }
    if (result.kind !== "sent" && result.detail) outcome.detail = result.detail;
    settled.outcomes.push(outcome);
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
  return settled;
}
