/**
 * Stand-in for Huawei Push Kit (HMS Core): the OAuth 2.0 token endpoint
 * and `POST /v1/{appId}/messages:send`. It checks what Huawei checks: the
 * client-credentials grant (App ID and App Secret of a known app), a
 * bearer access token on each send that was minted for the App ID in the
 * path and has not expired (401 80200001 / 80200003), the message shape
 * (`android.notification` with a title, a body and a valid
 * `click_action`, `data` a string: 400 80100003), the token list (1 to
 * 1,000: 400 80300010) and the size of the message without its tokens
 * (4,096 bytes: 413 80300008). Then each token: a token scripted with
 * `hms_illegal_token` is refused; some refused is 200 80100000 with the
 * refused ones in `msg`, all refused is 400 80300007, none 200 80000000.
 *
 * Sources: Huawei's Push Kit server API reference (downlink message
 * sending, its result codes and the HTTP status of each; 503 for flow
 * control) and the OAuth 2.0 client-credentials grant of its account kit.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { StandinContext } from "./context.ts";
import { json, requestHeaders, type Answer } from "./http.ts";
import { hmsError, isPreset, scripted } from "./presets.ts";
import { pushLine } from "./print.ts";
import { reasonOf } from "./push-flow.ts";
import type { RecordedPush, RecordedRequest, ScriptedResponse } from "./types.ts";

export const HMS_TOKEN_PATH = "/oauth2/v3/token";
export const HMS_SEND = /^\/v1\/([^/]+)\/messages:send$/;
/** Push Kit: at most 1,000 tokens per message. */
export const HMS_MAX_TOKENS = 1000;
const MAX_MESSAGE_BYTES = 4096;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

/** `POST /oauth2/v3/token`: `grant_type=client_credentials&client_id=&client_secret=`. */
export function handleHmsToken(context: StandinContext, raw: Buffer): Answer {
  const form = new URLSearchParams(raw.toString("utf8"));
  if (form.get("grant_type") !== "client_credentials") return json(400, { error: 1102, error_description: "unsupported grant_type" });
  const minted = context.hms.mint(form.get("client_id") ?? "", form.get("client_secret") ?? "", context.now());
  if (!minted) return json(400, { error: 1101, error_description: "invalid client" });
  context.records.count("hms_token", form.get("client_id")!);
  return json(200, { access_token: minted.token, expires_in: minted.expiresIn, token_type: "Bearer" });
}

interface CheckedMessage {
  tokens: string[];
  notification: Json;
  data: Json;
  rest: Json;
}

/** The message a send carries, or Push Kit's answer refusing it. */
function checkMessage(body: unknown): CheckedMessage | Answer {
  const message = isObject(body) ? body.message : undefined;
  if (!isObject(message)) return hmsError(400, "80100003", "Illegal payload, message is required");
  const tokens = message.token;
  if (!Array.isArray(tokens) || tokens.length === 0 || tokens.length > HMS_MAX_TOKENS || !tokens.every((t) => typeof t === "string" && t !== "")) {
    return hmsError(400, "80300010", "The number of tokens in the message body exceeds the default value");
  }
  const android = isObject(message.android) ? message.android : {};
  const notification = android.notification;
  if (!isObject(notification)) return hmsError(400, "80100003", "Illegal payload, android.notification is required");
  for (const field of ["title", "body"]) {
    if (typeof notification[field] !== "string" || notification[field] === "") return hmsError(400, "80100003", `Illegal payload, android.notification.${field} is required`);
  }
  const problem = clickActionProblem(notification.click_action);
  if (problem) return hmsError(400, "80100003", `Illegal payload, ${problem}`);
  if (message.data !== undefined && typeof message.data !== "string") return hmsError(400, "80100003", "Illegal payload, data must be a JSON string");
  const { token: _tokens, ...rest } = message;
  if (Buffer.byteLength(JSON.stringify(rest)) > MAX_MESSAGE_BYTES) return hmsError(413, "80300008", "The message body size exceeds the default value");
  let data: Json = {};
  try {
    const parsed: unknown = message.data === undefined ? {} : JSON.parse(message.data as string);
    if (isObject(parsed)) data = parsed;
  } catch {
    // Push Kit takes any string; the stand-in only reads the relay's tap data from it.
  }
  return { tokens: tokens as string[], notification, data, rest };
}

/** click_action: type 1 needs intent or action, 2 a url, 3 nothing more. */
function clickActionProblem(value: unknown): string | null {
  if (!isObject(value)) return "android.notification.click_action is required";
  if (value.type === 1) return typeof value.intent === "string" || typeof value.action === "string" ? null : "click_action type 1 needs intent or action";
  if (value.type === 2) return typeof value.url === "string" && value.url.startsWith("https://") ? null : "click_action type 2 needs an https url";
  return value.type === 3 ? null : "click_action.type must be 1, 2 or 3";
}

