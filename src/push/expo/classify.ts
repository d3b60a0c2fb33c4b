/**
 * Turns Expo's answers into verdicts: each push ticket of a `push/send`
 * answer, a whole request that failed, and each push receipt.
 *
 * Expo's "Send notifications" documentation: a ticket is `{ status: "ok",
 * id }` or `{ status: "error", message, details: { error } }`; receipts
 * carry the same errors later. DeviceNotRegistered: stop sending to the
 * token. MessageRateExceeded: back off and retry. InvalidCredentials and
 * MismatchSenderId: the app's push credentials at Expo are wrong, the same
 * for every device: a misconfiguration, never a dead token. MessageTooBig:
 * our payload. A failed request answers 4xx/5xx with `errors: [{ code }]`:
 * TOO_MANY_REQUESTS (over 600 notifications a second per project) and 5xx
 * are retried; UNAUTHORIZED means EXPO_ACCESS_TOKEN is wrong or missing.
 */
import type { PushResult } from "../provider";
import { providerDetail } from "../detail";
import { asObject, retryLater } from "../verdict";

/** Ticket and receipt errors that mean the app's credentials at Expo are wrong. */
export const EXPO_MISCONFIGURATION = new Set(["InvalidCredentials", "MismatchSenderId"]);

/** What one ticket says about its message (to `token`, which Expo's error text may name: it is kept out of the detail). */
export function classifyTicket(ticket: unknown, token = ""): PushResult {
  const fields = asObject(ticket);
  if (fields.status === "ok" && typeof fields.id === "string" && fields.id !== "") return { kind: "sent", id: fields.id };
  if (fields.status !== "error") return { kind: "failed", reason: "expo_bad_ticket" };
  const result = classifyError(errorOf(fields));
  const detail = providerDetail(fields.message, [token]);
  return detail ? { ...result, detail } : result;
}

/** The error code of an error ticket or receipt (`details.error`), else `ExpoError`. */
export function errorOf(fields: Record<string, unknown>): string {
  const code = asObject(fields.details).error;
  return typeof code === "string" && code !== "" ? code : "ExpoError";
}

function classifyError(code: string): Exclude<PushResult, { kind: "sent" }> {
  if (code === "DeviceNotRegistered") return { kind: "invalid_token", reason: code };
  if (code === "MessageRateExceeded") return { kind: "retry", reason: code };
  if (EXPO_MISCONFIGURATION.has(code)) return { kind: "misconfigured", reason: code };
  return { kind: "failed", reason: code };
}

/** The first `errors[].code` of a failed request's body, else `http_<status>`. */
export function requestErrorCode(status: number, body: unknown): string {
  const errors = asObject(body).errors;
  const first = Array.isArray(errors) ? asObject(errors[0]).code : undefined;
  return typeof first === "string" && first !== "" ? first : `http_${status}`;
}

/** What a request that failed as a whole (status not 2xx) means for each of its messages. */
export function classifyRequestFailure(status: number, headers: Headers, body: unknown, now: number): PushResult {
  const code = requestErrorCode(status, body);
  if (status === 429 || code === "TOO_MANY_REQUESTS" || status >= 500) return retryLater(code, headers, now);
  if (status === 401 || status === 403 || code === "UNAUTHORIZED") return { kind: "misconfigured", reason: "EXPO_ACCESS_TOKEN" };
  // PUSH_TOO_MANY_NOTIFICATIONS, PUSH_TOO_MANY_EXPERIENCE_IDS, a validation error: what we sent is wrong.
  return { kind: "failed", reason: code };
}

/** What a receipt says about a push Expo accepted earlier: delivered to APNs/FCM, or not and why. */
export type ReceiptVerdict =
  | { kind: "delivered" }
  | { kind: "dead"; reason: string }
  | { kind: "misconfigured"; reason: string }
  /** Expo throttled the push before handing it on (MessageRateExceeded): nothing reached the phone, send it again later. */
  | { kind: "retry"; reason: string }
  | { kind: "failed"; reason: string };

export function classifyReceipt(receipt: unknown): ReceiptVerdict {
  const fields = asObject(receipt);
  if (fields.status === "ok") return { kind: "delivered" };
  const code = errorOf(fields);
  if (code === "DeviceNotRegistered") return { kind: "dead", reason: code };
  if (code === "MessageRateExceeded") return { kind: "retry", reason: code };
  if (EXPO_MISCONFIGURATION.has(code)) return { kind: "misconfigured", reason: code };
  return { kind: "failed", reason: code };
}
