import { decodeProtectedHeader, jwtVerify } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { createIsolateMemory } from "../../../src/push/credential-cache";
import { createProviders } from "../../../src/push/providers";
import { captureLogs } from "../../support/logs";
import { APNS_BASE, type ApnsKey, apnsKey, clock, json, MINUTE, pushMessage, type Recorded, scriptedFetch, settings } from "../../support/push";

let logs = captureLogs();
afterEach(() => {
  logs.stop();
  logs = captureLogs();
});

const accepted = () => new Response(null, { status: 200, headers: { "apns-id": "5E2B4B7C-0000-4000-8000-000000000001" } });
const refused = (status: number, reason: string) => json(status, { reason });
const jwtOf = (call: Recorded) => call.headers.authorization!.replace(/^bearer /, "");

/** An APNs provider over a fresh key and a scripted network, in a fresh isolate. */
async function setup(
  answer: (call: Recorded, n: number) => Response | Promise<Response> = accepted,
  overrides: Partial<Env> = {},
  key?: ApnsKey,
) {
  const k = key ?? (await apnsKey());
  const time = clock();
  const network = scriptedFetch(answer);
  const env = settings({ APNS_KEY: k.pem, APNS_KEY_ID: k.keyId, APNS_TEAM_ID: k.teamId, ...overrides });
  const make = () => createProviders(env, { fetch: network.fetch, now: time.now }, createIsolateMemory()).apns;
  return { key: k, time, calls: network.calls, provider: make(), anotherIsolate: make };
}

describe("APNs provider: requests", () => {
  it("posts the payload with a signed provider token and the APNs headers", async () => {
    const { key, time, calls, provider } = await setup();
    const message = pushMessage();
    expect(await provider.send(message)).toEqual({ kind: "sent", id: "5E2B4B7C-0000-4000-8000-000000000001" });
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call!.url).toBe(`${APNS_BASE}/3/device/${message.token}`);
    expect(call!.method).toBe("POST");
    const nowS = Math.floor(time.now() / 1000);
    expect(call!.headers).toMatchObject({
      "apns-topic": "ink.learn.app",
      "apns-push-type": "alert",
      "apns-priority": "10",
      "apns-expiration": String(nowS + 24 * 60 * 60),
      "apns-collapse-id": "msg_2abc:3",
    });
    expect(call!.headers.authorization).toMatch(/^bearer /);
    const jwt = jwtOf(call!);
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: "ES256", kid: key.keyId });
    const { payload } = await jwtVerify(jwt, key.publicKey, { currentDate: new Date(time.now()) });
    expect(payload).toEqual({ iss: key.teamId, iat: nowS });
    expect(JSON.parse(call!.body)).toEqual({
      aps: { alert: { title: message.title, body: message.body }, sound: "default" },
      path: message.path,
      url: message.url,
      event_id: message.event_id,
      index: message.index,
    });
  });

  it.each([
    { environment: "production", host: "https://api.push.apple.com" },
    { environment: "sandbox", host: "https://api.sandbox.push.apple.com" },
  ] as const)("sends a $environment device to $host when APNS_API_BASE is empty", async ({ environment, host }) => {
    const { calls, provider } = await setup(accepted, { APNS_API_BASE: "" });
    await provider.send(pushMessage({ environment }));
    expect(calls[0]!.url).toBe(`${host}/3/device/${"a".repeat(64)}`);
  });
});

describe("APNs provider: provider token lifetime", () => {
  it("reuses the token for less than 50 minutes and signs a new one after", async () => {
    const { time, calls, provider } = await setup();
    await provider.send(pushMessage());
    time.advance(49 * MINUTE + 59_000);
    await provider.send(pushMessage());
    time.advance(1_000);
    await provider.send(pushMessage());
    const [first, second, third] = calls.map(jwtOf);
    expect(second).toBe(first);
    expect(third).not.toBe(first);
  });

  it("shares the token with another isolate through D1", async () => {
    const { time, calls, provider, anotherIsolate } = await setup();
    await provider.send(pushMessage());
    time.advance(30 * MINUTE);
    await anotherIsolate().send(pushMessage());
    expect(jwtOf(calls[1]!)).toBe(jwtOf(calls[0]!));
  });

  it("leaves isolates that signed at once using one token (two tokens within 20 minutes draw 429)", async () => {
    const { calls, provider, anotherIsolate } = await setup();
    const isolates = [provider, anotherIsolate(), anotherIsolate()];
    await Promise.all(isolates.map((p) => p.send(pushMessage())));
    expect(new Set(calls.map(jwtOf)).size).toBe(1);
  });

  it("on TooManyProviderTokenUpdates retries later and keeps the same token", async () => {
    const { calls, provider } = await setup((_, n) => (n === 1 ? refused(429, "TooManyProviderTokenUpdates") : accepted()));
    expect(await provider.send(pushMessage())).toEqual({ kind: "retry", reason: "TooManyProviderTokenUpdates" });
    await provider.send(pushMessage());
    expect(calls).toHaveLength(2);
    expect(jwtOf(calls[1]!)).toBe(jwtOf(calls[0]!));
  });
});

