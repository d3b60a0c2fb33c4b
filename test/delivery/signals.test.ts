import { describe, expect, it } from "vitest";
import type { DeviceRow } from "../../src/db/devices";
import type { Attempted } from "../../src/delivery/outcomes";
import { readSignals } from "../../src/delivery/signals";
import type { PushResult } from "../../src/push/provider";
import { job, queued } from "../support/delivery";

const event = job([queued()]);
const SENT_AT = 1_764_000_000_000;

function attempt(token: string, result: PushResult, device: Partial<DeviceRow> = {}): Attempted {
  return {
    work: { job: event, n: event.notifications[0]! },
    device: {
      token,
      provider: "fcm",
      app: "default",
      custom_id: "c",
      user_id: null,
      platform: "android",
      environment: "production",
      created_at: 0,
      updated_at: 0,
      quarantined_at: null,
      quarantine_reason: null,
      ...device,
    },
    result,
    attempts: 1,
  };
}

describe("readSignals", () => {
  it.each([
    {
      name: "an accepted push counts as an answer and may clear alerts",
      attempted: [attempt("a", { kind: "sent", id: "x" })],
      expected: {
        tokenAnswers: [{ provider: "fcm", app: "default", answered: 1, dead: 0 }],
        deadTokens: [],
        misconfigured: [],
        accepted: [{ provider: "fcm", app: "default", ios: false }],
      },
    },
    {
      name: "a dead token counts as an answer and a dead one, with its reason",
      attempted: [
        attempt("a", { kind: "invalid_token", reason: "UNREGISTERED" }),
        attempt("b", { kind: "sent", id: "x" }),
        attempt("c", { kind: "invalid_token", reason: "Unregistered", since: SENT_AT - 60_000 }),
      ],
      expected: {
        tokenAnswers: [{ provider: "fcm", app: "default", answered: 3, dead: 2 }],
        // A dead answer carries when the token was known dead: APNs' timestamp where given, else the push's start.
        deadTokens: [
          { token: "a", provider: "fcm", app: "default", reason: "UNREGISTERED", sentAt: SENT_AT },
          { token: "c", provider: "fcm", app: "default", reason: "Unregistered", sentAt: SENT_AT - 60_000 },
        ],
        misconfigured: [],
        accepted: [{ provider: "fcm", app: "default", ios: false }],
      },
    },
    {
      name: "misconfigured answers are an alarm per provider, app and reason, not a token answer",
      attempted: [
        attempt("a", { kind: "misconfigured", reason: "SENDER_ID_MISMATCH" }),
        attempt("b", { kind: "misconfigured", reason: "SENDER_ID_MISMATCH" }),
        attempt("c", { kind: "misconfigured", reason: "DeviceTokenNotForTopic" }, { provider: "apns", app: "staging" }),
      ],
      expected: {
        tokenAnswers: [],
        deadTokens: [],
        misconfigured: [
          { provider: "fcm", app: "default", reason: "SENDER_ID_MISMATCH", answers: 2, lastEventId: event.event_id },
          { provider: "apns", app: "staging", reason: "DeviceTokenNotForTopic", answers: 1, lastEventId: event.event_id },
        ],
        accepted: [],
      },
    },
    {
      name: "retries and our own failures say nothing about tokens or settings",
      attempted: [
        attempt("a", { kind: "retry", reason: "UNAVAILABLE", retryAfter: 5 }),
        attempt("b", { kind: "retry", reason: "deferred", retryAfter: 1 }),
        attempt("c", { kind: "failed", reason: "provider_not_configured" }),
      ],
      expected: { tokenAnswers: [], deadTokens: [], misconfigured: [], accepted: [] },
    },
    {
      name: "a push accepted for an iOS device through FCM is marked, per provider and app",
      attempted: [
        attempt("a", { kind: "sent", id: "x" }),
        attempt("b", { kind: "sent", id: "y" }, { platform: "ios" }),
        attempt("c", { kind: "sent", id: "z" }, { provider: "apns", platform: "ios" }),
      ],
      expected: {
        tokenAnswers: [
          { provider: "fcm", app: "default", answered: 2, dead: 0 },
          { provider: "apns", app: "default", answered: 1, dead: 0 },
        ],
        deadTokens: [],
        misconfigured: [],
        accepted: [
          { provider: "fcm", app: "default", ios: true },
          { provider: "apns", app: "default", ios: true },
        ],
      },
    },
  ])("$name", ({ attempted, expected }) => {
    expect(readSignals(attempted, SENT_AT)).toStrictEqual(expected);
  });
});
