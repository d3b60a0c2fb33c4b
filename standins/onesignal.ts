/**
 * Stand-in for OneSignal's Create message API, `POST /notifications`
 * (`?c=push`), for push notifications to users by external id. It checks
 * what OneSignal checks: `Authorization: Key <App API key>` of the app in
 * `app_id`, exactly one targeting mode (here `include_aliases` with
 * `target_channel: "push"`, at most 20,000 ids), English `contents`, and
 * an `idempotency_key` that must be a UUID; a key seen before gets the
 * earlier answer again and creates no second notification. Users it knows
 * without a push subscription come back in `errors.invalid_aliases` with a
 * 200; ids it does not know are ignored; when nobody could be reached there
 * is no notification id.
 *
 * Sources: OneSignal's "Push notification" API reference (Key auth,
 * include_aliases up to 20,000, target_channel, one targeting method),
 * "Idempotent API requests" (UUID keys, 30 days, "returns the result of the
 * previous operation"), and the 200 response description ("invalid_aliases
 * ... no longer subscribed"; "if no id is returned, then a message was not
 * created"). OneSignal's exact error texts are not documented; these are close.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { StandinContext } from "./context.ts";
import { json, requestHeaders, type Answer } from "./http.ts";
import { UUID } from "./onesignal-apps.ts";
import { onesignalError, scripted } from "./presets.ts";
import { pushLine } from "./print.ts";
import { reasonOf } from "./push-flow.ts";
import type { RecordedPush, RecordedRequest } from "./types.ts";

export const ONESIGNAL_NOTIFICATIONS_PATH = "/notifications";
/** OneSignal: include_aliases targets up to 20,000 users per request. */
export const ONESIGNAL_MAX_ALIASES = 20_000;

/** Every targeting parameter; a request may use one kind only. */
const TARGETING = [
  ["include_aliases"],
  ["include_subscription_ids"],
  ["included_segments", "excluded_segments"],
  ["filters"],
  ["include_player_ids"],
  ["include_external_user_ids"],
  ["include_email_tokens", "email_to"],
  ["include_phone_numbers"],
  ["include_ios_tokens", "include_android_reg_ids"],
] as const;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);
const text = (value: unknown): string | null => (typeof value === "string" ? value : null);
const badRequest = (message: string) => onesignalError(400, message);

/** The users a request targets by external id, or why OneSignal refuses it. */
function checkBody(body: Json): { externalIds: string[] } | { problem: string } {
  const used = TARGETING.filter((names) => names.some((name) => body[name] !== undefined));
  if (used.length === 0) return { problem: "You must include which players, segments, or aliases you wish to send this notification to." };
  if (used.length > 1) return { problem: `Targeting parameters cannot be combined: ${used.map((names) => names[0]).join(", ")}` };
  if (used[0]![0] !== "include_aliases") return { problem: "This stand-in sends to include_aliases only" };
  const aliases = body.include_aliases;
  if (!isObject(aliases)) return { problem: "include_aliases must be an object of alias labels to lists of ids" };
  const labels = Object.keys(aliases);
  if (labels.length !== 1 || labels[0] !== "external_id") return { problem: "This stand-in knows the external_id alias only" };
  const ids = aliases.external_id;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === "string" && id !== "")) {
    return { problem: "include_aliases.external_id must be a non-empty list of strings" };
  }
  if (ids.length > ONESIGNAL_MAX_ALIASES) return { problem: `include_aliases may target at most ${ONESIGNAL_MAX_ALIASES} ids (${ids.length} given)` };
  if (body.target_channel === undefined) return { problem: "target_channel is required with include_aliases" };
  if (body.target_channel !== "push") return { problem: 'target_channel must be "push" for a push notification' };

  const contents = body.contents;
  if (body.template_id === undefined && (!isObject(contents) || typeof contents.en !== "string" || contents.en === "")) {
    return { problem: "Notification contents must include English (en) content" };
  }
  for (const field of ["contents", "headings", "subtitle"]) {
    const value = body[field];
    if (value === undefined) continue;
    if (!isObject(value) || !Object.values(value).every((v) => typeof v === "string")) return { problem: `${field} must map languages to strings` };
    if (field !== "contents" && typeof value.en !== "string") return { problem: `${field} must include English (en)` };
  }
  if (body.data !== undefined && !isObject(body.data)) return { problem: "data must be a JSON object" };
  // OneSignal's notification payload page: additionalData is at most 2,048 bytes.
  if (body.data !== undefined && Buffer.byteLength(JSON.stringify(body.data)) > 2048) return { problem: "data must be at most 2048 bytes" };
  for (const field of ["idempotency_key", "external_id"]) {
    const value = body[field];
    if (value !== undefined && value !== null && !(typeof value === "string" && UUID.test(value))) return { problem: `${field} must be a valid UUID` };
  }
  if (body.ttl !== undefined && !(Number.isInteger(body.ttl) && (body.ttl as number) >= 0)) return { problem: "ttl must be a non-negative integer" };
  if (body.priority !== undefined && typeof body.priority !== "number") return { problem: "priority must be a number" };
  if (body.collapse_id !== undefined && !(typeof body.collapse_id === "string" && body.collapse_id.length <= 64)) {
    return { problem: "collapse_id must be a string of at most 64 characters" };
  }
  return { externalIds: ids as string[] };
}

