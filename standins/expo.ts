/**
 * Stand-in for Expo's push API: `POST /--/api/v2/push/send` takes one
 * message or a list of up to 100 (counted by recipient) and answers a push
 * ticket per recipient, in order; `POST /--/api/v2/push/getReceipts` takes
 * up to 1,000 ticket ids and answers the receipts it has. It checks what
 * Expo checks: the JSON shape and field types, Expo push tokens, the
 * request limits, and an access token (`Authorization: Bearer`) when one is
 * sent or the project requires one. Scripts and faults answer per message
 * (a ticket or receipt error) or for the whole request (429, 5xx, reset).
 *
 * Source: Expo's "Send notifications with the Expo Push Service" (message
 * format, push tickets and receipts, request errors PUSH_TOO_MANY_NOTIFICATIONS,
 * PUSH_TOO_MANY_RECEIPTS, TOO_MANY_REQUESTS, UNAUTHORIZED). Expo documents no
 * code for a malformed request; VALIDATION_ERROR is the stand-in's own.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { StandinContext } from "./context.ts";
import type { ExpoReceipt } from "./expo-receipts.ts";
import { json, requestHeaders, type Answer } from "./http.ts";
import { pushLine } from "./print.ts";
import { EXPO_RECEIPT_ERRORS, EXPO_TICKET_ERRORS, expoErrorMessage, expoRequestError, isExpoMessagePreset, scripted } from "./presets.ts";
import { reasonOf } from "./push-flow.ts";
import type { RecordedPush, RecordedRequest, ScriptedResponse } from "./types.ts";

export const EXPO_SEND_PATH = "/--/api/v2/push/send";
export const EXPO_RECEIPTS_PATH = "/--/api/v2/push/getReceipts";
/** Expo: at most 100 notifications (recipients) per send request. */
export const EXPO_MAX_NOTIFICATIONS = 100;
/** Expo: at most 1,000 receipt ids per getReceipts request. */
export const EXPO_MAX_RECEIPT_IDS = 1000;
/** Expo: "the total notification payload sent to Apple and Google must be at most 4 KiB". */
export const EXPO_PAYLOAD_LIMIT = 4096;

/** What Expo's SDK accepts as a push token (expo-server-sdk `isExpoPushToken`, bracketed forms). */
const TOKEN = /^Expo(nent)?PushToken\[[^[\]\s]+\]$/;
/** Fields of Expo's message request format. */
const FIELDS = new Set([
  "to",
  "data",
  "title",
  "body",
  "ttl",
  "expiration",
  "priority",
  "subtitle",
  "sound",
  "badge",
  "channelId",
  "categoryId",
  "mutableContent",
  "interruptionLevel",
]);
const STRING_FIELDS = ["title", "body", "subtitle", "channelId", "categoryId", "interruptionLevel"];
/** What Expo adds to the payload it hands APNs and FCM (project identifiers): counted against the 4 KiB. */
const EXPO_ADDS = { experienceId: "@standin/learnink-app", scopeKey: "@standin/learnink-app" };

type Json = Record<string, unknown>;

interface Recipient {
  token: string;
  message: Json;
  eventId: string | null;
}

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);
const text = (value: unknown): string | null => (typeof value === "string" ? value : null);
const invalid = (message: string) => expoRequestError(400, "VALIDATION_ERROR", message);
const unauthorized = () =>
  expoRequestError(401, "UNAUTHORIZED", "The bearer token is invalid; or push security is enabled and an access token is required.");

/** Why Expo would refuse this message, or null. */
function messageProblem(message: unknown, at: string): string | null {
  if (!isObject(message)) return `${at} must be an object`;
  for (const field of Object.keys(message)) if (!FIELDS.has(field)) return `${at}.${field} is not allowed`;
  const to = message.to;
  const tokens = typeof to === "string" ? [to] : Array.isArray(to) && to.length > 0 ? to : null;
  if (!tokens) return `${at}.to must be a push token or a non-empty list of push tokens`;
  for (const token of tokens) {
    if (typeof token !== "string" || !TOKEN.test(token)) return `${at}.to: ${JSON.stringify(token)} is not a valid Expo push token`;
  }
  for (const field of STRING_FIELDS) {
    if (message[field] !== undefined && typeof message[field] !== "string") return `${at}.${field} must be a string`;
  }
  if (message.data !== undefined && !isObject(message.data)) return `${at}.data must be an object`;
  if (message.sound !== undefined && message.sound !== null && message.sound !== "default" && !isObject(message.sound)) {
    return `${at}.sound must be "default", null or a sound object`;
  }
  for (const field of ["ttl", "expiration", "badge"]) {
    const value = message[field];
    if (value !== undefined && !(typeof value === "number" && Number.isFinite(value) && value >= 0)) return `${at}.${field} must be a non-negative number`;
  }
  if (message.priority !== undefined && !["default", "normal", "high"].includes(message.priority as string)) {
    return `${at}.priority must be "default", "normal" or "high"`;
  }
  if (message.mutableContent !== undefined && typeof message.mutableContent !== "boolean") return `${at}.mutableContent must be a boolean`;
  return null;
}

