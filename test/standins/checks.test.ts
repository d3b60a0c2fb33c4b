/**
 * The stand-ins are only worth testing against if they refuse what Google
 * and Apple refuse. These tests talk to them from inside workerd, as the
 * relay does, with credentials generated here: forged or stale OAuth
 * assertions, bad access tokens, malformed FCM messages, APNs provider
 * tokens that are foreign, stale or rotated too often; and they check that
 * scripts, faults and the records behave as the other tests rely on.
 */
import { env } from "cloudflare:workers";
import { generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { apnsToken, fcmToken, uniqueId } from "../support/ids";
import {
  failRate,
  type FreshApnsKey,
  freshApnsKey,
  type FreshServiceAccount,
  freshServiceAccount,
  pushes,
  requests,
  script,
  stats,
  waitForPushes,
} from "../support/standins";

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";

const nowSeconds = () => Math.floor(Date.now() / 1000);

// ---- OAuth ---------------------------------------------------------------

interface AssertionOptions {
  claims?: Record<string, unknown>;
  kid?: string;
  key?: CryptoKey;
  aud?: string;
  iat?: number;
  exp?: number;
}

function assertion(account: FreshServiceAccount, options: AssertionOptions = {}): Promise<string> {
  const iat = options.iat ?? nowSeconds();
  return new SignJWT({ scope: FCM_SCOPE, ...options.claims })
    .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: options.kid ?? account.privateKeyId })
    .setIssuer(account.clientEmail)
    .setAudience(options.aud ?? account.tokenUri)
    .setIssuedAt(iat)
    .setExpirationTime(options.exp ?? iat + 3600)
    .sign(options.key ?? account.privateKey);
}

