/**
 * The settings self-check as every provider answers it: asked whether our
 * settings are accepted, without notifying anyone (each provider's
 * check.ts says how), a provider answers ok or what an operator should fix.
 * The helpers here turn the answers the providers share (no answer, busy,
 * a misconfiguration table's entry) into those words.
 */
import type { HttpOutcome } from "./http";
import { type Misconfiguration, unreadableSetting } from "./misconfiguration";
import type { PushResult, SettingsCheck } from "./provider";

export type { SettingsCheck } from "./provider";

/**
 * How long a check waits for each answer: long enough for a provider that
 * is slow, short enough that a page or a deploy waiting on every provider
 * and app is not held for minutes (APNs may never answer a Worker).
 */
export const CHECK_TIMEOUT_MS = 8_000;

export const passed = (detail: string): SettingsCheck => ({ ok: true, detail });
export const failed = (detail: string): SettingsCheck => ({ ok: false, detail });

/** What to check for `reason`, from a provider's misconfiguration table (else: a setting that cannot be used). */
export function whatToCheck(table: Readonly<Record<string, Misconfiguration>>, reason: string): string {
  return Object.hasOwn(table, reason) ? table[reason]!.check : unreadableSetting(reason).check;
}

/** The words for a request that got no answer from `service` within `timeoutMs`. */
export function unanswered(service: string, outcome: Exclude<HttpOutcome, { kind: "answer" }>, timeoutMs: number): string {
  if (outcome.kind === "timeout") return `${service} did not answer within ${timeoutMs / 1000} s: run the check again; if it keeps timing out, ${service} cannot be reached from this Worker.`;
  return `${service} could not be reached (${outcome.error}): check the API base setting and the network, then run the check again.`;
}

/** The words for an answer that says "not now" (429, 5xx): nothing is known about the settings yet. */
export const busy = (service: string, status: number | string): SettingsCheck =>
  failed(`${service} is busy or unavailable (${status}): nothing is known about the settings yet; run the check again in a few minutes.`);

/**
 * What a check says when the send path stopped before the provider (an
 * app's settings unusable, a credential refused or its endpoint down):
 * the result a send would have returned, in the provider's words.
 */
export function notReached(service: string, result: PushResult, table: Readonly<Record<string, Misconfiguration>>): SettingsCheck {
  if (result.kind === "misconfigured") return failed(whatToCheck(table, result.reason));
  if (result.kind === "retry" && (result.reason === "timeout" || result.reason === "network_error")) {
    return failed(`${service}'s token endpoint did not answer (${result.reason}): run the check again later.`);
  }
  if (result.kind === "retry" && result.reason === "credentials_rejected") {
    return failed(`${service} refused the relay's credentials within the last minute (a send was refused too, and sends wait a minute before asking again): check the provider's key settings, then run the check again in a minute.`);
  }
  if (result.kind === "retry") return busy(`${service}'s token endpoint`, result.reason);
  if (result.kind === "sent") return passed(`${service} accepted the request.`);
  return failed(`${service} stopped at ${result.reason}${result.detail ? ` (${result.detail})` : ""}.`);
}
