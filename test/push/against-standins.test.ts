/**
 * Both providers against the stand-in OAuth, FCM and APNs servers, which
 * verify what Google and Apple verify (signatures, claims, access tokens,
 * topic, payload). Every test registers its own service account or APNs
 * key, so the stand-ins' counters are its own.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { createIsolateMemory } from "../../src/push/credential-cache";
import type { PushMessage } from "../../src/push/provider";
import { createProviders } from "../../src/push/providers";
import { apnsToken, fcmToken, hex } from "../support/ids";
import { freshApnsKey, freshServiceAccount, requests, script, stats, waitForPushes } from "../support/standins";
import { captureLogs } from "../support/logs";
import { apnsKey, pushMessage, serviceAccount } from "../support/push";

let logs = captureLogs();
afterEach(() => {
  logs.stop();
  logs = captureLogs();
});

const message = (overrides: Partial<PushMessage>) => pushMessage({ event_id: `msg_${hex(8)}`, ...overrides });

/** A provider set as one isolate sees it: its own memory, the shared D1, the real clock and fetch. */
const isolate = (config: Partial<Env>) => createProviders({ ...env, ...config }, {}, createIsolateMemory());

describe("FCM against the stand-ins", () => {
  it("sends with a verified assertion and access token, the message as FCM checks it", async () => {
    const account = await freshServiceAccount();
    const token = fcmToken();
    const sent = message({ token });
    const result = await isolate(account.config).fcm.send(sent);
    expect(result).toMatchObject({ kind: "sent", id: expect.stringMatching(new RegExp(`^projects/${account.projectId}/messages/`)) });
    const [push] = await waitForPushes({ token }, 1);
    expect(push).toMatchObject({ title: sent.title, body: sent.body, path: sent.path, url: sent.url, event_id: sent.event_id });
    expect(await stats({ client_email: account.clientEmail })).toMatchObject({ token_requests: 1, fcm_pushes: 1 });
  });

  it("sends the whole text to a device whose token is 4,000 characters: FCM's 4,096 bytes count the payload, not the token", async () => {
    const account = await freshServiceAccount();
    const token = `${fcmToken()}${"x".repeat(4_000 - fcmToken().length)}`;
    const body = "Finish the fire safety module before Friday. ".repeat(40).trim();
    const result = await isolate(account.config).fcm.send(message({ token, body }));
    expect(result).toMatchObject({ kind: "sent" });
    const [push] = await waitForPushes({ token }, 1);
    expect(push!.body).toBe(body);
  });

  it("asks for one access token for concurrent sends and for another isolate", async () => {
    const account = await freshServiceAccount();
    const first = isolate(account.config).fcm;
    await Promise.all(Array.from({ length: 6 }, () => first.send(message({ token: fcmToken() }))));
    await isolate(account.config).fcm.send(message({ token: fcmToken() }));
    expect(await stats({ client_email: account.clientEmail })).toMatchObject({ token_requests: 1, fcm_pushes: 7 });
  });

  it("gets a new access token once the old one is about to expire", async () => {
    // Tokens living 2 s are used for 1 s.
    const account = await freshServiceAccount({ tokenTtlSeconds: 2 });
    const provider = isolate(account.config).fcm;
    expect(await provider.send(message({ token: fcmToken() }))).toMatchObject({ kind: "sent" });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await provider.send(message({ token: fcmToken() }))).toMatchObject({ kind: "sent" });
    expect((await stats({ client_email: account.clientEmail })).token_requests).toBe(2);
  });

  it("on 401 gets one new access token and sends again", async () => {
    const account = await freshServiceAccount();
    const token = fcmToken();
    await script(token, [{ preset: "unauthenticated" }]);
    expect(await isolate(account.config).fcm.send(message({ token }))).toMatchObject({ kind: "sent" });
    expect((await requests(token)).map((r) => r.status)).toEqual([401, 200]);
    expect((await stats({ client_email: account.clientEmail })).token_requests).toBe(2);
  });

  it("retries credentials_rejected after a minute when the new access token is refused too", async () => {
    const account = await freshServiceAccount();
    const token = fcmToken();
    await script(token, [{ preset: "unauthenticated" }, { preset: "unauthenticated" }]);
    expect(await isolate(account.config).fcm.send(message({ token }))).toEqual({ kind: "retry", reason: "credentials_rejected", retryAfter: 60 });
    expect(await requests(token)).toHaveLength(2);
    expect(logs.errors()).toContainEqual(expect.objectContaining({ event: "credentials", reason: "credentials_rejected" }));
  });

  it("retries credentials_rejected after a minute when Google does not know the service account", async () => {
    const unknown = await serviceAccount({ token_uri: `${env.STANDIN_URL}/token` });
    const result = await isolate({ FCM_SERVICE_ACCOUNT: unknown.json, FCM_API_BASE: env.STANDIN_URL }).fcm.send(message({ token: fcmToken() }));
    expect(result).toEqual({ kind: "retry", reason: "credentials_rejected", retryAfter: 60 });
    expect(logs.errors()).toContainEqual(expect.objectContaining({ event: "credentials", oauth_error: "invalid_grant" }));
  });

  it.each([
    { preset: "unregistered", expected: { kind: "invalid_token", reason: "UNREGISTERED" } },
    { preset: "sender_id_mismatch", expected: { kind: "misconfigured", reason: "SENDER_ID_MISMATCH" } },
    { preset: "invalid_token_argument", expected: { kind: "invalid_token", reason: "INVALID_ARGUMENT" } },
    { preset: "invalid_argument", expected: { kind: "failed", reason: "INVALID_ARGUMENT", detail: "Request contains an invalid argument." } },
    { preset: "quota_exceeded", retryAfter: 30, expected: { kind: "retry", reason: "QUOTA_EXCEEDED", retryAfter: 30 } },
    { preset: "unavailable", expected: { kind: "retry", reason: "UNAVAILABLE" } },
    { preset: "internal", expected: { kind: "retry", reason: "INTERNAL" } },
    { preset: "third_party_auth_error", expected: { kind: "misconfigured", reason: "THIRD_PARTY_AUTH_ERROR" } },
  ] as const)("classifies the stand-in's $preset", async ({ preset, expected, ...rest }) => {
    const account = await freshServiceAccount();
    const token = fcmToken();
    await script(token, [{ preset, ...("retryAfter" in rest ? { retryAfter: rest.retryAfter } : {}) }]);
    expect(await isolate(account.config).fcm.send(message({ token }))).toStrictEqual(expected);
  });

  it("keeps an oversized notification within FCM's payload limit", async () => {
    const account = await freshServiceAccount();
    const token = fcmToken();
    const big = message({ token, body: "📚 ".repeat(3000) });
    expect(await isolate(account.config).fcm.send(big)).toMatchObject({ kind: "sent" });
    const [push] = await waitForPushes({ token }, 1);
    expect(push!.body!.endsWith("…")).toBe(true);
    expect(push!.path).toBe(big.path);
  });
});

