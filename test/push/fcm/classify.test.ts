import { describe, expect, it } from "vitest";
import { classifyFcm } from "../../../src/push/fcm/classify";
import type { Verdict } from "../../../src/push/verdict";

const NOW = Date.UTC(2026, 10, 20, 9, 0, 0);
const FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError";
const BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest";

/** An FCM error body as Google sends it. */
function fcmError(code: number, status: string, message: string, errorCode?: string, violations?: string[]) {
  const details: unknown[] = [];
  if (errorCode) details.push({ "@type": FCM_ERROR, errorCode });
  if (violations) details.push({ "@type": BAD_REQUEST, fieldViolations: violations.map((field) => ({ field, description: "bad" })) });
  return { error: { code, message, status, details } };
}

const rows: { name: string; status: number; headers?: Record<string, string>; body: unknown; expected: Verdict }[] = [
  {
    name: "200 keeps the message name",
    status: 200,
    body: { name: "projects/acme/messages/0:1500415314455276%31bd1c9631bd1c96" },
    expected: { kind: "sent", id: "projects/acme/messages/0:1500415314455276%31bd1c9631bd1c96" },
  },
  {
    name: "404 UNREGISTERED drops the token",
    status: 404,
    body: fcmError(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED"),
    expected: { kind: "invalid_token", reason: "UNREGISTERED" },
  },
  {
    name: "400 INVALID_ARGUMENT with a field violation on message.token drops the token",
    status: 400,
    body: fcmError(400, "INVALID_ARGUMENT", "Invalid value", "INVALID_ARGUMENT", ["message.token"]),
    expected: { kind: "invalid_token", reason: "INVALID_ARGUMENT" },
  },
  {
    name: "400 INVALID_ARGUMENT saying the registration token is not valid drops the token",
    status: 400,
    body: fcmError(400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token", "INVALID_ARGUMENT"),
    expected: { kind: "invalid_token", reason: "INVALID_ARGUMENT" },
  },
  {
    name: "400 INVALID_ARGUMENT about the payload is our bug, not the token's",
    status: 400,
    body: fcmError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.", "INVALID_ARGUMENT", ["message.data[0].value"]),
    expected: { kind: "failed", reason: "INVALID_ARGUMENT", detail: "Invalid JSON payload received." },
  },
  {
    name: "403 SENDER_ID_MISMATCH is a wrong service account, not a dead token",
    status: 403,
    body: fcmError(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH"),
    expected: { kind: "misconfigured", reason: "SENDER_ID_MISMATCH" },
  },
  {
    name: "401 THIRD_PARTY_AUTH_ERROR is the APNs credentials in Firebase, without a refresh of ours",
    status: 401,
    body: fcmError(401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service", "THIRD_PARTY_AUTH_ERROR"),
    expected: { kind: "misconfigured", reason: "THIRD_PARTY_AUTH_ERROR" },
  },
  {
    name: "401 UNAUTHENTICATED asks for a new access token",
    status: 401,
    body: fcmError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."),
    expected: { kind: "refresh_credentials", reason: "UNAUTHENTICATED" },
  },
  {
    name: "401 without a body asks for a new access token",
    status: 401,
    body: null,
    expected: { kind: "refresh_credentials", reason: "http_401" },
  },
  {
    name: "429 QUOTA_EXCEEDED retries after Retry-After seconds",
    status: 429,
    headers: { "retry-after": "30" },
    body: fcmError(429, "RESOURCE_EXHAUSTED", "Quota exceeded", "QUOTA_EXCEEDED"),
    expected: { kind: "retry", reason: "QUOTA_EXCEEDED", retryAfter: 30 },
  },
  {
    name: "429 honours a Retry-After date",
    status: 429,
    headers: { "retry-after": new Date(NOW + 90_000).toUTCString() },
    body: fcmError(429, "RESOURCE_EXHAUSTED", "Quota exceeded", "QUOTA_EXCEEDED"),
    expected: { kind: "retry", reason: "QUOTA_EXCEEDED", retryAfter: 90 },
  },
  {
    name: "429 without Retry-After leaves the delay to the consumer",
    status: 429,
    body: fcmError(429, "RESOURCE_EXHAUSTED", "Quota exceeded", "QUOTA_EXCEEDED"),
    expected: { kind: "retry", reason: "QUOTA_EXCEEDED" },
  },
  {
    name: "500 INTERNAL retries",
    status: 500,
    body: fcmError(500, "INTERNAL", "Internal error", "INTERNAL"),
    expected: { kind: "retry", reason: "INTERNAL" },
  },
  {
    name: "503 UNAVAILABLE retries after Retry-After",
    status: 503,
    headers: { "retry-after": "10" },
    body: fcmError(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE"),
    expected: { kind: "retry", reason: "UNAVAILABLE", retryAfter: 10 },
  },
  {
    name: "502 from a proxy, with an HTML body, retries",
    status: 502,
    body: "<html>Bad Gateway</html>",
    expected: { kind: "retry", reason: "http_502" },
  },
  {
    name: "403 PERMISSION_DENIED without an FcmError (API disabled, or no permission) is misconfigured",
    status: 403,
    body: fcmError(403, "PERMISSION_DENIED", "Permission 'cloudmessaging.messages.create' denied"),
    expected: { kind: "misconfigured", reason: "PERMISSION_DENIED" },
  },
  {
    name: "404 without an FcmError (unknown project) fails, the token is not blamed",
    status: 404,
    body: fcmError(404, "NOT_FOUND", "Requested entity was not found."),
    expected: { kind: "failed", reason: "NOT_FOUND", detail: "Requested entity was not found." },
  },
];

describe("classifyFcm", () => {
  it.each(rows)("$name", ({ status, headers, body, expected }) => {
    expect(classifyFcm(status, new Headers(headers), body, NOW)).toStrictEqual(expected);
  });
});
