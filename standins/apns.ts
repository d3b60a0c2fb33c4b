/**
 * Stand-in for APNs `POST /3/device/:token`: the provider token (see
 * apns-auth.ts), `apns-topic` equal to the key's bundle id, a hex device
 * token Apple could have issued (all zeros never is: BadDeviceToken, what
 * the relay's settings check counts on), the `apns-*` headers and a JSON
 * payload with an `aps` dictionary of at most 4,096 bytes; then the push
 * flow (script, fault, or 200 + apns-id).
 *
 * Production APNs speaks only HTTP/2. Local workerd cannot make outbound
 * HTTP/2 requests, so this stand-in speaks HTTP/1.1: the HTTP/2 path itself
 * can only be tried against Apple after deploying.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { StandinContext } from "./context.ts";
import { requestHeaders, type Answer } from "./http.ts";
import { apnsError } from "./presets.ts";
import { answerByChecks, settle } from "./push-flow.ts";
import type { RecordedPush } from "./types.ts";

/** Apple's limit for a regular remote notification's payload. */
export const APNS_PAYLOAD_LIMIT = 4096;

const HEX = /^[0-9a-fA-F]+$/;
const NEVER_ISSUED = /^0+$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const PUSH_TYPES = new Set(["alert", "background"]);
const PRIORITIES = new Set(["10", "5", "1"]);

type Json = Record<string, unknown>;

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The header problem Apple would report, if any. */
function headerProblem(request: IncomingMessage): string | null {
  const pushType = header(request, "apns-push-type");
  if (pushType === undefined || !PUSH_TYPES.has(pushType)) return "InvalidPushType";
  const priority = header(request, "apns-priority");
  if (priority !== undefined && !PRIORITIES.has(priority)) return "BadPriority";
  const expiration = header(request, "apns-expiration");
  if (expiration !== undefined && !/^\d+$/.test(expiration)) return "BadExpirationDate";
  const id = header(request, "apns-id");
  if (id !== undefined && !UUID.test(id)) return "BadMessageId";
  const collapseId = header(request, "apns-collapse-id");
  if (collapseId !== undefined && Buffer.byteLength(collapseId) > 64) return "BadCollapseId";
  return null;
}

/** The body as JSON, or undefined when it is empty or not JSON. */
function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}

/** The payload's problem, if any: empty, too large, or not JSON with an `aps` dictionary. */
function payloadProblem(body: Buffer, payload: unknown): { status: number; reason: string } | null {
  if (body.length === 0) return { status: 400, reason: "PayloadEmpty" };
  if (body.length > APNS_PAYLOAD_LIMIT) return { status: 413, reason: "PayloadTooLarge" };
  const aps = (payload as Json | undefined)?.aps;
  if (typeof aps === "object" && aps !== null && !Array.isArray(aps)) return null;
  // Apple documents no reason for a malformed payload; this one is the stand-in's own.
  return { status: 400, reason: "BadPayload" };
}

function text(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function recorded(context: StandinContext, request: IncomingMessage, token: string, payload: Json): RecordedPush {
  const alert = (payload.aps as Json).alert;
  const isAlertObject = typeof alert === "object" && alert !== null;
  return {
    provider: "apns",
    token,
    title: isAlertObject ? text((alert as Json).title) : null,
    body: isAlertObject ? text((alert as Json).body) : text(alert),
    path: text(payload.path),
    url: text(payload.url),
    event_id: text(payload.event_id),
    headers: requestHeaders(request),
    payload,
    received_at: context.now(),
  };
}

/** `POST /3/device/:token` (any other method: 405). */
export async function handleApnsPush(
  context: StandinContext,
  request: IncomingMessage,
  token: string,
  body: Buffer,
): Promise<Answer> {
  const apnsId = header(request, "apns-id") ?? randomUUID();
  const payload = parseJson(body);
  const eventId = text((payload as Json | undefined)?.event_id);
  const refusal = (status: number, reason: string) =>
    answerByChecks(context, "apns", token, eventId, apnsError(status, reason, apnsId));

  if (request.method !== "POST") return refusal(405, "MethodNotAllowed");
  if (token === "") return refusal(400, "MissingDeviceToken");
  const auth = await context.providerTokens.check(header(request, "authorization"), context.now());
  if (!auth.ok) return refusal(auth.status, auth.reason);
  const topic = header(request, "apns-topic");
  if (topic === undefined || topic === "") return refusal(400, "MissingTopic");
  if (topic !== auth.key.topic) return refusal(400, "TopicDisallowed");
  // Not hex, or all zeros: nothing Apple ever issued (a real token is an opaque 32-byte value).
  if (!HEX.test(token) || NEVER_ISSUED.test(token)) return refusal(400, "BadDeviceToken");
  const problem = headerProblem(request);
  if (problem) return refusal(400, problem);
  const payloadError = payloadProblem(body, payload);
  if (payloadError) return refusal(payloadError.status, payloadError.reason);

  return settle(context, {
    push: recorded(context, request, token, payload as Json),
    account: auth.key.key_id,
    accepted: { status: 200, headers: { "apns-id": apnsId } },
  });
}