describe("APNs against the stand-ins", () => {
  it("sends with a verified provider token, topic and headers", async () => {
    const key = await freshApnsKey();
    const token = apnsToken();
    const sent = message({ token });
    expect(await isolate(key.config).apns.send(sent)).toMatchObject({ kind: "sent", id: expect.any(String) });
    const [push] = await waitForPushes({ token }, 1);
    expect(push).toMatchObject({ title: sent.title, body: sent.body, path: sent.path, url: sent.url, event_id: sent.event_id });
    expect(push!.headers).toMatchObject({ "apns-topic": key.topic, "apns-push-type": "alert", "apns-priority": "10" });
    expect(await stats({ key_id: key.keyId })).toMatchObject({ apns_jwts: 1, apns_pushes: 1 });
  });

  it("uses one provider token across isolates that start at once (no TooManyProviderTokenUpdates)", async () => {
    const key = await freshApnsKey();
    const results = await Promise.all(
      [isolate(key.config), isolate(key.config), isolate(key.config)].map((p) => p.apns.send(message({ token: apnsToken() }))),
    );
    expect(results.map((r) => r.kind)).toEqual(["sent", "sent", "sent"]);
    expect(await stats({ key_id: key.keyId })).toMatchObject({ apns_jwts: 1, apns_pushes: 3 });
  });

  it("signs a new token once when Apple says ExpiredProviderToken", async () => {
    const key = await freshApnsKey();
    const token = apnsToken();
    await script(token, [{ preset: "apns_expired_provider_token" }]);
    expect(await isolate(key.config).apns.send(message({ token }))).toMatchObject({ kind: "sent" });
    expect((await requests(token)).map((r) => r.status)).toEqual([403, 200]);
    expect((await stats({ key_id: key.keyId })).apns_jwts).toBe(2);
  });

  it("is a setting to fix (misconfigured InvalidProviderToken) when the key is not the one Apple knows", async () => {
    const key = await freshApnsKey();
    const impostor = await apnsKey();
    const token = apnsToken();
    const result = await isolate({ ...key.config, APNS_KEY: impostor.pem }).apns.send(message({ token }));
    expect(result).toEqual({ kind: "misconfigured", reason: "InvalidProviderToken" });
    expect((await requests(token)).map((r) => [r.status, r.reason])).toEqual([
      [403, "InvalidProviderToken"],
      [403, "InvalidProviderToken"],
    ]);
  });

  it("tries the other environment once on BadDeviceToken and reports it", async () => {
    const key = await freshApnsKey();
    const token = apnsToken();
    await script(token, [{ preset: "apns_bad_device_token" }]);
    const result = await isolate(key.config).apns.send(message({ token, environment: "production" }));
    expect(result).toMatchObject({ kind: "sent", environment: "sandbox" });
    expect(await requests(token)).toHaveLength(2);
  });

  it("gives the token up when both environments say BadDeviceToken", async () => {
    const key = await freshApnsKey();
    const token = apnsToken();
    await script(token, [{ preset: "apns_bad_device_token" }, { preset: "apns_bad_device_token" }]);
    expect(await isolate(key.config).apns.send(message({ token }))).toEqual({ kind: "invalid_token", reason: "BadDeviceToken" });
    expect(await requests(token)).toHaveLength(2);
  });

  it.each([
    { preset: "apns_unregistered", expected: { kind: "invalid_token", reason: "Unregistered", since: expect.any(Number) } },
    { preset: "apns_device_token_not_for_topic", expected: { kind: "misconfigured", reason: "DeviceTokenNotForTopic" } },
    { preset: "apns_too_many_requests", retryAfter: 5, expected: { kind: "retry", reason: "TooManyRequests", retryAfter: 5 } },
    { preset: "apns_service_unavailable", expected: { kind: "retry", reason: "ServiceUnavailable" } },
    { preset: "apns_internal_server_error", expected: { kind: "retry", reason: "InternalServerError" } },
    { preset: "apns_payload_too_large", expected: { kind: "failed", reason: "PayloadTooLarge" } },
  ] as const)("classifies the stand-in's $preset", async ({ preset, expected, ...rest }) => {
    const key = await freshApnsKey();
    const token = apnsToken();
    await script(token, [{ preset, ...("retryAfter" in rest ? { retryAfter: rest.retryAfter } : {}) }]);
    expect(await isolate(key.config).apns.send(message({ token }))).toStrictEqual(expected);
  });

  it("is misconfigured (TopicDisallowed) when the topic is not the key's app", async () => {
    const key = await freshApnsKey();
    const result = await isolate({ ...key.config, APNS_TOPIC: "com.example.other" }).apns.send(message({ token: apnsToken() }));
    expect(result).toEqual({ kind: "misconfigured", reason: "TopicDisallowed" });
  });
});
