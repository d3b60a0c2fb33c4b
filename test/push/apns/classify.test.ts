import { describe, expect, it } from "vitest";
import { classifyApns } from "../../../src/push/apns/classify";
import type { Verdict } from "../../../src/push/verdict";

const NOW = Date.UTC(2026, 10, 20, 9, 0, 0);

const rows: { name: string; status: number; headers?: Record<string, string>; body: unknown; expected: Verdict }[] = [
  {
    name: "200 keeps the apns-id",
    status: 200,
    headers: { "apns-id": "EC1BF194-B3B2-424A-89A9-5A918A6E6B5E" },
    body: null,
    expected: { kind: "sent", id: "EC1BF194-B3B2-424A-89A9-5A918A6E6B5E" },
  },
  {
    name: "410 Unregistered drops the token, dead since its timestamp",
    status: 410,
    body: { reason: "Unregistered", timestamp: NOW - 86_400_000 },
    expected: { kind: "invalid_token", reason: "Unregistered", since: NOW - 86_400_000 },
  },
  {
    name: "410 without a body drops the token",
    status: 410,
    body: null,
    expected: { kind: "invalid_token", reason: "Unregistered" },
  },
  {
    name: "400 BadDeviceToken is a dead token (the provider first tries the other host)",
    status: 400,
    body: { reason: "BadDeviceToken" },
    expected: { kind: "invalid_token", reason: "BadDeviceToken" },
  },
  {
    name: "410 ExpiredToken drops the token",
    status: 410,
    body: { reason: "ExpiredToken" },
    expected: { kind: "invalid_token", reason: "ExpiredToken" },
  },
  ...["DeviceTokenNotForTopic", "TopicDisallowed", "BadTopic", "MissingTopic"].map((reason) => ({
    name: `400 ${reason} is a wrong APNS_TOPIC, not a dead token`,
    status: 400,
    body: { reason },
    expected: { kind: "misconfigured", reason } as const,
  })),
  {
    name: "403 ExpiredProviderToken asks for a new JWT",
    status: 403,
    body: { reason: "ExpiredProviderToken" },
    expected: { kind: "refresh_credentials", reason: "ExpiredProviderToken" },
  },
  {
    name: "403 InvalidProviderToken asks for a new JWT",
    status: 403,
    body: { reason: "InvalidProviderToken" },
    expected: { kind: "refresh_credentials", reason: "InvalidProviderToken" },
  },
  {
    name: "429 TooManyProviderTokenUpdates retries (and must not renew)",
    status: 429,
    body: { reason: "TooManyProviderTokenUpdates" },
    expected: { kind: "retry", reason: "TooManyProviderTokenUpdates" },
  },
  {
    name: "429 TooManyRequests retries after Retry-After",
    status: 429,
    headers: { "retry-after": "120" },
    body: { reason: "TooManyRequests" },
    expected: { kind: "retry", reason: "TooManyRequests", retryAfter: 120 },
  },
  {
    name: "429 TooManyRequests without Retry-After leaves the delay to the consumer",
    status: 429,
    body: { reason: "TooManyRequests" },
    expected: { kind: "retry", reason: "TooManyRequests" },
  },
  {
    name: "500 InternalServerError retries",
    status: 500,
    body: { reason: "InternalServerError" },
    expected: { kind: "retry", reason: "InternalServerError" },
  },
  {
    name: "503 ServiceUnavailable retries after a Retry-After date",
    status: 503,
    headers: { "retry-after": new Date(NOW + 60_000).toUTCString() },
    body: { reason: "ServiceUnavailable" },
    expected: { kind: "retry", reason: "ServiceUnavailable", retryAfter: 60 },
  },
  {
    name: "413 PayloadTooLarge is our bug",
    status: 413,
    body: { reason: "PayloadTooLarge" },
    expected: { kind: "failed", reason: "PayloadTooLarge" },
  },
  {
    name: "400 IdleTimeout retries (Apple closed an idle connection)",
    status: 400,
    body: { reason: "IdleTimeout" },
    expected: { kind: "retry", reason: "IdleTimeout" },
  },
  ...["Forbidden", "BadCertificate", "BadCertificateEnvironment"].map((reason) => ({
    name: `403 ${reason} is a setting to fix, with its alert`,
    status: 403,
    body: { reason },
    expected: { kind: "misconfigured" as const, reason },
  })),
  {
    name: "403 MissingProviderToken is a setting to fix (no refresh can add a missing header)",
    status: 403,
    body: { reason: "MissingProviderToken" },
    expected: { kind: "misconfigured", reason: "MissingProviderToken" },
  },
  {
    name: "an answer without a reason keeps its status",
    status: 404,
    body: "not json",
    expected: { kind: "failed", reason: "http_404" },
  },
];

describe("classifyApns", () => {
  it.each(rows)("$name", ({ status, headers, body, expected }) => {
    expect(classifyApns(status, new Headers(headers), body, NOW)).toStrictEqual(expected);
  });
});
