import { describe, expect, it } from "vitest";
import { MAX_DEVICES_PER_USER } from "../../src/db/devices";
import { api, apnsToken, fcmToken, uniqueId } from "../support/webhook";

type DeviceJson = { token: string; custom_id: string | null; user_id: string | null; environment: string; platform: string | null };

async function put(json: unknown, key?: string) {
  const response = await api("/v1/devices", { method: "PUT", json, key });
  return { status: response.status, body: (await response.json()) as { device: DeviceJson; evicted_tokens: string[]; error?: { code: string; field?: string } } };
}

async function devicesOf(customId: string): Promise<DeviceJson[]> {
  const response = await api(`/v1/users/${encodeURIComponent(customId)}/devices`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { devices: DeviceJson[] }).devices;
}

describe("device API: auth", () => {
  it.each([
    ["no Authorization header", null],
    ["a wrong key", "not-the-key"],
  ])("answers 401 with %s", async (_label, key) => {
    const response = await api("/v1/users/someone/devices", { key });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
  });

  it("accepts every key of a space-separated RELAY_API_KEY", async () => {
    expect((await api("/v1/users/someone/devices", { key: "test-key-1" })).status).toBe(200);
    expect((await api("/v1/users/someone/devices", { key: "test-key-2" })).status).toBe(200);
  });

  it("rejects a Basic scheme", async () => {
    const response = await api("/v1/users/someone/devices", { key: null, headers: { authorization: "Basic dGVzdC1rZXktMQ==" } });
    expect(response.status).toBe(401);
  });
});