describe("APNs provider: refused tokens", () => {
  it.each(["ExpiredProviderToken", "InvalidProviderToken"])("on 403 %s signs a new token once and sends again", async (reason) => {
    const { calls, provider } = await setup((_, n) => (n === 1 ? refused(403, reason) : accepted()));
    expect(await provider.send(pushMessage())).toMatchObject({ kind: "sent" });
    expect(calls).toHaveLength(2);
    expect(jwtOf(calls[1]!)).not.toBe(jwtOf(calls[0]!));
  });

  it("is a setting to fix (misconfigured, the alert) when the new token is refused too, logging an error without the token", async () => {
    const { calls, provider } = await setup(() => refused(403, "InvalidProviderToken"));
    expect(await provider.send(pushMessage())).toEqual({ kind: "misconfigured", reason: "InvalidProviderToken" });
    expect(calls).toHaveLength(2);
    // Held for a minute: the next push does not sign again nor reach Apple.
    expect(await provider.send(pushMessage())).toEqual({ kind: "retry", reason: "credentials_rejected", retryAfter: 60 });
    expect(calls).toHaveLength(2);
    expect(logs.errors()).toContainEqual(
      expect.objectContaining({ event: "credentials", provider: "apns", reason: "credentials_rejected", apns_reason: "InvalidProviderToken" }),
    );
    for (const line of logs.raw) for (const call of calls) expect(line).not.toContain(jwtOf(call).split(".")[2]);
  });

  it("a renewed token replaces the shared one for other isolates", async () => {
    const { calls, provider, anotherIsolate } = await setup((_, n) => (n === 1 ? refused(403, "ExpiredProviderToken") : accepted()));
    await provider.send(pushMessage());
    await anotherIsolate().send(pushMessage());
    expect(jwtOf(calls[2]!)).toBe(jwtOf(calls[1]!));
  });
});

describe("APNs provider: BadDeviceToken and the other environment", () => {
  it("tries the other environment's host once and reports where the token belongs", async () => {
    const { calls, provider } = await setup(
      (call) => (call.url.startsWith("https://api.push.apple.com") ? refused(400, "BadDeviceToken") : accepted()),
      { APNS_API_BASE: "" },
    );
    expect(await provider.send(pushMessage({ environment: "production" }))).toEqual({
      kind: "sent",
      id: "5E2B4B7C-0000-4000-8000-000000000001",
      environment: "sandbox",
    });
    expect(calls.map((c) => new URL(c.url).host)).toEqual(["api.push.apple.com", "api.sandbox.push.apple.com"]);
  });

  it("with APNS_API_BASE set, tries the same base again", async () => {
    const { calls, provider } = await setup((_, n) => (n === 1 ? refused(400, "BadDeviceToken") : accepted()));
    expect(await provider.send(pushMessage({ environment: "sandbox" }))).toMatchObject({ kind: "sent", environment: "production" });
    expect(calls.map((c) => c.url)).toEqual([`${APNS_BASE}/3/device/${"a".repeat(64)}`, `${APNS_BASE}/3/device/${"a".repeat(64)}`]);
  });

  it("gives the token up when both environments refuse it", async () => {
    const { calls, provider } = await setup(() => refused(400, "BadDeviceToken"));
    expect(await provider.send(pushMessage())).toEqual({ kind: "invalid_token", reason: "BadDeviceToken" });
    expect(calls).toHaveLength(2);
  });

  it("passes on what the other host says when it is not BadDeviceToken", async () => {
    const { provider } = await setup((_, n) => (n === 1 ? refused(400, "BadDeviceToken") : refused(410, "Unregistered")));
    expect(await provider.send(pushMessage())).toEqual({ kind: "invalid_token", reason: "Unregistered" });
  });
});

describe("APNs provider: the network", () => {
  it("retries with reason timeout", async () => {
    const network = scriptedFetch(() => new Promise<Response>(() => {}));
    const key = await apnsKey();
    const env = settings({ APNS_KEY: key.pem, APNS_KEY_ID: key.keyId, APNS_TEAM_ID: key.teamId });
    const provider = createProviders(env, { fetch: network.fetch, timeoutMs: 30 }, createIsolateMemory()).apns;
    expect(await provider.send(pushMessage())).toEqual({ kind: "retry", reason: "timeout" });
  });

  it("retries with reason network_error", async () => {
    const { provider } = await setup(() => Promise.reject(new TypeError("fetch failed")));
    expect(await provider.send(pushMessage())).toEqual({ kind: "retry", reason: "network_error" });
  });

  it("retries 503 honouring Retry-After", async () => {
    const { provider } = await setup(() => json(503, { reason: "ServiceUnavailable" }, { "retry-after": "20" }));
    expect(await provider.send(pushMessage())).toEqual({ kind: "retry", reason: "ServiceUnavailable", retryAfter: 20 });
  });
});
