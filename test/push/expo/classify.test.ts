/**
 * Expo's answers as verdicts: each ticket, a request that failed as a
 * whole, each receipt (table tests; the shapes are Expo's documented ones).
 */
import { describe, expect, it } from "vitest";
import { classifyReceipt, classifyRequestFailure, classifyTicket } from "../../../src/push/expo/classify";

const error = (code: string) => ({ status: "error", message: `about ${code}`, details: { error: code } });

describe("classifyTicket", () => {
  it.each([
    ["an ok ticket", { status: "ok", id: "XXXXXXXX-XXXX" }, { kind: "sent", id: "XXXXXXXX-XXXX" }],
    ["DeviceNotRegistered", error("DeviceNotRegistered"), { kind: "invalid_token", reason: "DeviceNotRegistered", detail: "about DeviceNotRegistered" }],
    ["MessageRateExceeded", error("MessageRateExceeded"), { kind: "retry", reason: "MessageRateExceeded", detail: "about MessageRateExceeded" }],
    ["InvalidCredentials", error("InvalidCredentials"), { kind: "misconfigured", reason: "InvalidCredentials", detail: "about InvalidCredentials" }],
    ["MismatchSenderId", error("MismatchSenderId"), { kind: "misconfigured", reason: "MismatchSenderId", detail: "about MismatchSenderId" }],
    ["MessageTooBig", error("MessageTooBig"), { kind: "failed", reason: "MessageTooBig", detail: "about MessageTooBig" }],
    ["an error without details", { status: "error", message: "?" }, { kind: "failed", reason: "ExpoError", detail: "?" }],
    ["an ok ticket without id", { status: "ok" }, { kind: "failed", reason: "expo_bad_ticket" }],
    ["no ticket at all", null, { kind: "failed", reason: "expo_bad_ticket" }],
  ])("%s", (_label, ticket, verdict) => {
    expect(classifyTicket(ticket)).toEqual(verdict);
  });

  it("keeps Expo's text without the token it names", () => {
    const ticket = { status: "error", message: '"ExponentPushToken[abc]" is not a registered push notification recipient', details: { error: "DeviceNotRegistered" } };
    expect(classifyTicket(ticket, "ExponentPushToken[abc]")).toEqual({
      kind: "invalid_token",
      reason: "DeviceNotRegistered",
      detail: '"…" is not a registered push notification recipient',
    });
  });
});

describe("classifyRequestFailure", () => {
  const body = (code: string) => ({ errors: [{ code, message: "..." }] });
  it.each([
    [429, body("TOO_MANY_REQUESTS"), { "retry-after": "30" }, { kind: "retry", reason: "TOO_MANY_REQUESTS", retryAfter: 30 }],
    [500, body("INTERNAL_SERVER_ERROR"), {}, { kind: "retry", reason: "INTERNAL_SERVER_ERROR" }],
    [503, "<html>", {}, { kind: "retry", reason: "http_503" }],
    [401, body("UNAUTHORIZED"), {}, { kind: "misconfigured", reason: "EXPO_ACCESS_TOKEN" }],
    [400, body("PUSH_TOO_MANY_NOTIFICATIONS"), {}, { kind: "failed", reason: "PUSH_TOO_MANY_NOTIFICATIONS" }],
    [400, body("PUSH_TOO_MANY_EXPERIENCE_IDS"), {}, { kind: "failed", reason: "PUSH_TOO_MANY_EXPERIENCE_IDS" }],
    [400, body("VALIDATION_ERROR"), {}, { kind: "failed", reason: "VALIDATION_ERROR" }],
  ])("%s %j", (status, answer, headers, verdict) => {
    expect(classifyRequestFailure(status, new Headers(headers), answer, Date.now())).toEqual(verdict);
  });
});

describe("classifyReceipt", () => {
  it.each([
    [{ status: "ok" }, { kind: "delivered" }],
    [error("DeviceNotRegistered"), { kind: "dead", reason: "DeviceNotRegistered" }],
    [error("InvalidCredentials"), { kind: "misconfigured", reason: "InvalidCredentials" }],
    [error("MismatchSenderId"), { kind: "misconfigured", reason: "MismatchSenderId" }],
    [error("MessageTooBig"), { kind: "failed", reason: "MessageTooBig" }],
    [error("MessageRateExceeded"), { kind: "retry", reason: "MessageRateExceeded" }],
  ])("%j", (receipt, verdict) => {
    expect(classifyReceipt(receipt)).toEqual(verdict);
  });
});