function log(context: StandinContext, ids: readonly string[], eventId: string | null, answer: Answer, by: RecordedRequest["answered_by"], reasons?: Map<string, string>): Answer {
  const now = context.now();
  for (const id of ids) {
    context.records.addRequest({
      provider: "onesignal",
      token: id,
      status: answer.reset ? 0 : answer.status,
      reason: reasons?.get(id) ?? reasonOf("onesignal", answer),
      answered_by: by,
      event_id: eventId,
      received_at: now,
    });
  }
  return answer;
}

/** `POST /notifications` */
export function handleOneSignalNotification(context: StandinContext, request: IncomingMessage, query: URLSearchParams, raw: Buffer): Answer {
  if (request.method !== "POST") return onesignalError(405, "POST only");
  const channel = query.get("c");
  if (channel !== null && channel !== "push") return badRequest("This stand-in sends push notifications only (?c=push)");
  let body: unknown;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch {
    return badRequest("The request body must be JSON");
  }
  if (!isObject(body)) return badRequest("The request body must be a JSON object");
  const app = typeof body.app_id === "string" ? context.onesignal.get(body.app_id) : undefined;
  if (!app) return badRequest("app_id not found. You may be missing a Content-Type: application/json header.");
  if (request.headers.authorization !== `Key ${app.apiKey}`) {
    return onesignalError(403, "Access denied. Please include an 'Authorization: Key <App API key>' header with a valid API key.");
  }
  const checked = checkBody(body);
  const ids = "externalIds" in checked ? checked.externalIds : [];
  const eventId = isObject(body.data) ? text(body.data.event_id) : null;
  if ("problem" in checked) return log(context, ids, eventId, badRequest(checked.problem), "checks");

  const key = text(body.idempotency_key) ?? text(body.external_id);
  const earlier = key === null ? undefined : context.onesignal.remembered(app, key, context.now());
  if (earlier) return log(context, ids, eventId, earlier, "checks", new Map(ids.map((id) => [id, "idempotent_repeat"])));

  // Scripts and faults answer the whole request; the first id that has one decides.
  let acceptAfterMs = 0;
  for (const id of ids) {
    const entries = context.scripts.get(id);
    const entry = entries?.shift();
    if (entries?.length === 0) context.scripts.delete(id);
    if (!entry) continue;
    const result = scripted(entry, context.now());
    if ("answer" in result) return log(context, ids, eventId, result.answer, "script");
    // A scripted normal acceptance, after a delay: processed now, answered late (a lost answer, for a client that gave up).
    acceptAfterMs = result.acceptAfterMs;
    break;
  }
  for (const id of ids) {
    const fault = context.faults.next("onesignal", id, context.now());
    if (fault) return log(context, ids, eventId, fault.answer, "fault");
  }

  const reached: string[] = [];
  const unsubscribed: string[] = [];
  const reasons = new Map<string, string>();
  for (const id of new Set(ids)) {
    const state = app.users.get(id);
    if (state === "subscribed") reached.push(id);
    else if (state === "unsubscribed") {
      unsubscribed.push(id);
      reasons.set(id, "invalid_aliases");
    } else reasons.set(id, "unknown_user");
  }
  const notificationId = reached.length > 0 ? randomUUID() : "";
  const errors = unsubscribed.length > 0 ? { invalid_aliases: { external_id: unsubscribed } } : reached.length === 0 ? ["All included players are not subscribed"] : undefined;
  const answer = json(200, errors === undefined ? { id: notificationId, external_id: null } : { id: notificationId, external_id: null, errors });
  if (key !== null) context.onesignal.remember(app, key, answer, context.now());

  if (notificationId !== "") {
    context.records.count("onesignal_notifications", app.appId);
    const now = context.now();
    const headers = requestHeaders(request);
    const contents = body.contents as Json | undefined;
    const headings = body.headings as Json | undefined;
    const data = isObject(body.data) ? body.data : {};
    const requestId = randomUUID();
    // Shared by the request's pushes, without the (up to 20,000) ids: each push is one of them.
    const { include_aliases: _ids, ...payload } = body;
    for (const id of reached) {
      const push: RecordedPush = {
        provider: "onesignal",
        token: id,
        title: text(headings?.en),
        body: text(contents?.en),
        path: text(data.path),
        url: text(data.url),
        event_id: eventId,
        headers,
        payload,
        received_at: now,
        request_id: requestId,
        provider_id: notificationId,
      };
      context.records.addPush(push, app.appId);
      context.print?.(pushLine(push));
    }
  }
  return log(context, ids, eventId, acceptAfterMs > 0 ? { ...answer, delayMs: acceptAfterMs } : answer, "checks", reasons);
}
