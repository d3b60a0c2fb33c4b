import { decodeProtectedHeader, jwtVerify } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { createIsolateMemory, REFUSED_HOLD_MS } from "../../../src/push/credential-cache";
import type { ProviderDeps } from "../../../src/push/provider";
import { createProviders } from "../../../src/push/providers";
import { captureLogs } from "../../support/logs";
import {
  clock,
  FCM_BASE,
  json,
  MINUTE,
  pushMessage,
  type Recorded,
  type ServiceAccount,
  scriptedFetch,
  serviceAccount,
  settings,
  TOKEN_URI,
} from "../../support/push";

let logs = captureLogs();
afterEach(() => {
  logs.stop();
  logs = captureLogs();
});

const isToken = (call: Recorded) => call.url === TOKEN_URI;
const pushes = (calls: Recorded[]) => calls.filter((c) => !isToken(c));
const tokenCalls = (calls: Recorded[]) => calls.filter(isToken);

let minted = 0;
/** A token endpoint answer with a new access token. */
const accessToken = (expiresIn = 3599) => json(200, { access_token: `ya29.test-${++minted}`, expires_in: expiresIn, token_type: "Bearer" });
const sent = () => json(200, { name: "projects/acme-test/messages/0:1" });
const fcmError = (code: number, status: string, errorCode?: string) =>
  json(code, {
    error: {
      code,
      status,
      message: "refused",
      details: errorCode ? [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode }] : [],
    },
  });

/** An FCM provider over a fresh service account and a scripted network, in a fresh isolate. */
async function setup(
  answer: (call: Recorded, n: number) => Response | Promise<Response> = (call) => (isToken(call) ? accessToken() : sent()),
  deps: Partial<ProviderDeps> = {},
  account?: ServiceAccount,
) {
  const sa = account ?? (await serviceAccount());
  const time = clock();
  const network = scriptedFetch(answer);
  const env = settings({ FCM_SERVICE_ACCOUNT: sa.json });
  const make = () => createProviders(env, { fetch: network.fetch, now: time.now, ...deps }, createIsolateMemory()).fcm;
  return { sa, time, calls: network.calls, provider: make(), anotherIsolate: make };
}

describe("FCM provider: requests", () => {
  it("exchanges a signed assertion for an access token, as a form", async () => {
    const { sa, time, calls, provider } = await setup();
    await provider.send(pushMessage());
    const [call] = tokenCalls(calls);
    expect(call).toMatchObject({ url: TOKEN_URI, method: "POST" });
    expect(call!.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    const form = new URLSearchParams(call!.body);
    expect([...form.keys()].sort()).toEqual(["assertion", "grant_type"]);
    expect(form.get("grant_type")).toBe("urn:ietf:params:oauth:grant-type:jwt-bearer");
    const assertion = form.get("assertion")!;
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: "RS256", typ: "JWT", kid: sa.privateKeyId });
    const { payload } = await jwtVerify(assertion, sa.publicKey, { currentDate: new Date(time.now()) });
    const iat = Math.floor(time.now() / 1000);
    expect(payload).toEqual({
      iss: sa.clientEmail,
      scope: "https://www.googleapis.com/auth/firebase.messaging",
      aud: TOKEN_URI,
      iat,
      exp: iat + 3600,
    });
  });

  it("leaves kid out when the service account has no private_key_id", async () => {
    const { calls, provider } = await setup(undefined, {}, await serviceAccount({ private_key_id: undefined }));
    await provider.send(pushMessage());
    const assertion = new URLSearchParams(tokenCalls(calls)[0]!.body).get("assertion")!;
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: "RS256", typ: "JWT" });
  });

  it("posts the message with the access token", async () => {
    const { calls, provider, time } = await setup();
    const message = pushMessage();
    expect(await provider.send(message)).toEqual({ kind: "sent", id: "projects/acme-test/messages/0:1" });
    const [push] = pushes(calls);
    expect(push!.url).toBe(`${FCM_BASE}/v1/projects/acme-test/messages:send`);
    expect(push!.method).toBe("POST");
    expect(push!.headers.authorization).toBe(`Bearer ya29.test-${minted}`);
    expect(push!.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(push!.body)).toEqual({
      message: {
        token: message.token,
        notification: { title: message.title, body: message.body },
        data: { path: message.path, url: message.url, event_id: message.event_id, index: String(message.index) },
        android: { priority: "HIGH", ttl: "86400s", notification: { tag: "msg_2abc:3" } },
        apns: {
          headers: {
            "apns-collapse-id": "msg_2abc:3",
            "apns-push-type": "alert",
            "apns-priority": "10",
            "apns-expiration": String(Math.floor(time.now() / 1000) + 86_400),
          },
          payload: { aps: { sound: "default" } },
        },
      },
    });
  });

  it("uses https://fcm.googleapis.com and Google's token endpoint by default", async () => {
    const sa = await serviceAccount({ token_uri: undefined });
    const network = scriptedFetch((call) => (call.url.includes("oauth2") ? accessToken() : sent()));
    const env = settings({ FCM_SERVICE_ACCOUNT: sa.json, FCM_API_BASE: "" });
    await createProviders(env, { fetch: network.fetch }, createIsolateMemory()).fcm.send(pushMessage());
    expect(network.calls.map((c) => c.url)).toEqual([
      "https://oauth2.googleapis.com/token",
      "https://fcm.googleapis.com/v1/projects/acme-test/messages:send",
    ]);
  });
});

