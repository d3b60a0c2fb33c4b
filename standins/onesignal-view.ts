/**
 * Stand-in for OneSignal's View messages API, `GET /notifications?app_id=
 * ...&limit=...`: the read the relay's settings check makes. It checks what
 * OneSignal checks for it (an `app_id` it knows, that app's App API key as
 * `Authorization: Key`, `limit` from 1 to 50) and answers the page shape
 * (`total_count`, `offset`, `limit`, `notifications`). It keeps no message
 * history, so the page is empty; it creates and records nothing.
 *
 * Source: OneSignal's "View messages" reference (up to 50 messages per
 * request, limit and offset, App API key).
 */
import type { StandinContext } from "./context.ts";
import { json, type Answer } from "./http.ts";
import { onesignalError } from "./presets.ts";

const MAX_LIMIT = 50;

/** `GET /notifications` */
export function handleOneSignalView(context: StandinContext, authorization: string | undefined, query: URLSearchParams): Answer {
  const appId = query.get("app_id");
  const app = appId === null ? undefined : context.onesignal.get(appId);
  if (!app) return onesignalError(400, "app_id not found. You may be missing a Content-Type: application/json header.");
  if (authorization !== `Key ${app.apiKey}`) {
    return onesignalError(403, "Access denied. Please include an 'Authorization: Key <App API key>' header with a valid API key.");
  }
  const limit = Number(query.get("limit") ?? MAX_LIMIT);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return onesignalError(400, `limit must be an integer from 1 to ${MAX_LIMIT}`);
  const offset = Number(query.get("offset") ?? 0);
  return json(200, { total_count: 0, offset: Number.isInteger(offset) && offset >= 0 ? offset : 0, limit, notifications: [] });
}