describe("device API: register, move, list, delete", () => {
  it("creates (201), updates (200) and lists a device", async () => {
    const customId = uniqueId("emp");
    const token = fcmToken();
    const created = await put({ custom_id: customId, provider: "fcm", token, platform: "android" });
    expect(created.status).toBe(201);
    expect(created.body.device).toMatchObject({ token, custom_id: customId, user_id: null, environment: "production", platform: "android" });

    const updated = await put({ custom_id: customId, user_id: "learnink-1", provider: "fcm", token, platform: "android" });
    expect(updated.status).toBe(200);
    expect(updated.body.device.user_id).toBe("learnink-1");
    expect(await devicesOf(customId)).toHaveLength(1);
  });

  it("moves a token to the user who registers it next", async () => {
    const [alice, bob] = [uniqueId("alice"), uniqueId("bob")];
    const token = apnsToken();
    expect((await put({ custom_id: alice, provider: "apns", token, environment: "sandbox" })).status).toBe(201);
    const moved = await put({ custom_id: bob, provider: "apns", token });
    expect(moved.status).toBe(200);
    expect(moved.body.device).toMatchObject({ custom_id: bob, environment: "production", platform: "ios" });
    expect(await devicesOf(alice)).toEqual([]);
    expect((await devicesOf(bob)).map((d) => d.token)).toEqual([token]);
  });

  it("lists devices registered with only LearnInk's user_id under ?by=user_id", async () => {
    const userId = uniqueId("li");
    const token = fcmToken();
    await put({ user_id: userId, provider: "fcm", token });
    const response = await api(`/v1/users/${userId}/devices?by=user_id`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { user_id: string; devices: DeviceJson[] };
    expect(body.user_id).toBe(userId);
    expect(body.devices.map((d) => d.token)).toEqual([token]);
    expect(await devicesOf(userId)).toEqual([]);
    const bad = await api(`/v1/users/${userId}/devices?by=email`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe("by");
  });

  it("stores APNs tokens lower-case and deletes them whatever the case", async () => {
    const customId = uniqueId("emp");
    const token = apnsToken().toUpperCase();
    const created = await put({ custom_id: customId, provider: "apns", token });
    expect(created.body.device.token).toBe(token.toLowerCase());
    expect((await api(`/v1/devices/${token}`, { method: "DELETE" })).status).toBe(204);
    expect(await devicesOf(customId)).toEqual([]);
  });

  it("never lower-cases a token into an FCM device: FCM tokens are case-sensitive", async () => {
    const customId = uniqueId("emp");
    const token = fcmToken().toLowerCase();
    await put({ custom_id: customId, provider: "fcm", token });
    const other = await api(`/v1/devices/${encodeURIComponent(token.toUpperCase())}`, { method: "DELETE" });
    expect(other.status).toBe(404);
    expect((await devicesOf(customId)).map((d) => d.token)).toEqual([token]);
  });

  it("registers Expo push tokens of both shapes as they are, refuses anything else, and deletes them by token", async () => {
    const customId = uniqueId("emp");
    const tokens = [`ExponentPushToken[${uniqueId("a")}]`, `ExpoPushToken[${uniqueId("b")}]`];
    for (const token of tokens) {
      const created = await put({ custom_id: customId, provider: "expo", token });
      expect([created.status, created.body.device.token]).toEqual([201, token]);
    }
    for (const token of ["exponentpushtoken[abc]", "ExponentPushToken[]", "ExponentPushToken[has space]", fcmToken()]) {
      const refused = await put({ custom_id: customId, provider: "expo", token });
      expect([refused.status, refused.body.error?.field], token).toEqual([400, "token"]);
    }
    expect((await api(`/v1/devices/${encodeURIComponent(tokens[0]!)}`, { method: "DELETE" })).status).toBe(204);
    expect((await devicesOf(customId)).map((d) => d.token)).toEqual([tokens[1]]);
  });

  it("deletes a device (204), then answers 404", async () => {
    const token = fcmToken();
    await put({ user_id: uniqueId("usr"), provider: "fcm", token });
    const first = await api(`/v1/devices/${encodeURIComponent(token)}`, { method: "DELETE" });
    expect(first.status).toBe(204);
    const second = await api(`/v1/devices/${encodeURIComponent(token)}`, { method: "DELETE" });
    expect(second.status).toBe(404);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe("not_found");
  });

  it(`keeps at most ${MAX_DEVICES_PER_USER} devices per user, removing the least recently registered`, async () => {
    const customId = uniqueId("emp");
    const tokens: string[] = [];
    for (let i = 0; i < MAX_DEVICES_PER_USER; i++) {
      const token = fcmToken();
      tokens.push(token);
      expect((await put({ custom_id: customId, provider: "fcm", token })).body.evicted_tokens).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const extra = await put({ custom_id: customId, provider: "fcm", token: fcmToken() });
    expect(extra.status).toBe(201);
    expect(extra.body.evicted_tokens).toEqual([tokens[0]]);
    const listed = await devicesOf(customId);
    expect(listed).toHaveLength(MAX_DEVICES_PER_USER);
    expect(listed.map((d) => d.token)).not.toContain(tokens[0]);
  });
});

describe("device API: validation", () => {
  it.each([
    ["a missing provider", { custom_id: "a", token: "x".repeat(40) }, "provider"],
    ["an unknown provider", { custom_id: "a", provider: "wns", token: "x".repeat(40) }, "provider"],
    ["a provider no device registers with", { custom_id: "a", provider: "onesignal", token: "x".repeat(40) }, "provider"],
    ["a non-hex APNs token", { custom_id: "a", provider: "apns", token: "z".repeat(64) }, "token"],
    ["a short APNs token", { custom_id: "a", provider: "apns", token: "ab".repeat(8) }, "token"],
    ["a short FCM token", { custom_id: "a", provider: "fcm", token: "abc" }, "token"],
    ["an FCM token with a slash", { custom_id: "a", provider: "fcm", token: `${"a".repeat(40)}/b` }, "token"],
    ["a missing token", { custom_id: "a", provider: "fcm" }, "token"],
    ["neither custom_id nor user_id", { provider: "fcm", token: "a".repeat(40) }, "custom_id"],
    ["an empty custom_id", { custom_id: " ", provider: "fcm", token: "a".repeat(40) }, "custom_id"],
    ["a custom_id too long", { custom_id: "a".repeat(257), provider: "fcm", token: "a".repeat(40) }, "custom_id"],
    ["a numeric user_id", { user_id: 12, provider: "fcm", token: "a".repeat(40) }, "user_id"],
    ["an unknown environment", { custom_id: "a", provider: "apns", token: "ab".repeat(32), environment: "dev" }, "environment"],
    ["an unknown platform", { custom_id: "a", provider: "fcm", token: "a".repeat(40), platform: "web" }, "platform"],
  ])("answers 400 for %s, naming the field", async (_label, json, field) => {
    const { status, body } = await put(json);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: "invalid_request", field });
  });

  it.each([
    ["an array body", "[]", "invalid_request"],
    ["a body that is not JSON", "{", "invalid_json"],
  ])("answers 400 for %s", async (_label, body, code) => {
    const response = await api("/v1/devices", { method: "PUT", body, headers: { "content-type": "application/json" } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
  });
});
