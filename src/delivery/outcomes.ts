/**
 * Turns what the providers answered into ledger outcomes, the device
 * changes they imply (dead tokens, APNs environment), the retry delay each
 * notification asks for, and one log line per delivery.
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
  removeTokens: string[];
  environmentFixes: { token: string; environment: "production" | "sandbox" }[];
  /** notificationKey -> seconds until its next attempt, for notifications to retry. */
  delays: Map<string, number>;
}

export function settle(attempted: readonly Attempted[], finishedAt: number, random: () => number): Settled {
  const settled: Settled = { outcomes: [], removeTokens: [], environmentFixes: [], delays: new Map() };
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
        settled.removeTokens.push(device.token);
        break;
      case "retry": {
        outcome.status = "retrying";
        outcome.error = result.reason;
        const delay = retryDelaySeconds(attempts, result.retryAfter, random);
        outcome.nextAttemptAt = finishedAt + delay * 1000;
        const key = notificationKey(outcome);
        settled.delays.set(key, Math.max(settled.delays.get(key) ?? 0, delay));
        break;
      }
      case "failed":
        outcome.error = result.reason;
        break;
    }
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
        attempts,
        latency_ms: outcome.latencyMs,
      },
      outcome.status === "failed" ? "warn" : "info",
    );
  }
  return settled;
}
