import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { APNS_CHECK_TOKEN } from "../../src/push/apns/check";
import { FCM_CHECK_TOKEN } from "../../src/push/fcm/check";
import { HMS_CHECK_TOKEN } from "../../src/push/hms/check";
import { checkSettings, type SettingsCheckReport } from "../../src/push/settings-check";
import { API_KEY, RELAY } from "../support/webhook";
import { freshApnsKey, freshExpoAccessToken, freshHmsApp, freshOneSignalApp, freshServiceAccount, pushes, requests, standins } from "../support/standins";

/** Every provider off: a test turns on what it checks. */
const NONE: Partial<Env> = {
  FCM_SERVICE_ACCOUNT: "", APNS_KEY: "", EXPO_ACCESS_TOKEN: "", ONESIGNAL_APP_ID: "", ONESIGNAL_API_KEY: "", HMS_APP_ID: "", HMS_APP_SECRET: "", APPS: "",
};

async function check(overrides: Partial<Env>, key: string = API_KEY): Promise<{ status: number; body: SettingsCheckReport }> {
  const response = await app.fetch(new Request(`${RELAY}/v1/check`, { method: "POST", headers: { authorization: `Bearer ${key}` } }), { ...env, ...overrides });
  return { status: response.status, body: (await response.json()) as SettingsCheckReport };
}

const lineOf = (report: SettingsCheckReport, provider: string, app = "default") => report.checks.find((c) => c.provider === provider && c.app === app);

/** Nothing reached a device: no check token was ever accepted as a push. */
async function nothingSent() {
  for (const token of [FCM_CHECK_TOKEN, APNS_CHECK_TOKEN, HMS_CHECK_TOKEN]) expect(await pushes({ token })).toEqual([]);
}

/** What the check must never write: deliveries, devices, alerts (storage is this file's own). */
async function rows(): Promise<number[]> {
  const count = async (table: string) => (await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>())!.n;
  return Promise.all(["deliveries", "devices", "alerts"].map(count));
}

