/**
 * Scripted answers: the presets reproduce the exact statuses and bodies FCM,
 * APNs, Expo and OneSignal send for each failure the relay must handle, so
 * a test scripts "this device is unregistered" rather than hand-writing
 * Google's JSON. Expo's ticket and receipt errors concern one message of a
 * request, so they are data here and expo.ts puts them in place.
 */
import { randomUUID } from "node:crypto";
import { fcmError, fieldViolation, unauthenticated } from "./google-errors.ts";
import { json, type Answer } from "./http.ts";
import type { ExpoPreset, Preset, ScriptedResponse } from "./types.ts";

/** An APNs refusal: `{ reason }` (410 adds `timestamp`), with an `apns-id` like every APNs answer. */
export function apnsError(status: number, reason: string, apnsId: string = randomUUID(), nowMs?: number): Answer {
  const body = nowMs === undefined ? { reason } : { reason, timestamp: nowMs };
  return json(status, body, { "apns-id": apnsId });
}

/** Expo presets that concern one message: its ticket's error code. */
export const EXPO_TICKET_ERRORS = {
  expo_device_not_registered: "DeviceNotRegistered",
  expo_message_rate_exceeded: "MessageRateExceeded",
  expo_invalid_credentials: "InvalidCredentials",
  expo_message_too_big: "MessageTooBig",
} as const satisfies Partial<Record<ExpoPreset, string>>;

/** Expo presets that concern one message: the error its receipt will hold (the ticket is `ok`). */
export const EXPO_RECEIPT_ERRORS = {
  expo_receipt_device_not_registered: "DeviceNotRegistered",
  expo_receipt_message_rate_exceeded: "MessageRateExceeded",
  expo_receipt_invalid_credentials: "InvalidCredentials",
  expo_receipt_mismatch_sender_id: "MismatchSenderId",
  expo_receipt_message_too_big: "MessageTooBig",
} as const satisfies Partial<Record<ExpoPreset, string>>;

type ExpoMessagePreset = keyof typeof EXPO_TICKET_ERRORS | keyof typeof EXPO_RECEIPT_ERRORS;

/** True for the Expo presets that answer one message rather than the request. */
export const isExpoMessagePreset = (preset: string): preset is ExpoMessagePreset =>
  Object.hasOwn(EXPO_TICKET_ERRORS, preset) || Object.hasOwn(EXPO_RECEIPT_ERRORS, preset);

/** Expo's words for each per-message error (the `message` beside `details.error`). */
export function expoErrorMessage(error: string, token: string): string {
  switch (error) {
    case "DeviceNotRegistered":
      return `"${token}" is not a registered push notification recipient`;
    case "MessageRateExceeded":
      return `Too many messages were sent to "${token}" in a short time`;
    case "InvalidCredentials":
      return "The push notification credentials of the recipient's app are invalid or missing";
    case "MismatchSenderId":
      return "The FCM sender ID of the recipient's app does not match its credentials";
    case "MessageTooBig":
      return "The notification payload exceeds 4096 bytes";
    default:
      return error;
  }
}

/** An Expo request-level refusal: `{ errors: [{ code, message }] }`. */
export function expoRequestError(status: number, code: string, message: string, details?: unknown): Answer {
  return json(status, { errors: [details === undefined ? { code, message } : { code, message, details }] });
}

/** A OneSignal refusal: `{ errors: [message] }`. */
/** A Push Kit answer: `{ code, msg, requestId }`. */
export function hmsError(status: number, code: string, msg: string): Answer {
  return json(status, { code, msg, requestId: randomUUID() });
}

export function onesignalError(status: number, message: string): Answer {
  return json(status, { errors: [message] });
}

function presetAnswer(preset: Exclude<Preset, ExpoMessagePreset>, nowMs: number): Answer {
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
    case "expo_too_many_requests":
      return expoRequestError(429, "TOO_MANY_REQUESTS", "You are sending more than 600 notifications per second per project.");
    case "expo_internal_server_error":
      return expoRequestError(500, "INTERNAL_SERVER_ERROR", "An unknown error occurred.");
    case "expo_service_unavailable":
      return expoRequestError(503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable.");
    case "onesignal_rate_limited":
      return onesignalError(429, "API rate limit exceeded");
    case "onesignal_internal_server_error":
      return onesignalError(500, "Internal Server Error");
    case "onesignal_service_unavailable":
      return onesignalError(503, "Service Unavailable");
    case "hms_flow_control":
      // Flow control is an HTTP 503 before any Push Kit code is given.
      return json(503, "Service Unavailable");
    case "hms_internal_error":
      return hmsError(500, "81000001", "System inner error");
    case "hms_oauth_error":
      return hmsError(401, "80200001", "Oauth authentication error");
    case "hms_no_permission":
      return hmsError(403, "80300002", "The current app does not have the permission to send messages");
    case "hms_illegal_token":
      return json(500, { error: "stand-in: hms_illegal_token answers one token, not a request" });
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
  expo_device_not_registered: true,
  expo_message_rate_exceeded: true,
  expo_invalid_credentials: true,
  expo_message_too_big: true,
  expo_receipt_device_not_registered: true,
  expo_receipt_message_rate_exceeded: true,
  expo_receipt_invalid_credentials: true,
  expo_receipt_mismatch_sender_id: true,
  expo_receipt_message_too_big: true,
  expo_too_many_requests: true,
  expo_internal_server_error: true,
  expo_service_unavailable: true,
  onesignal_rate_limited: true,
  onesignal_internal_server_error: true,
  onesignal_service_unavailable: true,
  hms_illegal_token: true,
  hms_flow_control: true,
  hms_internal_error: true,
  hms_oauth_error: true,
  hms_no_permission: true,
};

/** True when `value` names a preset. */
export const isPreset = (value: unknown): value is Preset => typeof value === "string" && Object.hasOwn(PRESETS, value);

/** Why `value` is not a ScriptedResponse, or null when it is one. */
export function scriptProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return "each response must be an object";
  const response = value as Record<string, unknown>;
  if ("preset" in response) {
    if (!isPreset(response.preset)) {
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
 * An Expo per-message preset is no answer to a whole request: expo.ts
 * handles those before calling this.
 */
export function scripted(response: ScriptedResponse, nowMs: number): Scripted {
  if ("preset" in response) {
    if (isExpoMessagePreset(response.preset)) {
      return { answer: json(500, { error: `stand-in: ${response.preset} answers one Expo message, not a request` }) };
    }
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