/** The JSON body, or undefined when it is not JSON. */
function parse(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}

/** The access token the request was made with ("" for none), or the 401 to answer. */
function authorize(context: StandinContext, authorization: string | undefined, tokens: readonly string[]): { account: string } | { refusal: Answer } {
  if (authorization === undefined) {
    return tokens.some((token) => context.credentials.expoTokenRequired(token)) ? { refusal: unauthorized() } : { account: "" };
  }
  const match = /^Bearer\s+(\S+)$/.exec(authorization);
  if (!match?.[1] || !context.credentials.expoAccessTokens.has(match[1])) return { refusal: unauthorized() };
  return { account: match[1] };
}

function log(context: StandinContext, recipients: readonly Recipient[], answer: Answer, by: RecordedRequest["answered_by"], reasons?: (string | null)[]): Answer {
  const now = context.now();
  recipients.forEach((r, i) =>
    context.records.addRequest({
      provider: "expo",
      token: r.token,
      status: answer.reset ? 0 : answer.status,
      reason: reasons?.[i] ?? reasonOf("expo", answer),
      answered_by: by,
      event_id: r.eventId,
      received_at: now,
    }),
  );
  return answer;
}

/** A script entry that answers the whole request (not one message's ticket or receipt, not the normal acceptance). */
function answersRequest(entry: ScriptedResponse | undefined): entry is ScriptedResponse {
  if (!entry) return false;
  if ("preset" in entry) return !isExpoMessagePreset(entry.preset);
  return !(entry.status === 200 && entry.body === undefined && !entry.reset);
}

/** What a message's own script entry makes of its ticket: an error now, an error in the receipt, or nothing special. */
function messageOutcome(entry: ScriptedResponse | undefined): { ticketError?: string; receiptError?: string; delayMs: number } {
  if (!entry) return { delayMs: 0 };
  if ("preset" in entry) {
    const ticketError = (EXPO_TICKET_ERRORS as Record<string, string>)[entry.preset];
    const receiptError = (EXPO_RECEIPT_ERRORS as Record<string, string>)[entry.preset];
    return { ticketError, receiptError, delayMs: entry.delayMs ?? 0 };
  }
  return { delayMs: entry.delayMs ?? 0 };
}

/** The recipients of a send body, or the refusal Expo would answer. */
function readSend(body: Buffer): { recipients: Recipient[]; single: boolean } | { refusal: Answer } {
  const parsed = parse(body);
  if (parsed === undefined) return { refusal: invalid("The request body must be JSON") };
  const single = !Array.isArray(parsed);
  const messages = single ? [parsed] : (parsed as unknown[]);
  if (messages.length === 0) return { refusal: invalid("The request must contain at least one message") };
  const recipients: Recipient[] = [];
  for (const [index, message] of messages.entries()) {
    const problem = messageProblem(message, single ? "message" : `[${index}]`);
    if (problem) return { refusal: invalid(problem) };
    const { to, ...rest } = message as Json;
    const eventId = isObject(rest.data) ? text(rest.data.event_id) : null;
    for (const token of typeof to === "string" ? [to] : (to as string[])) recipients.push({ token, message: { to: token, ...rest }, eventId });
  }
  if (recipients.length > EXPO_MAX_NOTIFICATIONS) {
    return {
      refusal: expoRequestError(
        400,
        "PUSH_TOO_MANY_NOTIFICATIONS",
        `You are trying to send more than ${EXPO_MAX_NOTIFICATIONS} push notifications in one request (${recipients.length})`,
      ),
    };
  }
  return { recipients, single: single && recipients.length === 1 };
}

function payloadBytes(message: Json): number {
  const { title, subtitle, body, data, sound, badge } = message;
  return Buffer.byteLength(JSON.stringify({ title, subtitle, body, data, sound, badge, ...EXPO_ADDS }));
}

