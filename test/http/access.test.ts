/**
 * Who may call what: admin keys, register keys and device tokens against
 * every route; a device token confined to its own user; every way a device
 * token can be wrong; secret rotation; and minting through the API.
 */
import { env } from "cloudflare:workers";
import { jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { AUDIENCE, DEVICE_SECRETS, REGISTER_KEY, deviceToken, unsignedToken } from "../support/device-tokens";
import { API_KEY, RELAY, api, apnsToken, fcmToken, uniqueId } from "../support/webhook";

type ErrorBody = { error: { code: string; message: string; field?: string } };
type DeviceJson = { token: string; custom_id: string | null; user_id: string | null };

const DAY = 86_400;

async function errorOf(response: Response): Promise<ErrorBody["error"]> {
  return ((await response.json()) as ErrorBody).error;
}

async function tokensOf(id: string, by: "custom_id" | "user_id" = "custom_id"): Promise<string[]> {
  const response = await api(`/v1/users/${encodeURIComponent(id)}/devices?by=${by}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { devices: DeviceJson[] }).devices.map((d) => d.token);
}

async function registerAsAdmin(device: { custom_id?: string; user_id?: string; provider: "fcm" | "apns"; token: string }) {
  const response = await api("/v1/devices", { method: "PUT", json: device });
  expect(response.status).toBe(201);
}

type Kind = "none" | "wrong key" | "admin" | "register" | "device";
type Expect = number | "401" | "403";

interface RouteCase {
  route: string;
  /** Builds the request for a user that owns one registered FCM device, `token`. */
  request: (user: string, token: string) => { method: string; path: string; json?: unknown };
  expect: Record<Kind, Expect>;
}

const DENIED = { none: "401", "wrong key": "401" } as const;

/** Every /v1 route; a number is the answer when allowed. */
const ROUTES: RouteCase[] = [
  {
    route: "PUT /v1/devices",
    request: (user) => ({ method: "PUT", path: "/v1/devices", json: { custom_id: user, provider: "fcm", token: fcmToken() } }),
    expect: { ...DENIED, admin: 201, register: 201, device: 201 },
  },
  {
    route: "DELETE /v1/devices/:token",
    request: (_user, token) => ({ method: "DELETE", path: `/v1/devices/${encodeURIComponent(token)}` }),
    expect: { ...DENIED, admin: 204, register: 204, device: 204 },
  },
  {
    route: "POST /v1/device-tokens",
    request: (user) => ({ method: "POST", path: "/v1/device-tokens", json: { custom_id: user } }),
    expect: { ...DENIED, admin: 200, register: 200, device: "403" },
  },
  {
    route: "GET /v1/users/:id/devices",
    request: (user) => ({ method: "GET", path: `/v1/users/${user}/devices` }),
    expect: { ...DENIED, admin: 200, register: "403", device: "403" },
  },
  {
    route: "GET /v1/users/:id/deliveries",
    request: (user) => ({ method: "GET", path: `/v1/users/${user}/deliveries` }),
    expect: { ...DENIED, admin: 200, register: "403", device: "403" },
  },
  {
    route: "GET /v1/events/:svix_id",
    request: () => ({ method: "GET", path: `/v1/events/${uniqueId("msg")}` }),
    expect: { ...DENIED, admin: 404, register: "403", device: "403" },
  },
  {
    route: "POST /v1/events/:svix_id/replay",
    request: () => ({ method: "POST", path: `/v1/events/${uniqueId("msg")}/replay` }),
    expect: { ...DENIED, admin: 404, register: "403", device: "403" },
  },
  {
    route: "GET /v1/stats",
    request: () => ({ method: "GET", path: "/v1/stats" }),
    expect: { ...DENIED, admin: 200, register: "403", device: "403" },
  },
  {
    route: "GET /v1/quarantine",
    request: () => ({ method: "GET", path: "/v1/quarantine" }),
    expect: { ...DENIED, admin: 200, register: "403", device: "403" },
  },
  {
    route: "POST /v1/quarantine/restore",
    request: () => ({ method: "POST", path: "/v1/quarantine/restore", json: { app: uniqueId("app") } }),
    expect: { ...DENIED, admin: 200, register: "403", device: "403" },
  },
  {
    route: "POST /v1/quarantine/confirm-removal",
    request: () => ({ method: "POST", path: "/v1/quarantine/confirm-removal", json: { app: uniqueId("app") } }),
    expect: { ...DENIED, admin: 200, register: "403", device: "403" },
  },
  {
    // The user's own device, not quarantined: even its owner's device token may not touch the quarantine.
    route: "POST /v1/devices/:token/restore",
    request: (_user, token) => ({ method: "POST", path: `/v1/devices/${encodeURIComponent(token)}/restore` }),
    expect: { ...DENIED, admin: 404, register: "403", device: "403" },
  },
  {
    route: "POST /v1/devices/:token/confirm-removal",
    request: (_user, token) => ({ method: "POST", path: `/v1/devices/${encodeURIComponent(token)}/confirm-removal` }),
    expect: { ...DENIED, admin: 404, register: "403", device: "403" },
  },
  {
    // A known route under another method: 405 for the admin, still 403 for the others.
    route: "a /v1 route not listed (default: admin only)",
    request: () => ({ method: "GET", path: "/v1/devices" }),
    expect: { ...DENIED, admin: 405, register: "403", device: "403" },
  },
];

const KINDS: Kind[] = ["none", "wrong key", "admin", "register", "device"];

describe("access: each credential against each route", () => {
  it.each(ROUTES.flatMap((route) => KINDS.map((kind) => [route.route, kind, route] as const)))(
    "%s with %s",
    async (_route, kind, { request, expect: expected }) => {
      const user = uniqueId("emp");
      const token = fcmToken();
      await registerAsAdmin({ custom_id: user, provider: "fcm", token });
      const credential =
        kind === "none"
          ? null
          : kind === "wrong key"
            ? "not-a-key-of-this-relay"
            : kind === "admin"
              ? API_KEY
              : kind === "register"
                ? REGISTER_KEY
                : await deviceToken({ sub: user });
      const { method, path, json } = request(user, token);
      const response = await api(path, { method, json, key: credential });
      const text = await response.text();
      const want = expected[kind];
      if (want === "401" || want === "403") {
        expect(response.status, text).toBe(Number(want));
        expect((JSON.parse(text) as ErrorBody).error.code).toBe(want === "401" ? "unauthorized" : "forbidden");
      } else {
        expect(response.status, text).toBe(want);
      }
      // No answer quotes the credential it was given.
      if (credential) expect(text).not.toContain(credential);
    },
  );

  it("accepts every register key of a space-separated RELAY_REGISTER_KEY", async () => {
    for (const key of env.RELAY_REGISTER_KEY.split(" ")) {
      const response = await api("/v1/devices", { method: "PUT", key, json: { custom_id: uniqueId("emp"), provider: "fcm", token: fcmToken() } });
      expect(response.status).toBe(201);
    }
  });
});

describe("access: a device token is confined to its own user", () => {
  it("registers under the token's user, whatever the body leaves out", async () => {
    const alice = uniqueId("alice");
    const token = fcmToken();
    const response = await api("/v1/devices", { method: "PUT", key: await deviceToken({ sub: alice }), json: { provider: "fcm", token } });
    expect(response.status).toBe(201);
    expect(((await response.json()) as { device: DeviceJson }).device).toMatchObject({ token, custom_id: alice, user_id: null });
    expect(await tokensOf(alice)).toEqual([token]);
  });

  it("cannot register, list or delete another user's devices", async () => {
    const [alice, bob] = [uniqueId("alice"), uniqueId("bob")];
    const bobsPhone = apnsToken();
    await registerAsAdmin({ custom_id: bob, provider: "apns", token: bobsPhone });
    const asAlice = await deviceToken({ sub: alice });

    const forBob = await api("/v1/devices", { method: "PUT", key: asAlice, json: { custom_id: bob, provider: "fcm", token: fcmToken() } });
    expect(forBob.status).toBe(403);
    expect(await errorOf(forBob)).toMatchObject({ code: "forbidden" });

    // A user_id the token does not carry would receive that user's notifications (the user_id fallback).
    const withUserId = await api("/v1/devices", {
      method: "PUT",
      key: asAlice,
      json: { custom_id: alice, user_id: uniqueId("li"), provider: "fcm", token: fcmToken() },
    });
    expect(withUserId.status).toBe(403);
    expect((await errorOf(withUserId)).code).toBe("forbidden");

    const list = await api(`/v1/users/${bob}/devices`, { key: asAlice });
    expect(list.status).toBe(403);
    const ownList = await api(`/v1/users/${alice}/devices`, { key: asAlice });
    expect(ownList.status).toBe(403);

    // Bob's token answers like an unknown one, in either case, and stays.
    for (const form of [bobsPhone, bobsPhone.toUpperCase()]) {
      const removal = await api(`/v1/devices/${form}`, { method: "DELETE", key: asAlice });
      expect(removal.status).toBe(404);
      expect((await errorOf(removal)).code).toBe("not_found");
    }
    expect(await tokensOf(bob)).toEqual([bobsPhone]);
    expect(await tokensOf(alice)).toEqual([]);
  });

  it("removes its own device, in any case for APNs", async () => {
    const alice = uniqueId("alice");
    const phone = apnsToken();
    await registerAsAdmin({ custom_id: alice, provider: "apns", token: phone });
    const removal = await api(`/v1/devices/${phone.toUpperCase()}`, { method: "DELETE", key: await deviceToken({ sub: alice }) });
    expect(removal.status).toBe(204);
    expect(await tokensOf(alice)).toEqual([]);
  });

  it("names a user without a custom_id by its user_id claim", async () => {
    const [mine, theirs] = [uniqueId("li"), uniqueId("li")];
    const asMine = await deviceToken({ user_id: mine });
    const token = fcmToken();
    const created = await api("/v1/devices", { method: "PUT", key: asMine, json: { user_id: mine, provider: "fcm", token } });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { device: DeviceJson }).device).toMatchObject({ custom_id: null, user_id: mine });
    const named = await api("/v1/devices", { method: "PUT", key: asMine, json: { custom_id: uniqueId("emp"), provider: "fcm", token: fcmToken() } });
    expect(named.status).toBe(403);

    const theirToken = fcmToken();
    await registerAsAdmin({ user_id: theirs, provider: "fcm", token: theirToken });
    expect((await api(`/v1/devices/${encodeURIComponent(theirToken)}`, { method: "DELETE", key: asMine })).status).toBe(404);
    expect((await api(`/v1/devices/${encodeURIComponent(token)}`, { method: "DELETE", key: asMine })).status).toBe(204);
    expect(await tokensOf(theirs, "user_id")).toEqual([theirToken]);
    expect(await tokensOf(mine, "user_id")).toEqual([]);
  });

  it("moves a phone that changes hands to the user who signs in on it", async () => {
    const [alice, bob] = [uniqueId("alice"), uniqueId("bob")];
    const sharedPhone = fcmToken();
    await registerAsAdmin({ custom_id: alice, provider: "fcm", token: sharedPhone });
    const moved = await api("/v1/devices", { method: "PUT", key: await deviceToken({ sub: bob }), json: { provider: "fcm", token: sharedPhone } });
    expect(moved.status).toBe(200);
    expect(await tokensOf(bob)).toEqual([sharedPhone]);
    expect(await tokensOf(alice)).toEqual([]);
  });
});

describe("access: device tokens the relay refuses", () => {
  it.each<[string, (user: string) => Promise<string> | string]>([
    ["expired (beyond the 30 s tolerance)", (sub) => deviceToken({ sub }, { expIn: -120 })],
    ["not yet valid (nbf in 10 minutes)", (sub) => deviceToken({ sub }, { nbfIn: 600 })],
    ["for another audience", (sub) => deviceToken({ sub }, { aud: "another-service" })],
    ["without an audience", (sub) => deviceToken({ sub }, { aud: null })],
    ["unsigned (alg: none)", (sub) => unsignedToken(sub)],
    ["HS256 with another secret", (sub) => deviceToken({ sub }, { secret: "a-secret-the-relay-does-not-know-0123456789" })],
    ["HS512 with the relay's secret (algorithm pinned)", (sub) => deviceToken({ sub }, { alg: "HS512" })],
    ["valid for 90 days", (sub) => deviceToken({ sub }, { expIn: 90 * DAY })],
    ["valid for 30 days and 2 minutes", (sub) => deviceToken({ sub }, { expIn: 30 * DAY + 120 })],
    ["without exp", (sub) => deviceToken({ sub }, { expIn: null })],
    ["naming no user", () => deviceToken({})],
    ["with an empty sub", () => deviceToken({ sub: "" })],
    ["with a numeric user_id", () => deviceToken({}, { claims: { user_id: 42 } })],
    ["malformed", () => "eyJhbGciOiJIUzI1NiJ9.not-json.c2ln"],
    ["truncated", async (sub) => (await deviceToken({ sub })).slice(0, -4)],
  ])("answers 401 for a token %s", async (_label, make) => {
    const sub = uniqueId("emp");
    const token = await make(sub);
    const response = await api("/v1/devices", { method: "PUT", key: token, json: { provider: "fcm", token: fcmToken() } });
    const text = await response.text();
    expect(response.status, text).toBe(401);
    expect((JSON.parse(text) as ErrorBody).error.code).toBe("unauthorized");
    expect(text).not.toContain(token);
    expect(await tokensOf(sub)).toEqual([]);
  });

  it.each([
    ["expired 10 s ago (within the clock tolerance)", -10],
    ["valid for exactly 30 days", 30 * DAY],
  ])("accepts a token %s", async (_label, expIn) => {
    const sub = uniqueId("emp");
    const response = await api("/v1/devices", { method: "PUT", key: await deviceToken({ sub }, { expIn }), json: { provider: "fcm", token: fcmToken() } });
    expect(response.status).toBe(201);
  });
});

describe("access: DEVICE_TOKEN_SECRET rotation", () => {
  it("accepts tokens signed with any configured secret", async () => {
    for (const secret of DEVICE_SECRETS) {
      const sub = uniqueId("emp");
      const response = await api("/v1/devices", { method: "PUT", key: await deviceToken({ sub }, { secret }), json: { provider: "fcm", token: fcmToken() } });
      expect(response.status).toBe(201);
    }
  });

  it("refuses the old secret's tokens once it is removed", async () => {
    const [oldSecret, newSecret] = DEVICE_SECRETS as [string, string];
    const relay = { ...env, DEVICE_TOKEN_SECRET: newSecret };
    const put = async (token: string) =>
      app.fetch(
        new Request(`${RELAY}/v1/devices`, {
          method: "PUT",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ provider: "fcm", token: fcmToken() }),
        }),
        relay,
      );
    expect((await put(await deviceToken({ sub: uniqueId("emp") }, { secret: oldSecret }))).status).toBe(401);
    expect((await put(await deviceToken({ sub: uniqueId("emp") }, { secret: newSecret }))).status).toBe(201);
  });
});

describe("POST /v1/device-tokens", () => {
  const mint = (json: unknown, key: string = REGISTER_KEY, relay: Env = env) =>
    app.fetch(
      new Request(`${RELAY}/v1/device-tokens`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify(json),
      }),
      relay,
    );

  it("mints a token for a custom_id, signed with the first secret, valid for an hour by default", async () => {
    const user = uniqueId("emp");
    const before = Date.now();
    const response = await mint({ custom_id: user });
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const after = Date.now();
    const { token, expires_at } = (await response.json()) as { token: string; expires_at: string };
    // `exp` is whole seconds from the Worker's clock, read between `before` and `after`.
    expect(Date.parse(expires_at)).toBeGreaterThan(before + 3_598_000);
    expect(Date.parse(expires_at)).toBeLessThanOrEqual(after + 3_600_000);

    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(DEVICE_SECRETS[0]), { audience: AUDIENCE });
    expect(protectedHeader.alg).toBe("HS256");
    expect(payload).toMatchObject({ sub: user, aud: AUDIENCE });
    expect(payload.exp! * 1000).toBe(Date.parse(expires_at));
    expect(payload.user_id).toBeUndefined();

    const phone = fcmToken();
    expect((await api("/v1/devices", { method: "PUT", key: token, json: { provider: "fcm", token: phone } })).status).toBe(201);
    expect(await tokensOf(user)).toEqual([phone]);
  });

  it("mints for a user_id, with the lifetime asked for (up to 30 days)", async () => {
    const user = uniqueId("li");
    const response = await mint({ user_id: user, ttl_seconds: 30 * DAY }, API_KEY);
    expect(response.status).toBe(200);
    const { token } = (await response.json()) as { token: string };
    const { payload } = await jwtVerify(token, new TextEncoder().encode(DEVICE_SECRETS[0]), { audience: AUDIENCE });
    expect(payload.user_id).toBe(user);
    expect(payload.sub).toBeUndefined();
    expect(payload.exp! - payload.iat!).toBe(30 * DAY);
    expect((await api("/v1/devices", { method: "PUT", key: token, json: { provider: "fcm", token: fcmToken() } })).status).toBe(201);
  });

  it.each([
    ["no user", {}, "custom_id"],
    ["an empty custom_id", { custom_id: "" }, "custom_id"],
    ["a ttl over 30 days", { custom_id: "a", ttl_seconds: 30 * DAY + 1 }, "ttl_seconds"],
    ["a ttl under a minute", { custom_id: "a", ttl_seconds: 59 }, "ttl_seconds"],
    ["a fractional ttl", { custom_id: "a", ttl_seconds: 600.5 }, "ttl_seconds"],
    ["a ttl as text", { custom_id: "a", ttl_seconds: "600" }, "ttl_seconds"],
  ])("answers 400 for %s", async (_label, json, field) => {
    const response = await mint(json);
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({ code: "invalid_request", field });
  });

  it("answers 500 not_configured without DEVICE_TOKEN_SECRET, and with one under 32 bytes, never quoting it", async () => {
    const unset = await mint({ custom_id: "a" }, REGISTER_KEY, { ...env, DEVICE_TOKEN_SECRET: "" });
    expect(unset.status).toBe(500);
    expect((await errorOf(unset)).code).toBe("not_configured");

    const short = "only-31-bytes-long-secret-value";
    const weak = await mint({ custom_id: "a" }, REGISTER_KEY, { ...env, DEVICE_TOKEN_SECRET: `${DEVICE_SECRETS[0]} ${short}` });
    expect(weak.status).toBe(500);
    const error = await errorOf(weak);
    expect(error.code).toBe("not_configured");
    // The answer names no setting; the log does.
    expect(error.message).not.toContain("DEVICE_TOKEN_SECRET");
    expect(error.message).not.toContain(short);
  });

  it("leaves device tokens refused (401) on a relay without DEVICE_TOKEN_SECRET", async () => {
    const response = await app.fetch(
      new Request(`${RELAY}/v1/devices`, {
        method: "PUT",
        headers: { authorization: `Bearer ${await deviceToken({ sub: uniqueId("emp") })}`, "content-type": "application/json" },
        body: JSON.stringify({ provider: "fcm", token: fcmToken() }),
      }),
      { ...env, DEVICE_TOKEN_SECRET: "" },
    );
    expect(response.status).toBe(401);
  });
});