/** `POST /v1/{appId}/messages:send` */
export function handleHmsSend(context: StandinContext, request: IncomingMessage, appId: string, raw: Buffer): Answer {
  const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1] ?? "";
  let body: unknown;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch {
    return hmsError(400, "80100003", "Illegal payload, the body must be JSON");
  }
  const checked = checkMessage(body);
  const tokens = "tokens" in checked ? checked.tokens : [];
  const eventId = "tokens" in checked && typeof checked.data.event_id === "string" ? checked.data.event_id : null;
  const refusal = context.hms.refusal(bearer, appId, context.now());
  if (refusal) return log(context, tokens, eventId, hmsError(401, refusal, refusal === "80200003" ? "Oauth token expired" : "Oauth authentication error"), "checks");
  if (!("tokens" in checked)) return log(context, tokens, eventId, checked, "checks");
  if (isObject(body) && body.validate_only === true) return log(context, tokens, eventId, success(), "checks");
  return deliver(context, { appId, request, checked, eventId });
}

interface Delivery {
  appId: string;
  request: IncomingMessage;
  checked: CheckedMessage;
  eventId: string | null;
}

/** Scripts and faults first (the first token that has one decides the whole request), then each token. */
function deliver(context: StandinContext, delivery: Delivery): Answer {
  const { checked, eventId } = delivery;
  const illegal = new Set<string>();
  for (const token of checked.tokens) {
    const entry = nextScript(context, token);
    if (entry && "preset" in entry && entry.preset === "hms_illegal_token") illegal.add(token);
    else if (entry) {
      const result = scripted(entry, context.now());
      if ("answer" in result) return log(context, checked.tokens, eventId, result.answer, "script");
    }
  }
  for (const token of checked.tokens) {
    const fault = context.faults.next("hms", token, context.now());
    if (fault?.mode === "hms_illegal_token") illegal.add(token);
    else if (fault) return log(context, checked.tokens, eventId, fault.answer, "fault");
  }
  const reached = checked.tokens.filter((t) => !illegal.has(t));
  record(context, delivery, reached);
  const answer = reached.length === checked.tokens.length ? success() : illegalAnswer(checked.tokens.length, [...illegal]);
  return log(context, checked.tokens, eventId, answer, "checks", new Map([...illegal].map((t) => [t, "illegal_token"])));
}

function nextScript(context: StandinContext, token: string): ScriptedResponse | undefined {
  const entries = context.scripts.get(token);
  const entry = entries?.shift();
  if (entries?.length === 0) context.scripts.delete(token);
  return entry && (!("preset" in entry) || isPreset(entry.preset)) ? entry : undefined;
}

const success = (): Answer => json(200, { code: "80000000", msg: "Success", requestId: randomUUID() });

function illegalAnswer(total: number, illegal: string[]): Answer {
  if (illegal.length === total) return json(400, { code: "80300007", msg: "All the tokens are invalid", requestId: randomUUID() });
  const msg = JSON.stringify({ success: total - illegal.length, failure: illegal.length, illegal_tokens: illegal });
  return json(200, { code: "80100000", msg, requestId: randomUUID() });
}

function record(context: StandinContext, { appId, request, checked, eventId }: Delivery, reached: readonly string[]): void {
  const now = context.now();
  const headers = requestHeaders(request);
  const text = (value: unknown) => (typeof value === "string" ? value : null);
  const requestId = randomUUID();
  if (reached.length > 0) context.records.count("hms_send", appId);
  for (const token of reached) {
    const push: RecordedPush = {
      provider: "hms",
      token,
      title: text(checked.notification.title),
      body: text(checked.notification.body),
      path: text(checked.data.path),
      url: text(checked.data.url),
      event_id: eventId,
      headers,
      payload: checked.rest,
      received_at: now,
      request_id: requestId,
    };
    context.records.addPush(push, appId);
    context.print?.(pushLine(push));
  }
}

function log(context: StandinContext, tokens: readonly string[], eventId: string | null, answer: Answer, by: RecordedRequest["answered_by"], reasons?: Map<string, string>): Answer {
  const now = context.now();
  for (const token of tokens) {
    const reason = reasons?.get(token) ?? reasonOf("hms", answer);
    context.records.addRequest({ provider: "hms", token, status: answer.reset ? 0 : answer.status, reason, answered_by: by, event_id: eventId, received_at: now });
  }
  return answer;
}
