/**
 * What happens to a push once a provider route has parsed it: refused by
 * the stand-in's own checks, or (checks passed) answered by the device
 * token's script, by a random fault, or accepted and recorded (and, for
 * the `drop_answer` fault, its answer then lost). Every request is logged
 * with the status it got, so tests can count retries.
 */
import type { StandinContext } from "./context.ts";
import { googleReason } from "./google-errors.ts";
import type { Answer } from "./http.ts";
import { scripted } from "./presets.ts";
import { pushLine } from "./print.ts";
import type { PushProviderName, RecordedPush, RecordedRequest } from "./types.ts";

/** A push that passed the route's checks. */
export interface CheckedPush {
  push: RecordedPush;
  /** The client_email (FCM) or key id (APNs) it was sent with, for the stats. */
  account: string;
  /** The provider's success answer. */
  accepted: Answer;
}

/** The reason a request log shows for `answer`: the provider's error code, "reset" or "hang"; null for success. */
export function reasonOf(provider: PushProviderName, answer: Answer): string | null {
  if (answer.reset) return answer.delayMs ? "hang" : "reset";
  if (answer.status === 200) return null;
  const body = answer.body as { reason?: unknown; errors?: unknown } | undefined;
  switch (provider) {
    case "apns":
      return typeof body?.reason === "string" ? body.reason : null;
    case "expo": {
      const first = Array.isArray(body?.errors) ? (body.errors[0] as { code?: unknown } | undefined) : undefined;
      return typeof first?.code === "string" ? first.code : null;
    }
    case "onesignal": {
      const first: unknown = Array.isArray(body?.errors) ? body.errors[0] : undefined;
      return typeof first === "string" ? first : null;
    }
    case "fcm":
      return googleReason(answer.body);
    case "hms": {
      const code = (answer.body as { code?: unknown } | undefined)?.code;
      return typeof code === "string" ? code : `http_${answer.status}`;
    }
  }
}

function log(
  context: StandinContext,
  request: Omit<RecordedRequest, "status" | "reason" | "received_at">,
  answer: Answer,
  reason: string | null = reasonOf(request.provider, answer),
): Answer {
  context.records.addRequest({
    ...request,
    status: answer.reset ? 0 : answer.status,
    reason,
    received_at: context.now(),
  });
  return answer;
}

/** Logs and returns an answer decided by the route's own checks: a refusal, or a validate_only dry run. */
export function answerByChecks(
  context: StandinContext,
  provider: PushProviderName,
  token: string,
  eventId: string | null,
  answer: Answer,
): Answer {
  return log(context, { provider, token, event_id: eventId, answered_by: "checks" }, answer);
}

function accept(context: StandinContext, checked: CheckedPush, delayMs: number, by: RecordedRequest["answered_by"]): Answer {
  const { push } = checked;
  context.records.addPush(push, checked.account);
  context.print?.(pushLine(push));
  const answer = delayMs > 0 ? { ...checked.accepted, delayMs } : checked.accepted;
  return log(context, { provider: push.provider, token: push.token, event_id: push.event_id, answered_by: by }, answer);
}

/** Accepts the push (the phone gets it), then drops the connection: the sender never learns it was sent. */
function acceptAndDrop(context: StandinContext, checked: CheckedPush): Answer {
  const { push } = checked;
  context.records.addPush(push, checked.account);
  context.print?.(pushLine(push));
  const request = { provider: push.provider, token: push.token, event_id: push.event_id, answered_by: "fault" as const };
  return log(context, request, { status: 0, reset: true }, "answer_dropped");
}

/** The answer to a push that passed the checks: its script first, then the fail rate, else success. */
export function settle(context: StandinContext, checked: CheckedPush): Answer {
  const { push } = checked;
  const request = { provider: push.provider, token: push.token, event_id: push.event_id };
  const queue = context.scripts.get(push.token);
  const next = queue?.shift();
  if (queue?.length === 0) context.scripts.delete(push.token);
  if (next) {
    const result = scripted(next, context.now());
    if ("acceptAfterMs" in result) return accept(context, checked, result.acceptAfterMs, "script");
    return log(context, { ...request, answered_by: "script" }, result.answer);
  }
  const fault = context.faults.next(push.provider, push.token, context.now());
  if (fault?.mode === "drop_answer") return acceptAndDrop(context, checked);
  if (fault) return log(context, { ...request, answered_by: "fault" }, fault.answer);
  return accept(context, checked, 0, "checks");
}