describe("FCM provider: access token lifetime", () => {
  it("reuses the access token until 5 minutes before it expires, then fetches a new one", async () => {
    const { time, calls, provider } = await setup((call) => (isToken(call) ? accessToken(3600) : sent()));
    await provider.send(pushMessage());
    time.advance(54 * MINUTE);
    await provider.send(pushMessage());
    expect(tokenCalls(calls)).toHaveLength(1);
    time.advance(MINUTE);
    await provider.send(pushMessage());
    expect(tokenCalls(calls)).toHaveLength(2);
    const [first, second, third] = pushes(calls).map((c) => c.headers.authorization);
    expect(second).toBe(first);
    expect(third).not.toBe(first);
  });

  it("shares one mint among concurrent sends", async () => {
    const { calls, provider } = await setup();
    await Promise.all(Array.from({ length: 6 }, () => provider.send(pushMessage())));
    expect(tokenCalls(calls)).toHaveLength(1);
    expect(pushes(calls)).toHaveLength(6);
  });

  it("shares the token with another isolate through D1", async () => {
    const { calls, provider, anotherIsolate } = await setup();
    await provider.send(pushMessage());
    await anotherIsolate().send(pushMessage());
    expect(tokenCalls(calls)).toHaveLength(1);
    const [a, b] = pushes(calls).map((c) => c.headers.authorization);
    expect(b).toBe(a);
  });

  it("leaves two isolates that minted at once using the same token", async () => {
    let release!: () => void;
    const both = new Promise<void>((resolve) => (release = resolve));
    let asked = 0;
    const { calls, provider, anotherIsolate } = await setup(async (call) => {
      if (!isToken(call)) return sent();
      if (++asked === 2) release();
      await both;
      return accessToken();
    });
    await Promise.all([provider.send(pushMessage()), anotherIsolate().send(pushMessage())]);
    expect(tokenCalls(calls)).toHaveLength(2);
    const [a, b] = pushes(calls).map((c) => c.headers.authorization);
    expect(b).toBe(a);
  });
});

