/**
 * examples/backend/device-token.ts against the real Worker: the tokens the
 * example backend hands the app register devices (201) for the right user,
 * by custom_id or by user_id, and the example refuses what the relay would.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_TTL_SECONDS, type PushUser, deviceTokenRoute, mintDeviceToken } from "../../examples/backend/device-token";
import { api, apnsToken, fcmToken, uniqueId } from "../support/webhook";

/** The example route, with a "session" that is just a header naming the user. */
const route = deviceTokenRoute({
  secret: env.DEVICE_TOKEN_SECRET,
  relayUrl: "https://relay.test",
  authenticate: async (request) => {
    const session = request.headers.get("x-test-session");
    return session ? (JSON.parse(session) as PushUser) : null;
  },
});

async function tokenFor(user: PushUser): Promise<{ token: string; expires_at: string; relay_url: string }> {
  const response = await route(new Request("https://backend.test/push/device-token", { headers: { "x-test-session": JSON.stringify(user) } }));
  expect(response.status).toBe(200);
  expect(response.headers.get("cache-control")).toBe("no-store");
  return response.json();
}

describe("the example backend's device token", () => {
  it("registers the app's device for the user by custom_id: 201", async () => {
    const customId = uniqueId("emp");
    const { token, expires_at, relay_url } = await tokenFor({ customId, userId: "li-1" });
    expect(relay_url).toBe("https://relay.test");
    expect(Date.parse(expires_at) - Date.now()).toBeGreaterThan(3500_000);
    const push = fcmToken();
    const registered = await api("/v1/devices", { method: "PUT", key: token, json: { provider: "fcm", token: push, platform: "android" } });
    expect(registered.status).toBe(201);
    expect(await registered.json()).toMatchObject({ device: { token: push, custom_id: customId, user_id: null } });
    expect((await api(`/v1/devices/${encodeURIComponent(push)}`, { method: "DELETE", key: token })).status).toBe(204);
  });

  it("registers a user without a custom_id by user_id", async () => {
    const userId = uniqueId("li");
    const { token } = await tokenFor({ customId: null, userId });
    const registered = await api("/v1/devices", { method: "PUT", key: token, json: { provider: "apns", token: apnsToken(), environment: "sandbox" } });
    expect(registered.status).toBe(201);
    expect(await registered.json()).toMatchObject({ device: { custom_id: null, user_id: userId } });
  });

  it("lives up to 30 days, which the relay accepts, and no longer", async () => {
    const { token } = await mintDeviceToken({ customId: uniqueId("emp"), userId: null }, env.DEVICE_TOKEN_SECRET, MAX_TTL_SECONDS);
    expect((await api("/v1/devices", { method: "PUT", key: token, json: { provider: "fcm", token: fcmToken() } })).status).toBe(201);
    await expect(mintDeviceToken({ customId: "emp", userId: null }, env.DEVICE_TOKEN_SECRET, MAX_TTL_SECONDS + 1)).rejects.toThrow(RangeError);
    await expect(mintDeviceToken({ customId: "emp", userId: null }, "too-short")).rejects.toThrow(RangeError);
  });

  it("answers 401 to a request nobody is signed in to, and 405 to another method", async () => {
    expect((await route(new Request("https://backend.test/push/device-token"))).status).toBe(401);
    expect((await route(new Request("https://backend.test/push/device-token", { method: "POST" }))).status).toBe(405);
  });
});
