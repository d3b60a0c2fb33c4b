/**
 * The Expo provider against the stand-in, which checks the request as Expo
 * does: a list of up to 100 messages, Expo push tokens, field types, the
 * access token when there is one (or required), and the 4 KiB payload in
 * the receipt.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createIsolateMemory } from "../../../src/push/credential-cache";
import { fetchReceipts } from "../../../src/push/expo/receipts";
import type { PushMessage } from "../../../src/push/provider";
import { createProviders } from "../../../src/push/providers";
import { expoToken, uniqueId } from "../../support/ids";
import { pushMessage } from "../../support/push";
import { freshExpoAccessToken, pushes, script, standins, stats } from "../../support/standins";

const message = (overrides: Partial<PushMessage> = {}) => pushMessage({ token: expoToken(), event_id: uniqueId("msg"), ...overrides });
const providersFor = (config: Partial<Env> & Record<string, string>) => createProviders({ ...env, ...config }, {}, createIsolateMemory());
const deps = { fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init), now: Date.now, timeoutMs: 10_000 };

describe("Expo provider", () => {
  it("sends a list in one request with the access token, and Expo gets the message the app reads", async () => {
    const { accessToken, config } = await freshExpoAccessToken();
    const messages = [message(), message(), message({ title: "Another", path: "/courses/2", url: "https://m.learn.ink/acme/courses/2?webview=true" })];
    const results = await providersFor(config).expo.sendBatch!(messages);
    expect(results).toEqual(messages.map(() => ({ kind: "sent", id: expect.stringMatching(/^[0-9a-f-]{36}$/) })));
    expect(await stats({ access_token: accessToken })).toMatchObject({ expo_requests: 1, expo_pushes: 3 });
    const [push] = await pushes({ token: messages[2]!.token });
    expect(push!.payload).toEqual({
      to: messages[2]!.token,
      title: "Another",
      body: messages[2]!.body,
      data: { path: "/courses/2", url: "https://m.learn.ink/acme/courses/2?webview=true", event_id: messages[2]!.event_id, index: messages[2]!.index },
      sound: "default",
      ttl: 86_400,
      priority: "high",
    });
    expect(push!.provider_id).toBe((results[2] as { id: string }).id);
  });

  it("sends without an access token when none is set, and splits more than 100 messages", async () => {
    const messages = Array.from({ length: 130 }, () => message());
    const results = await providersFor({ EXPO_API_BASE: env.STANDIN_URL, EXPO_ACCESS_TOKEN: "" }).expo.sendBatch!(messages);
    expect(results.filter((r) => r.kind === "sent")).toHaveLength(130);
    const requests = new Set((await Promise.all(messages.map(async (m) => (await pushes({ token: m.token }))[0]!.request_id))));
    expect(requests.size).toBe(2);
  });

  it("fits a long text within the payload Expo forwards, so its receipt is ok, not MessageTooBig", async () => {
    const { config } = await freshExpoAccessToken();
    const sent = await providersFor(config).expo.send(message({ body: "長".repeat(3_000) }));
    expect(sent.kind).toBe("sent");
    const answer = await fetchReceipts(config, [(sent as { id: string }).id], deps);
    expect(answer).toEqual({ kind: "receipts", receipts: { [(sent as { id: string }).id]: { status: "ok" } } });
  });

  it("maps each ticket to its message: a dead token, a throttled device, bad credentials", async () => {
    const { config } = await freshExpoAccessToken();
    const messages = [message(), message(), message(), message()];
    await script(messages[0]!.token, [{ preset: "expo_device_not_registered" }]);
    await script(messages[1]!.token, [{ preset: "expo_message_rate_exceeded" }]);
    await script(messages[2]!.token, [{ preset: "expo_invalid_credentials" }]);
    expect(await providersFor(config).expo.sendBatch!(messages)).toMatchObject([
      { kind: "invalid_token", reason: "DeviceNotRegistered" },
      { kind: "retry", reason: "MessageRateExceeded" },
      { kind: "misconfigured", reason: "InvalidCredentials" },
      { kind: "sent", id: expect.any(String) },
    ]);
  });

  it("splits a request Expo refuses as mixing projects (PUSH_TOO_MANY_EXPERIENCE_IDS) by the projects its details list, and sends each once", async () => {
    const { accessToken, config } = await freshExpoAccessToken();
    const messages = [message(), message(), message()];
    const details = { "@acme/app-a": [messages[0]!.token, messages[2]!.token], "@acme/app-b": [messages[1]!.token] };
    await script(messages[0]!.token, [
      { status: 400, body: { errors: [{ code: "PUSH_TOO_MANY_EXPERIENCE_IDS", message: "All push notification messages in the same request must be for the same project", details }] } },
    ]);
    expect(await providersFor(config).expo.sendBatch!(messages)).toEqual(messages.map(() => ({ kind: "sent", id: expect.any(String) })));
    expect(await stats({ access_token: accessToken })).toMatchObject({ expo_requests: 2, expo_pushes: 3 });
  });

  it("never resends blind after a lost answer: Expo may have pushed them, and has no collapse key", async () => {
    const { config } = await freshExpoAccessToken();
    const messages = [message(), message()];
    await script(messages[0]!.token, [{ status: 200, delayMs: 1_500 }]);
    const providers = createProviders({ ...env, ...config }, { timeoutMs: 300 }, createIsolateMemory());
    expect(await providers.expo.sendBatch!(messages)).toEqual(messages.map(() => ({ kind: "failed", reason: "answer_lost", detail: "no answer within the timeout" })));
    // The stand-in took them (as Expo may have): a resend would have shown each twice.
    expect(await pushes({ token: messages[1]!.token })).toHaveLength(1);
  });

  it("retries every message of a throttled request after Retry-After; a refused access token is a misconfiguration", async () => {
    const { config } = await freshExpoAccessToken();
    const throttled = [message(), message()];
    await script(throttled[1]!.token, [{ preset: "expo_too_many_requests", retryAfter: 20 }]);
    expect(await providersFor(config).expo.sendBatch!(throttled)).toEqual(
      throttled.map(() => ({ kind: "retry", reason: "TOO_MANY_REQUESTS", retryAfter: 20 })),
    );

    const prefix = `ExponentPushToken[secured-${uniqueId("p")}`;
    await standins.expoSecurity({ token_prefix: prefix, required: true });
    const secured = message({ token: `${prefix}-1]` });
    expect(await providersFor({ EXPO_API_BASE: env.STANDIN_URL, EXPO_ACCESS_TOKEN: "" }).expo.send(secured)).toEqual({
      kind: "misconfigured",
      reason: "EXPO_ACCESS_TOKEN",
    });
    expect(await providersFor(config).expo.send(secured)).toMatchObject({ kind: "sent" });
  });

  it("reads receipts, up to 1,000 ids at a time, and leaves out the ids Expo has none for", async () => {
    const { config } = await freshExpoAccessToken();
    const messages = [message(), message()];
    await script(messages[1]!.token, [{ preset: "expo_receipt_device_not_registered" }]);
    const ids = (await providersFor(config).expo.sendBatch!(messages)).map((r) => (r as { id: string }).id);
    const unknown = crypto.randomUUID();
    const answer = await fetchReceipts(config, [...ids, unknown], deps);
    expect(answer).toEqual({
      kind: "receipts",
      receipts: { [ids[0]!]: { status: "ok" }, [ids[1]!]: expect.objectContaining({ status: "error", details: { error: "DeviceNotRegistered" } }) },
    });
  });
});