/** `POST /--/api/v2/push/send` */
export function handleExpoSend(context: StandinContext, request: IncomingMessage, body: Buffer): Answer {
  if (request.method !== "POST") return expoRequestError(405, "METHOD_NOT_ALLOWED", "POST only");
  const read = readSend(body);
  if ("refusal" in read) return read.refusal;
  const { recipients, single } = read;
  const auth = authorize(context, request.headers.authorization, recipients.map((r) => r.token));
  if ("refusal" in auth) return log(context, recipients, auth.refusal, "checks");

  // A script or fault that answers the whole request is taken alone: the other tokens keep their scripts.
  for (const recipient of recipients) {
    const entries = context.scripts.get(recipient.token);
    if (answersRequest(entries?.[0])) {
      const entry = entries!.shift()!;
      if (entries!.length === 0) context.scripts.delete(recipient.token);
      const result = scripted(entry, context.now());
      if ("answer" in result) return log(context, recipients, result.answer, "script");
    }
  }
  // A fault with an Expo message preset (a burst of DeviceNotRegistered) answers that message only.
  const messageFaults = new Map<Recipient, ScriptedResponse>();
  for (const recipient of recipients) {
    const fault = context.faults.next("expo", recipient.token, context.now());
    if (!fault) continue;
    if (isExpoMessagePreset(fault.mode)) messageFaults.set(recipient, { preset: fault.mode });
    else return log(context, recipients, fault.answer, "fault");
  }

  const requestId = randomUUID();
  const now = context.now();
  const headers = requestHeaders(request);
  const tickets: Json[] = [];
  const reasons: (string | null)[] = [];
  let delayMs = 0;
  for (const recipient of recipients) {
    const entries = context.scripts.get(recipient.token);
    const entry = entries?.shift() ?? messageFaults.get(recipient);
    if (entries?.length === 0) context.scripts.delete(recipient.token);
    const outcome = messageOutcome(entry);
    delayMs = Math.max(delayMs, outcome.delayMs);
    if (outcome.ticketError) {
      tickets.push({ status: "error", message: expoErrorMessage(outcome.ticketError, recipient.token), details: { error: outcome.ticketError } });
      reasons.push(outcome.ticketError);
      continue;
    }
    const id = randomUUID();
    const receiptError = outcome.receiptError ?? (payloadBytes(recipient.message) > EXPO_PAYLOAD_LIMIT ? "MessageTooBig" : undefined);
    const receipt: ExpoReceipt = receiptError
      ? { status: "error", message: expoErrorMessage(receiptError, recipient.token), details: { error: receiptError } }
      : { status: "ok" };
    context.expoReceipts.add(id, receipt, now);
    tickets.push({ status: "ok", id });
    reasons.push(null);
    const data = isObject(recipient.message.data) ? recipient.message.data : {};
    const push: RecordedPush = {
      provider: "expo",
      token: recipient.token,
      title: text(recipient.message.title),
      body: text(recipient.message.body),
      path: text(data.path),
      url: text(data.url),
      event_id: recipient.eventId,
      headers,
      payload: recipient.message,
      received_at: now,
      request_id: requestId,
      provider_id: id,
    };
    context.records.addPush(push, auth.account);
    context.print?.(pushLine(push));
  }
  context.records.count("expo_send", auth.account);
  const answer = json(200, { data: single ? tickets[0] : tickets });
  if (delayMs > 0) answer.delayMs = delayMs;
  return log(context, recipients, answer, "checks", reasons);
}

/** `POST /--/api/v2/push/getReceipts` */
export function handleExpoReceipts(context: StandinContext, request: IncomingMessage, body: Buffer): Answer {
  if (request.method !== "POST") return expoRequestError(405, "METHOD_NOT_ALLOWED", "POST only");
  const parsed = parse(body);
  if (!isObject(parsed) || !Array.isArray(parsed.ids) || !parsed.ids.every((id) => typeof id === "string")) {
    return invalid('The request body must be an object with "ids", a list of receipt ids');
  }
  if (parsed.ids.length > EXPO_MAX_RECEIPT_IDS) {
    return expoRequestError(
      400,
      "PUSH_TOO_MANY_RECEIPTS",
      `You are trying to get more than ${EXPO_MAX_RECEIPT_IDS} push receipts in one request (${parsed.ids.length})`,
    );
  }
  const auth = authorize(context, request.headers.authorization, []);
  if ("refusal" in auth) return auth.refusal;
  context.records.count("expo_receipts", auth.account);
  return json(200, { data: context.expoReceipts.read(parsed.ids as string[], context.now()) });
}