describe("POST /v1/check", () => {
  it("right settings: every configured provider, for every app, says ok, and nothing is sent", async () => {
    const [fcm, apns, expo, onesignal, hms] = await Promise.all([freshServiceAccount(), freshApnsKey(), freshExpoAccessToken(), freshOneSignalApp(), freshHmsApp()]);
    const staging = await freshApnsKey();
    const apps = JSON.stringify({ staging: { apns_key_id: staging.keyId, apns_team_id: staging.teamId, apns_topic: staging.topic, apns_key_secret: "APNS_KEY_STAGING" } });
    const before = (await requests(APNS_CHECK_TOKEN)).length;
    const written = await rows();
    const { status, body } = await check({ ...fcm.config, ...apns.config, ...expo.config, ...onesignal.config, ...hms.config, APPS: apps, APNS_KEY_STAGING: staging.privateKeyPem } as Partial<Env>);
    expect(status).toBe(200);
    expect(body.ok).toBe(true);
    expect(body.checks.map((c) => `${c.app}/${c.provider}/${c.ok}`).sort()).toEqual(
      ["default/apns/true", "default/expo/true", "default/fcm/true", "default/hms/true", "default/onesignal/true", "staging/apns/true", "staging/expo/true", "staging/fcm/true", "staging/hms/true"].sort(),
    );
    expect(lineOf(body, "apns")!.detail).toContain(`key ${apns.keyId} of team ${apns.teamId} for topic ${apns.topic}`);
    expect(lineOf(body, "apns", "staging")!.detail).toContain(`topic ${staging.topic}`);
    expect(lineOf(body, "fcm")!.detail).toContain(fcm.projectId);
    // Apple was asked (and said BadDeviceToken), Google checked a validate_only message: neither delivered anything.
    expect((await requests(APNS_CHECK_TOKEN)).slice(before).map((r) => r.reason)).toEqual(["BadDeviceToken", "BadDeviceToken"]);
    await nothingSent();
    expect(await rows()).toEqual(written);
  });

  it("leaves out providers that are not configured", async () => {
    const fcm = await freshServiceAccount();
    const { body } = await check({ ...NONE, ...fcm.config });
    expect(body).toEqual({ ok: true, checks: [{ app: "default", provider: "fcm", ok: true, detail: expect.any(String) }] });
    expect(await check(NONE)).toEqual({ status: 200, body: { ok: true, checks: [] } });
  });

  it("names a wrong Firebase project", async () => {
    const fcm = await freshServiceAccount();
    const other = await freshServiceAccount();
    const account = { ...JSON.parse(fcm.config.FCM_SERVICE_ACCOUNT), project_id: other.projectId };
    const { body } = await check({ ...NONE, ...fcm.config, FCM_SERVICE_ACCOUNT: JSON.stringify(account) });
    expect(body.ok).toBe(false);
    expect(lineOf(body, "fcm")).toMatchObject({ ok: false, detail: expect.stringContaining(`${fcm.clientEmail} in project ${other.projectId} (PERMISSION_DENIED)`) });
    expect(lineOf(body, "fcm")!.detail).toContain("is project_id in FCM_SERVICE_ACCOUNT the app's Firebase project");
    await nothingSent();
  });

  it("names a wrong APNs topic, a key of another team, and a revoked key", async () => {
    const apns = await freshApnsKey();
    const wrongTopic = await check({ ...NONE, ...apns.config, APNS_TOPIC: "com.example.app" });
    expect(lineOf(wrongTopic.body, "apns")!.detail).toBe(
      `APNs refuses topic com.example.app for team ${apns.teamId} (TopicDisallowed): is APNS_TOPIC the app's bundle id, and does team ${apns.teamId} own the app?`,
    );
    const otherTeam = await freshApnsKey();
    const wrongTeam = await check({ ...NONE, ...apns.config, APNS_TEAM_ID: otherTeam.teamId });
    expect(lineOf(wrongTeam.body, "apns")).toMatchObject({ ok: false, detail: expect.stringContaining(`key ${apns.keyId} for team ${otherTeam.teamId} (InvalidProviderToken)`) });

    const revoked = await freshApnsKey();
    expect(lineOf((await check({ ...NONE, ...revoked.config })).body, "apns")!.ok).toBe(true);
    // Apple no longer knows the key: its id now stands for another key (what the stand-in does on a revocation).
    const { publicKey } = await generateKeyPair("ES256", { extractable: true });
    await standins.registerApnsKey({ key_id: revoked.keyId, team_id: revoked.teamId, topic: revoked.topic, public_jwk: await exportJWK(publicKey) });
    const after = await check({ ...NONE, ...revoked.config });
    expect(lineOf(after.body, "apns")).toMatchObject({ ok: false, detail: expect.stringContaining("InvalidProviderToken") });
    expect(lineOf(after.body, "apns")!.detail).toContain("is the key not revoked");
    await nothingSent();
  });

  it("names a revoked service-account key, a wrong Huawei secret, OneSignal key and Expo token", async () => {
    const fcm = await freshServiceAccount();
    const { publicKey } = await generateKeyPair("RS256", { extractable: true });
    await standins.registerServiceAccount({ client_email: fcm.clientEmail, project_id: fcm.projectId, private_key_id: fcm.privateKeyId, public_jwk: await exportJWK(publicKey) });
    const [hms, onesignal, expo] = await Promise.all([freshHmsApp(), freshOneSignalApp(), freshExpoAccessToken()]);
    const { body } = await check({
      ...NONE, ...fcm.config, ...hms.config, ...onesignal.config, ...expo.config,
      HMS_APP_SECRET: "not-the-secret", ONESIGNAL_API_KEY: "os_v2_app_wrong", EXPO_ACCESS_TOKEN: "expo-wrong",
    });
    expect(body.ok).toBe(false);
    expect(lineOf(body, "fcm")!.detail).toContain(`Google refuses the key of ${fcm.clientEmail}`);
    expect(lineOf(body, "hms")!.detail).toContain("Huawei's token endpoint refused HMS_APP_ID with HMS_APP_SECRET");
    expect(lineOf(body, "onesignal")!.detail).toContain("OneSignal refused the App API key");
    expect(lineOf(body, "expo")!.detail).toContain("Expo refused the request as UNAUTHORIZED");
    await nothingSent();
    // Refused settings raise no alert and touch no device: the check's answer is its verdict.
    expect((await rows())[2]).toBe(0);
  });

  it("is the operator's alone: a register key is refused", async () => {
    const { status } = await check(NONE, "test-register-key-1");
    expect(status).toBe(403);
  });

  it("says plainly when APNs does not answer, and how else iOS apps can be reached", async () => {
    const apns = await freshApnsKey();
    const hang: typeof fetch = (_input, init) =>
      new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(new Error("aborted"))));
    const report = await checkSettings({ ...env, ...NONE, ...apns.config } as Env, { fetch: hang, timeoutMs: 50 });
    expect(report.ok).toBe(false);
    expect(lineOf(report, "apns")!.detail).toMatch(/^APNs did not answer within 0.05 s.*HTTP\/2 only once deployed.*through FCM instead/);
  });

  it("reuses the provider token the sends use: checking twice signs one", async () => {
    const apns = await freshApnsKey();
    await check({ ...NONE, ...apns.config });
    const first = await env.DB.prepare("SELECT value FROM credentials WHERE name = ?1").bind(`apns:${apns.teamId}:${apns.keyId}`).first<{ value: string }>();
    const again = await check({ ...NONE, ...apns.config });
    const second = await env.DB.prepare("SELECT value FROM credentials WHERE name = ?1").bind(`apns:${apns.teamId}:${apns.keyId}`).first<{ value: string }>();
    expect(lineOf(again.body, "apns")!.ok).toBe(true);
    expect(second!.value).toBe(first!.value);
  });
});
