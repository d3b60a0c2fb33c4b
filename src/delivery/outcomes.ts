/**
 * Turns what the providers answered into ledger outcomes, the device
 * changes they imply (dead tokens, APNs environment), the retry delay each
 * notification asks for, and one log line per delivery.
 */
import type { Outcome } from "../db/deliveries";
import type { DeviceRow } from "../db/devices";
import { log } from "../log";
import type { PushResult } from "../push/provider";
import { retryDelaySeconds } from "./backoff";
import { notificationKey, type Work } from "./plan";

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
  environmentFixes: { t: string; env: "production" | "sandbox" }[];
  /** notificationKey -> seconds until its next attempt, for notifications to retry. */
  delays: Map<string, number>;
}

export function settle(attempted: readonly Attempted[], finishedAt: number, random: () => number): Settled {
  const settled: Settled = { outcomes: [], removeTokens: [], environmentFixes: [], delays: new Map() };
  for (const { work, device, result, attempts } of attempted) {
    const outcome: Outcome = { e: work.job.event_id, i: work.n.i, t: device.token, s: "failed", l: finishedAt - work.job.received_at };
    switch (result.kind) {
      case "sent":
        outcome.s = "sent";
        outcome.id = result.id;
        if (result.environment && result.environment !== device.environment) {
          settled.environmentFixes.push({ t: device.token, env: result.environment });
        }
        break;
      case "invalid_token":
        outcome.s = "invalid_token";
        outcome.er = result.reason;
        settled.removeTokens.push(device.token);
        break;
      case "retry": {
        outcome.s = "retrying";
        outcome.er = result.reason;
        const delay = retryDelaySeconds(attempts, result.retryAfter, random);
        outcome.n = finishedAt + delay * 1000;
        const key = notificationKey(outcome.e, outcome.i);
        settled.delays.set(key, Math.max(settled.delays.get(key) ?? 0, delay));
        break;
      }
      case "failed":
        outcome.er = result.reason;
        break;
    }
    settled.outcomes.push(outcome);
    log(
      "delivery",
      {
        event_id: outcome.e,
        index: outcome.i,
        provider: device.provider,
        device: `…${device.token.slice(-6)}`,
        status: outcome.s,
        error: outcome.er ?? null,
        attempts,
        latency_ms: outcome.l,
      },
      outcome.s === "failed" ? "warn" : "info",
    );
  }
  return settled;
}
