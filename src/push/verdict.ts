/**
 * What a classifier makes of one provider answer: a PushResult the send can
 * return, or a request to refresh our credentials and try once more.
 */
import type { HttpOutcome } from "./http";
import type { PushResult } from "./provider";
import { parseRetryAfter } from "./retry-after";

export type Verdict = PushResult | { kind: "refresh_credentials"; reason: string };

type Retry = Extract<PushResult, { kind: "retry" }>;

/** A retry honouring the answer's Retry-After, if any. */
export function retryLater(reason: string, headers: Headers, now: number): Retry {
  const retryAfter = parseRetryAfter(headers.get("retry-after"), now);
  return retryAfter === undefined ? { kind: "retry", reason } : { kind: "retry", reason, retryAfter };
}

/** No answer at all: the request may or may not have arrived, so try again later. */
export function noAnswer(outcome: Exclude<HttpOutcome, { kind: "answer" }>): Retry {
  return { kind: "retry", reason: outcome.kind };
}

/** The JSON object a provider answered, or an empty one for anything else. */
export function asObject(body: unknown): Record<string, unknown> {
  return typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}