function exchange(jwt: string, grantType = JWT_BEARER): Promise<Response> {
  return fetch(`${env.STANDIN_URL}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: grantType, assertion: jwt }).toString(),
  });
}

async function accessToken(account: FreshServiceAccount): Promise<string> {
  const response = await exchange(await assertion(account));
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function oauthError(response: Response): Promise<string> {
  expect(response.status).toBe(400);
  return ((await response.json()) as { error: string }).error;
}

describe("OAuth token stand-in", () => {
  it("exchanges a well-signed assertion for a bearer token and counts it", async () => {
    const account = await freshServiceAccount();
    const response = await exchange(await assertion(account));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ access_token: expect.any(String), expires_in: 3599, token_type: "Bearer" });
    expect((await stats({ client_email: account.clientEmail })).token_requests).toBe(1);
  });

  it("refuses an assertion signed with another key", async () => {
    const account = await freshServiceAccount();
    const { privateKey } = await generateKeyPair("RS256");
    expect(await oauthError(await exchange(await assertion(account, { key: privateKey })))).toBe("invalid_grant");
    expect((await stats({ client_email: account.clientEmail })).token_requests).toBe(0);
  });

  it("refuses an assertion for another audience", async () => {
    const account = await freshServiceAccount();
    const jwt = await assertion(account, { aud: "https://oauth2.googleapis.com/token" });
    expect(await oauthError(await exchange(jwt))).toBe("invalid_grant");
  });

  it("refuses an assertion that lives longer than an hour, is expired, or is issued in the future", async () => {
    const account = await freshServiceAccount();
    const now = nowSeconds();
    for (const times of [
      { iat: now, exp: now + 7200 },
      { iat: now - 4000, exp: now - 400 },
      { iat: now + 600, exp: now + 1200 },
    ]) {
      expect(await oauthError(await exchange(await assertion(account, times)))).toBe("invalid_grant");
    }
  });

  it("refuses a wrong key id, an unknown account, a missing scope and another grant type", async () => {
    const account = await freshServiceAccount();
    expect(await oauthError(await exchange(await assertion(account, { kid: "not-the-key-id" })))).toBe("invalid_grant");
    const stranger = { ...account, clientEmail: `nobody-${uniqueId("standin")}@example.iam.gserviceaccount.com` };
    expect(await oauthError(await exchange(await assertion(stranger)))).toBe("invalid_grant");
    expect(
      await oauthError(
        await exchange(await assertion(account, { claims: { scope: "https://www.googleapis.com/auth/userinfo.email" } })),
      ),
    ).toBe("invalid_scope");
    expect(await oauthError(await exchange(await assertion(account), "client_credentials"))).toBe("unsupported_grant_type");
  });
});

// ---- FCM -----------------------------------------------------------------

function fcmMessage(token: string, overrides: Record<string, unknown> = {}) {
  return {
    message: {
      token,
      notification: { title: "Time for your training", body: "Safety 101 is waiting" },
      data: {
        path: "/courses/safety-101",
        url: "https://m.learn.ink/acme/courses/safety-101?webview=true",
        event_id: `msg_${uniqueId("standin")}`,
      },
      ...overrides,
    },
  };
}

function fcmSend(projectId: string, bearer: string | undefined, body: unknown): Promise<Response> {
  return fetch(`${env.STANDIN_URL}/v1/projects/${projectId}/messages:send`, {
    method: "POST",
    headers:
      bearer === undefined
        ? { "content-type": "application/json" }
        : { "content-type": "application/json", authorization: `Bearer ${bearer}` },
    body: JSON.stringify(body),
  });
}

interface GoogleError {
  error: {
    code: number;
    status: string;
    details?: { "@type": string; errorCode?: string; fieldViolations?: { field?: string }[] }[];
  };
}

async function googleError(response: Response) {
  const { error } = (await response.json()) as GoogleError;
  const fcmDetail = error.details?.find((d) => d["@type"].endsWith("FcmError"));
  const badRequest = error.details?.find((d) => d["@type"].endsWith("google.rpc.BadRequest"));
  return {
    status: response.status,
    rpcStatus: error.status,
    errorCode: fcmDetail?.errorCode,
    fields: badRequest?.fieldViolations?.map((v) => v.field),
  };
}

describe("FCM stand-in", () => {
  it("accepts a push with a valid access token and records it", async () => {
    const account = await freshServiceAccount();
    const token = fcmToken();
    const body = fcmMessage(token);
    const response = await fcmSend(account.projectId, await accessToken(account), body);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { name: string }).name).toMatch(new RegExp(`^projects/${account.projectId}/messages/`));
    const [push] = await waitForPushes({ token }, 1);
    expect(push).toMatchObject({
      provider: "fcm",
      token,
      title: "Time for your training",
      body: "Safety 101 is waiting",
      path: "/courses/safety-101",
      url: "https://m.learn.ink/acme/courses/safety-101?webview=true",
      event_id: body.message.data.event_id,
      payload: body,
    });
    expect(push!.headers.authorization).toBeUndefined();
    expect(await stats({ client_email: account.clientEmail })).toMatchObject({ token_requests: 1, fcm_pushes: 1 });
  });

  it("answers validate_only without delivering", async () => {
    const account = await freshServiceAccount();
    const token = fcmToken();
    const response = await fcmSend(account.projectId, await accessToken(account), { ...fcmMessage(token), validate_only: true });
    expect([response.status, await response.json()]).toEqual([
      200,
      { name: `projects/${account.projectId}/messages/fake_message_id` },
    ]);
    expect(await pushes({ token })).toEqual([]);
  });

  it("answers 401 without a token, with an unknown one and with an expired one; 403 PERMISSION_DENIED with one for another project", async () => {
    const account = await freshServiceAccount();
    const other = await freshServiceAccount();
    const token = fcmToken();
    expect((await googleError(await fcmSend(account.projectId, undefined, fcmMessage(token)))).rpcStatus).toBe("UNAUTHENTICATED");
    expect(await googleError(await fcmSend(account.projectId, "ya29.made-up", fcmMessage(token)))).toMatchObject({
      status: 401,
      rpcStatus: "UNAUTHENTICATED",
    });
    expect(await googleError(await fcmSend(account.projectId, await accessToken(other), fcmMessage(token)))).toMatchObject({
      status: 403,
      rpcStatus: "PERMISSION_DENIED",
    });

    const shortLived = await freshServiceAccount({ tokenTtlSeconds: 0.2 });
    const expiring = await accessToken(shortLived);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await googleError(await fcmSend(shortLived.projectId, expiring, fcmMessage(token)))).toMatchObject({
      status: 401,
      rpcStatus: "UNAUTHENTICATED",
    });
    expect(await pushes({ token })).toEqual([]);
    expect((await requests(token)).map((r) => r.status)).toEqual([401, 401, 403, 401]);
  });

  it("refuses data that is not a map of strings, bad field types and unknown fields with INVALID_ARGUMENT", async () => {
    const account = await freshServiceAccount();
    const bearer = await accessToken(account);
    const token = fcmToken();
    const bad = [
      fcmMessage(token, { data: { path: "/courses/1", attempt: 2 } }),
      fcmMessage(token, { data: ["/courses/1"] }),
      fcmMessage(token, { notification: { title: 42, body: "x" } }),
      fcmMessage(token, { notifcation: { title: "typo" } }),
      fcmMessage(token, { android: { ttl: 3600 } }),
      { message: { notification: { title: "no token" } } },
    ];
    for (const body of bad) {
      expect(await googleError(await fcmSend(account.projectId, bearer, body)), JSON.stringify(body)).toMatchObject({
        status: 400,
        rpcStatus: "INVALID_ARGUMENT",
      });
    }
    expect(await pushes({ token })).toEqual([]);
  });

  it("refuses a payload over 4,096 bytes and a token that cannot be a registration token", async () => {
    const account = await freshServiceAccount();
    const bearer = await accessToken(account);
    const token = fcmToken();
    const oversized = await googleError(
      await fcmSend(account.projectId, bearer, fcmMessage(token, { notification: { title: "t", body: "é".repeat(2100) } })),
    );
    expect(oversized).toMatchObject({
      status: 400,
      rpcStatus: "INVALID_ARGUMENT",
      errorCode: "INVALID_ARGUMENT",
      fields: ["message"],
    });
    const notAToken = await googleError(await fcmSend(account.projectId, bearer, fcmMessage("not a token!")));
    expect(notAToken).toMatchObject({ status: 400, errorCode: "INVALID_ARGUMENT", fields: ["message.token"] });
  });
});

// ---- APNs ----------------------------------------------------------------

interface ProviderTokenOptions {
  iat?: number;
  kid?: string;
  iss?: string;
  key?: CryptoKey;
}

function providerToken(key: FreshApnsKey, options: ProviderTokenOptions = {}): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: options.kid ?? key.keyId })
    .setIssuer(options.iss ?? key.teamId)
    .setIssuedAt(options.iat ?? nowSeconds())
    .sign(options.key ?? key.privateKey);
}

interface ApnsRequest {
  topic?: string | null;
  pushType?: string;
  body?: string;
  headers?: Record<string, string>;
}

function apnsPayload(eventId = `msg_${uniqueId("standin")}`) {
  return {
    aps: { alert: { title: "Time for your training", body: "Safety 101 is waiting" }, sound: "default" },
    path: "/courses/safety-101",
    url: "https://m.learn.ink/acme/courses/safety-101?webview=true",
    event_id: eventId,
  };
}

function apnsPush(key: FreshApnsKey, deviceToken: string, jwt: string | undefined, request: ApnsRequest = {}): Promise<Response> {
  const headers: Record<string, string> = { "apns-push-type": request.pushType ?? "alert", ...request.headers };
  if (request.topic !== null) headers["apns-topic"] = request.topic ?? key.topic;
  if (jwt !== undefined) headers.authorization = `bearer ${jwt}`;
  return fetch(`${env.STANDIN_URL}/3/device/${deviceToken}`, {
    method: "POST",
    headers,
    body: request.body ?? JSON.stringify(apnsPayload()),
  });
}

async function apnsReason(response: Response): Promise<[number, string]> {
  return [response.status, ((await response.json()) as { reason: string }).reason];
}

describe("APNs stand-in", () => {
  it("accepts a push with a valid provider token, echoes apns-id and records it", async () => {
    const key = await freshApnsKey();
    const token = apnsToken();
    const payload = apnsPayload();
    const apnsId = crypto.randomUUID();
    const response = await apnsPush(key, token, await providerToken(key), {
      body: JSON.stringify(payload),
      headers: { "apns-id": apnsId },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("apns-id")).toBe(apnsId);
    expect(await response.text()).toBe("");
    const [push] = await waitForPushes({ token, provider: "apns" }, 1);
    expect(push).toMatchObject({
      provider: "apns",
      token,
      title: "Time for your training",
      body: "Safety 101 is waiting",
      path: "/courses/safety-101",
      url: payload.url,
      event_id: payload.event_id,
      payload,
      headers: { "apns-topic": key.topic, "apns-push-type": "alert", "apns-id": apnsId },
    });
    expect(push!.headers.authorization).toBeUndefined();
    expect(await stats({ key_id: key.keyId })).toMatchObject({ apns_jwts: 1, apns_pushes: 1 });
  });

  it("refuses provider tokens that are missing, foreign, stale or not from the key's team", async () => {
    const key = await freshApnsKey();
    const token = apnsToken();
    const { privateKey: stranger } = await generateKeyPair("ES256");
    expect(await apnsReason(await apnsPush(key, token, undefined))).toEqual([403, "MissingProviderToken"]);
    expect(await apnsReason(await apnsPush(key, token, await providerToken(key, { key: stranger })))).toEqual([
      403,
      "InvalidProviderToken",
    ]);
    expect(await apnsReason(await apnsPush(key, token, await providerToken(key, { kid: "UNKNOWNKID" })))).toEqual([
      403,
      "InvalidProviderToken",
    ]);
    expect(await apnsReason(await apnsPush(key, token, await providerToken(key, { iss: "OTHERTEAM1" })))).toEqual([
      403,
      "InvalidProviderToken",
    ]);
    expect(await apnsReason(await apnsPush(key, token, await providerToken(key, { iat: nowSeconds() - 3700 })))).toEqual([
      403,
      "ExpiredProviderToken",
    ]);
    expect(await pushes({ token })).toEqual([]);
  });

  it("refuses a missing or foreign topic, a bad push type, a non-hex or never-issued token and an oversized payload", async () => {
    const key = await freshApnsKey();
    const jwt = await providerToken(key);
    const token = apnsToken();
    expect(await apnsReason(await apnsPush(key, token, jwt, { topic: null }))).toEqual([400, "MissingTopic"]);
    expect(await apnsReason(await apnsPush(key, token, jwt, { topic: "com.example.other" }))).toEqual([400, "TopicDisallowed"]);
    expect(await apnsReason(await apnsPush(key, token, jwt, { pushType: "voip" }))).toEqual([400, "InvalidPushType"]);
    expect(await apnsReason(await apnsPush(key, "not-hex-at-all", jwt))).toEqual([400, "BadDeviceToken"]);
    expect(await apnsReason(await apnsPush(key, "0".repeat(64), jwt))).toEqual([400, "BadDeviceToken"]);
    expect(await apnsReason(await apnsPush(key, "0".repeat(64), jwt, { topic: "com.example.other" }))).toEqual([400, "TopicDisallowed"]);
    const oversized = JSON.stringify({ ...apnsPayload(), aps: { alert: { title: "t", body: "x".repeat(4100) } } });
    expect(await apnsReason(await apnsPush(key, token, jwt, { body: oversized }))).toEqual([413, "PayloadTooLarge"]);
    expect(await apnsReason(await apnsPush(key, token, jwt, { body: JSON.stringify({ path: "/no-aps" }) }))).toEqual([
      400,
      "BadPayload",
    ]);
    expect(await pushes({ token })).toEqual([]);
  });

  it("answers TooManyProviderTokenUpdates when a key's token changes twice within 20 minutes", async () => {
    const key = await freshApnsKey();
    const token = apnsToken();
    const [first, second, third] = await Promise.all([0, 1, 2].map((age) => providerToken(key, { iat: nowSeconds() - age })));
    expect((await apnsPush(key, token, first)).status).toBe(200);
    expect((await apnsPush(key, token, second)).status).toBe(200);
    expect(await apnsReason(await apnsPush(key, token, third))).toEqual([429, "TooManyProviderTokenUpdates"]);
    // Going back to an earlier token is a change too; the current one keeps working.
    expect(await apnsReason(await apnsPush(key, token, first))).toEqual([429, "TooManyProviderTokenUpdates"]);
    expect((await apnsPush(key, token, second)).status).toBe(200);
    expect(await stats({ key_id: key.keyId })).toMatchObject({ apns_jwts: 3, apns_pushes: 3 });
  });
});

// ---- Scripts, faults, records --------------------------------------------

describe("scripted answers", () => {
  it("answers an FCM token's scripted presets in order, credential presets included, then resumes", async () => {
    const account = await freshServiceAccount();
    const bearer = await accessToken(account);
    const token = fcmToken();
    await script(token, [
      { preset: "unavailable", retryAfter: 7 },
      { preset: "unauthenticated" },
      { preset: "unregistered" },
      { preset: "invalid_token_argument" },
      { preset: "sender_id_mismatch" },
    ]);
    const answers = [];
    for (let i = 0; i < 6; i++) {
      const response = await fcmSend(account.projectId, bearer, fcmMessage(token));
      if (i === 0) expect(response.headers.get("retry-after")).toBe("7");
      answers.push(response.status === 200 ? 200 : await googleError(response));
    }
    expect(answers).toEqual([
      { status: 503, rpcStatus: "UNAVAILABLE", errorCode: "UNAVAILABLE", fields: undefined },
      { status: 401, rpcStatus: "UNAUTHENTICATED", errorCode: undefined, fields: undefined },
      { status: 404, rpcStatus: "NOT_FOUND", errorCode: "UNREGISTERED", fields: undefined },
      { status: 400, rpcStatus: "INVALID_ARGUMENT", errorCode: "INVALID_ARGUMENT", fields: ["message.token"] },
      { status: 403, rpcStatus: "PERMISSION_DENIED", errorCode: "SENDER_ID_MISMATCH", fields: undefined },
      200,
    ]);
    expect((await requests(token)).map((r) => [r.status, r.answered_by])).toEqual([
      [503, "script"],
      [401, "script"],
      [404, "script"],
      [400, "script"],
      [403, "script"],
      [200, "checks"],
    ]);
    expect(await pushes({ token })).toHaveLength(1);
  });

  it("answers an APNs token's scripted presets and raw responses in order", async () => {
    const key = await freshApnsKey();
    const jwt = await providerToken(key);
    const token = apnsToken();
    await script(token, [
      { preset: "apns_unregistered" },
      { preset: "apns_expired_provider_token" },
      { preset: "apns_too_many_requests", retryAfter: 30 },
      { status: 502, body: "<html>bad gateway</html>", headers: { "Content-Type": "text/html" } },
      { status: 200, delayMs: 50 },
    ]);
    const gone = await apnsPush(key, token, jwt);
    expect(gone.status).toBe(410);
    expect(await gone.json()).toEqual({ reason: "Unregistered", timestamp: expect.any(Number) });
    expect(await apnsReason(await apnsPush(key, token, jwt))).toEqual([403, "ExpiredProviderToken"]);
    const throttled = await apnsPush(key, token, jwt);
    expect([throttled.status, throttled.headers.get("retry-after")]).toEqual([429, "30"]);
    await throttled.body?.cancel();
    const gateway = await apnsPush(key, token, jwt);
    expect([gateway.status, gateway.headers.get("content-type"), await gateway.text()]).toEqual([
      502,
      "text/html",
      "<html>bad gateway</html>",
    ]);
    expect((await apnsPush(key, token, jwt)).status).toBe(200);
    expect(await pushes({ token })).toHaveLength(1);
  });

  it("refuses a script with an unknown preset", async () => {
    const response = await fetch(`${env.STANDIN_URL}/__standin/script`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: fcmToken(), responses: [{ preset: "teapot" }] }),
    });
    expect(response.status).toBe(400);
    await response.body?.cancel();
  });
});

describe("fault injection", () => {
  it("fails every push under a token prefix with the chosen modes, and stops when the rate is 0", async () => {
    const account = await freshServiceAccount();
    const bearer = await accessToken(account);
    const prefix = `faulty-${uniqueId("standin")}`;
    const token = `${prefix}:${"y".repeat(40)}`;
    await failRate({ rate: 1, modes: ["429"], token_prefix: prefix, seed: 7 });
    expect(await googleError(await fcmSend(account.projectId, bearer, fcmMessage(token)))).toMatchObject({
      status: 429,
      errorCode: "QUOTA_EXCEEDED",
    });
    await failRate({ rate: 1, modes: ["reset"], token_prefix: prefix });
    await expect(fcmSend(account.projectId, bearer, fcmMessage(token))).rejects.toThrow();
    // Other tokens are untouched meanwhile.
    expect((await fcmSend(account.projectId, bearer, fcmMessage(fcmToken()))).status).toBe(200);
    await failRate({ rate: 0, token_prefix: prefix });
    expect((await fcmSend(account.projectId, bearer, fcmMessage(token))).status).toBe(200);
    expect((await requests(token)).map((r) => [r.status, r.reason, r.answered_by])).toEqual([
      [429, "QUOTA_EXCEEDED", "fault"],
      [0, "reset", "fault"],
      [200, null, "checks"],
    ]);
  });

  it("drop_answer accepts the push, then drops the connection before answering", async () => {
    const account = await freshServiceAccount();
    const bearer = await accessToken(account);
    const prefix = `dropped-${uniqueId("standin")}`;
    const token = `${prefix}:${"y".repeat(40)}`;
    await failRate({ rate: 1, modes: ["drop_answer"], token_prefix: prefix });
    await expect(fcmSend(account.projectId, bearer, fcmMessage(token))).rejects.toThrow();
    await failRate({ rate: 0, token_prefix: prefix });
    expect(await pushes({ token })).toHaveLength(1);
    expect((await requests(token)).map((r) => [r.status, r.reason, r.answered_by])).toEqual([[0, "answer_dropped", "fault"]]);
  });

  it("answers every push under a token prefix with a preset, and refuses an unknown preset", async () => {
    const account = await freshServiceAccount();
    const bearer = await accessToken(account);
    const prefix = `burst-${uniqueId("standin")}`;
    await failRate({ rate: 1, preset: "unregistered", token_prefix: prefix });
    for (const token of [`${prefix}-a:${"y".repeat(40)}`, `${prefix}-b:${"y".repeat(40)}`]) {
      expect(await googleError(await fcmSend(account.projectId, bearer, fcmMessage(token)))).toMatchObject({
        status: 404,
        errorCode: "UNREGISTERED",
      });
    }
    await failRate({ rate: 0, token_prefix: prefix });
    const refused = await fetch(`${env.STANDIN_URL}/__standin/fail-rate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ rate: 1, preset: "teapot", token_prefix: prefix }),
    });
    expect(refused.status).toBe(400);
    await refused.body?.cancel();
  });
});
