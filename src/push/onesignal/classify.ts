/**
 * Turns a OneSignal Create message answer into a result per user. OneSignal
 * answers 200 even when some users (or all) could not be reached: read the
 * body. `errors.invalid_aliases.external_id` lists users it knows without a
 * push subscription; with no notification `id` nothing was sent to anyone
 * (the users do not exist, or none is subscribed). External ids OneSignal
 * does not know at all are not listed when others were reached: they are
 * recorded as sent, as OneSignal's answer implies.
 *
 * Sources: OneSignal's Create message reference ("If the 200 response
 * contains invalid_aliases ... no longer subscribed. If no id is returned,
 * then a message was not created"); 401/403 for a wrong key, 400 for a bad
 * request ("app_id not found" for an unknown app), 429 rate limits.
 */
import type { PushResult } from "../provider";
import { asObject, retryLater } from "../verdict";

/** The first error text of an answer, or `http_<status>`. */
function firstError(status: number, body: unknown): string {
  const errors = asObject(body).errors;
  const first: unknown = Array.isArray(errors) ? errors[0] : undefined;
  return typeof first === "string" && first !== "" ? first : `http_${status}`;
}

/** The result for each of `externalIds` (in order), from one answer. */
export function classifyOneSignal(answer: { status: number; headers: Headers; body: unknown }, externalIds: readonly string[], now: number): PushResult[] {
  const { status, headers, body } = answer;
  const all = (result: PushResult) => externalIds.map(() => result);
  if (status >= 200 && status < 300) {
    const fields = asObject(body);
    const invalid = asObject(asObject(fields.errors).invalid_aliases).external_id;
    const unsubscribed = new Set(Array.isArray(invalid) ? invalid.filter((id): id is string => typeof id === "string") : []);
    const id = typeof fields.id === "string" ? fields.id : "";
    if (id === "") {
      // Nothing was created: nobody of this request can be reached through OneSignal.
      const reason = unsubscribed.size > 0 ? "invalid_aliases" : "onesignal_no_subscribers";
      return externalIds.map((external) => ({ kind: "no_device", reason: unsubscribed.has(external) ? "invalid_aliases" : reason }));
    }
    return externalIds.map((external) => (unsubscribed.has(external) ? { kind: "no_device", reason: "invalid_aliases" } : { kind: "sent", id }));
  }
  if (status === 429 || status >= 500) return all(retryLater(`onesignal_${status}`, headers, now));
  if (status === 401 || status === 403) return all({ kind: "misconfigured", reason: "ONESIGNAL_API_KEY" });
  const error = firstError(status, body);
  if (/app_id/i.test(error)) return all({ kind: "misconfigured", reason: "ONESIGNAL_APP_ID" });
  // Any other 4xx: what we sent is wrong.
  return all({ kind: "failed", reason: `onesignal_${status}` });
}