describe("FCM provider: refused credentials", () => {
  it("on 401 fetches a new access token once and sends again", async () => {
    const { calls, provider } = await setup((call, n) => (isToken(call) ? accessToken() : n === 2 ? fcmError(401, "UNAUTHENTICATED") : sent()));
    expect(await provider.send(pushMessage())).toMatchObject({ kind: "sent" });
    expect(calls.map((c) => (isToken(c) ? "token" : "push"))).toEqual(["token", "push", "token", "push"]);
    const [first, second] = pushes(calls).map((c) => c.headers.authorization);
    expect(second).not.toBe(first);
  });

  it("retries credentials_rejected after a minute once a refresh was refused too, logging an error without secrets", async () => {
    const { sa, calls, provider } = await setup((call) => (isToken(call) ? accessToken() : fcmError(401, "UNAUTHENTICATED")));
    expect(await provider.send(pushMessage())).toEqual({ kind: "retry", reason: "credentials_rejected", retryAfter: REFUSED_HOLD_MS / 1000 });
    expect(calls.map((c) => (isToken(c) ? "token" : "push"))).toEqual(["token", "push", "token", "push"]);
    expect(logs.errors()).toContainEqual(expect.objectContaining({ event: "credentials", provider: "fcm", reason: "credentials_rejected" }));
    const secrets = [JSON.parse(sa.json).private_key.split("\n")[1], ...pushes(calls).map((c) => c.headers.authorization!.slice(7))];
    for (const line of logs.raw) for (const secret of secrets) expect(line).not.toContain(secret);
  });

  it("after a rejection, puts sends off at once without network for the rest of the minute, then tries again", async () => {
    const { calls, provider, time } = await setup((call) => (isToken(call) ? accessToken() : fcmError(401, "UNAUTHENTICATED")));
    expect(await provider.send(pushMessage())).toEqual({ kind: "retry", reason: "credentials_rejected", retryAfter: 60 });
    expect(calls).toHaveLength(4);
    time.advance(20_000);
    expect(await provider.send(pushMessage())).toEqual({ kind: "retry", reason: "credentials_rejected", retryAfter: 40 });
    expect(calls).toHaveLength(4);
    time.advance(REFUSED_HOLD_MS);
    await provider.send(pushMessage());
    expect(pushes(calls).length).toBeGreaterThan(2);
  });

  it("is misconfigured on THIRD_PARTY_AUTH_ERROR at once, without a refresh (the APNs key in Firebase is wrong)", async () => {
    const { calls, provider } = await setup((call) => (isToken(call) ? accessToken() : fcmError(401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR")));
    expect(await provider.send(pushMessage())).toEqual({ kind: "misconfigured", reason: "THIRD_PARTY_AUTH_ERROR" });
    expect(calls).toHaveLength(2);
    // The alert's line is the consumer's, once per batch (misconfiguration.test.ts), not one per push here.
    expect(logs.errors()).toEqual([]);
  });

  it("retries credentials_rejected without sending when the token endpoint refuses the assertion, and holds the refusal", async () => {
    const { calls, provider } = await setup(() => json(400, { error: "invalid_grant", error_description: "Invalid JWT Signature." }));
    expect(await provider.send(pushMessage())).toEqual({ kind: "retry", reason: "credentials_rejected", retryAfter: 60 });
    expect(calls).toHaveLength(1);
    expect(logs.errors()).toContainEqual(
      expect.objectContaining({ event: "credentials", reason: "credentials_rejected", oauth_error: "invalid_grant" }),
    );
    // The rest of the batch does not ask the token endpoint again.
    expect(await provider.send(pushMessage())).toEqual({ kind: "retry", reason: "credentials_rejected", retryAfter: 60 });
    expect(calls).toHaveLength(1);
  });

  it("retries later when the token endpoint is down, honouring Retry-After", async () => {
    const { provider } = await setup(() => json(503, { error: "unavailable" }, { "retry-after": "7" }));
    expect(await provider.send(pushMessage())).toEqual({ kind: "retry", reason: "oauth_unavailable", retryAfter: 7 });
  });
});

describe("FCM provider: the network", () => {
  it("retries with reason timeout when FCM does not answer in time", async () => {
    const { provider } = await setup((call) => (isToken(call) ? accessToken() : new Promise<Response>(() => {})), { timeoutMs: 30 });
    expect(await provider.send(pushMessage())).toEqual({ kind: "retry", reason: "timeout" });
  });

  it("retries with reason network_error when the connection fails", async () => {
    const { provider } = await setup((call) => (isToken(call) ? accessToken() : Promise.reject(new TypeError("Network connection lost."))));
    expect(await provider.send(pushMessage())).toEqual({ kind: "retry", reason: "network_error" });
  });

  it("retries when the token endpoint times out", async () => {
    const { provider } = await setup(() => new Promise<Response>(() => {}), { timeoutMs: 30 });
    expect(await provider.send(pushMessage())).toEqual({ kind: "retry", reason: "timeout" });
  });
});
