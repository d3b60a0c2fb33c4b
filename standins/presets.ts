/**
 * Scripted answers: the presets reproduce the exact statuses and bodies FCM
 * and APNs send for each failure the relay must handle, so a test scripts
 * "this device is unregistered" rather than hand-writing Google's JSON.
 */
import { randomUUID } from "node:crypto";
import { fcmError, fieldViolation, unauthenticated } from "./google-errors.ts";
import { json, type Answer } from "./http.ts";
import type { Preset, ScriptedResponse } from "./types.ts";

/** An APNs refusal: `{ reason }` (410 adds `timestamp`), with an `apns-id` like every APNs answer. */
export function apnsError(status: number, reason: string, apnsId: string = randomUUID(), nowMs?: number): Answer {
  const body = nowMs === undefined ? { reason } : { reason, timestamp: nowMs };
  return json(status, body, { "apns-id": apnsId });
}

function presetAnswer(preset: Preset, nowMs: number): Answer {
  switch (preset) {
    case "unregistered":
      return fcmError(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED");
    case "sender_id_mismatch":
      return fcmError(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH");
    case "invalid_token_argument":
      return invalidTokenArgument();
    case "invalid_argument":
      return fcmError(400, "INVALID_ARGUMENT", "Request contains an invalid argument.", "INVALID_ARGUMENT");
    case "quota_exceeded":
      return fcmError(
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for quota metric 'Send requests' and limit 'Send requests per minute' of service 'fcm.googleapis.com'.",
        "QUOTA_EXCEEDED",
      );
    case "unavailable":
      return fcmError(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE");
    case "internal":
      return fcmError(500, "INTERNAL", "Internal error encountered.", "INTERNAL");
    case "unauthenticated":
      return unauthenticated("ACCESS_TOKEN_EXPIRED");
    case "third_party_auth_error":
      return fcmError(401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service", "THIRD_PARTY_AUTH_ERROR");
    case "apns_unregistered":
      return apnsError(410, "Unregistered", undefined, nowMs);
    case "apns_bad_device_token":
      return apnsError(400, "BadDeviceToken");
    case "apns_device_token_not_for_topic":
      return apnsError(400, "DeviceTokenNotForTopic");
    case "apns_expired_provider_token":
      return apnsError(403, "ExpiredProviderToken");
    case "apns_invalid_provider_token":
      return apnsError(403, "InvalidProviderToken");
    case "apns_too_many_requests":
      return apnsError(429, "TooManyRequests");
    case "apns_service_unavailable":
      return apnsError(503, "ServiceUnavailable");
    case "apns_internal_server_error":
      return apnsError(500, "InternalServerError");
    case "apns_payload_too_large":
      return apnsError(413, "PayloadTooLarge");
  }
}

/** FCM's answer to a token that is not a registration token at all. */
export function invalidTokenArgument(): Answer {
  return fcmError(400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token", "INVALID_ARGUMENT", [
    fieldViolation("message.token", "Invalid registration token"),
  ]);
}

/** Every preset, checked against the Preset type both ways. */
const PRESETS: Record<Preset, true> = {
  unregistered: true,
  sender_id_mismatch: true,
  invalid_token_argument: true,
  invalid_argument: true,
  quota_exceeded: true,
  unavailable: true,
  internal: true,
  unauthenticated: true,
  third_party_auth_error: true,
  apns_unregistered: true,
  apns_bad_device_token: true,
  apns_device_token_not_for_topic: true,
  apns_expired_provider_token: true,
  apns_invalid_provider_token: true,
  apns_too_many_requests: true,
  apns_service_unavailable: true,
  apns_internal_server_error: true,
  apns_payload_too_large: true,
};

/** Why `value` is not a ScriptedResponse, or null when it is one. */
export function scriptProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return "each response must be an object";
  const response = value as Record<string, unknown>;
  if ("preset" in response) {
    if (typeof response.preset !== "string" || !Object.hasOwn(PRESETS, response.preset)) {
      return `unknown preset ${String(response.preset)}`;
    }
    if (response.retryAfter !== undefined && typeof response.retryAfter !== "number") return "retryAfter must be a number";
  } else if (typeof response.status !== "number" || response.status < 200 || response.status > 599) {
    return "a response needs a preset or a status between 200 and 599";
  }
  if (response.delayMs !== undefined && typeof response.delayMs !== "number") return "delayMs must be a number";
  return null;
}

/** What a scripted response stands for: an answer, or the normal acceptance after a delay. */
export type Scripted = { answer: Answer } | { acceptAfterMs: number };

/**
 * Turns a ScriptedResponse into an answer; a bare `{ status: 200 }` means
 * the stand-in's normal acceptance (recorded as a push), after `delayMs`.
 */
export function scripted(response: ScriptedResponse, nowMs: number): Scripted {
  if ("preset" in response) {
    const answer = presetAnswer(response.preset, nowMs);
    if (response.retryAfter !== undefined) answer.headers = { ...answer.headers, "retry-after": String(response.retryAfter) };
    if (response.delayMs !== undefined) answer.delayMs = response.delayMs;
    return { answer };
  }
  if (response.status === 200 && response.body === undefined && !response.reset) return { acceptAfterMs: response.delayMs ?? 0 };
  const answer: Answer = { status: response.status, body: response.body };
  if (response.headers) {
    answer.headers = Object.fromEntries(Object.entries(response.headers).map(([name, value]) => [name.toLowerCase(), value]));
  }
  if (response.delayMs !== undefined) answer.delayMs = response.delayMs;
  if (response.reset) answer.reset = true;
  return { answer };
}
