/**
 * Several apps on one relay, through the API, the consumer and the
 * stand-ins: a device names its app, each app's pushes go out with its own
 * credentials and topic (two APNs keys, two JWTs), the ledger and the
 * events API show the app, and an unusable APPS or a missing app secret
 * holds only what it concerns (misconfigured: it waits for a fix), with
 * one log line that names the app and the setting.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createIsolateMemory } from "../../src/push/credential-cache";
import { createProviders } from "../../src/push/providers";
import { eventDeliveries, job, queued, runBatch } from "../support/delivery";
import { apnsToken, expoToken, fcmToken, uniqueId } from "../support/ids";
import { captureLogs } from "../support/logs";
import { freshApnsKey, freshServiceAccount, pushes, stats } from "../support/standins";
import { API_KEY, errorOf, fetchWith, RELAY } from "../support/webhook";

let logs = captureLogs();
beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => logs.stop());

/** PUT /v1/devices with the Worker's env replaced by `overrides` (APPS, its secrets). */
function register(device: Record<string, unknown>, overrides: Partial<Env>): Promise<Response> {
  return fetchWith(
    new Request(`${RELAY}/v1/devices`, {
      method: "PUT",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(device),
    }),
    overrides,
  );
}

/** Two apps: `default` with one APNs key and service account, `staging` with others and its own bundle id. */
async function twoApps() {
  const [apnsDefault, apnsStaging, fcmDefault, fcmStaging] = await Promise.all([
    freshApnsKey(),
    freshApnsKey(),
    freshServiceAccount(),
    freshServiceAccount(),
  ]);
  const config: Partial<Env> & Record<string, string> = {
    ...apnsDefault.config,
    ...fcmDefault.config,
    APNS_KEY_STAGING: apnsStaging.privateKeyPem,
    FCM_SERVICE_ACCOUNT_STAGING: fcmStaging.config.FCM_SERVICE_ACCOUNT,
    APPS: JSON.stringify({
      staging: {
        apns_topic: apnsStaging.topic,
        apns_key_secret: "APNS_KEY_STAGING",
        apns_key_id: apnsStaging.keyId,
        apns_team_id: apnsStaging.teamId,
        fcm_service_account_secret: "FCM_SERVICE_ACCOUNT_STAGING",
      },
    }),
  };
  return { apnsDefault, apnsStaging, fcmDefault, fcmStaging, config };
}

const providersFor = (config: Partial<Env>) => createProviders({ ...env, ...config }, {}, createIsolateMemory());

describe("several apps", () => {
  it("sends each app's pushes with its own APNs key, JWT and topic, and its own service account", async () => {
    const apps = await twoApps();
    const user = uniqueId("emp");
    const devices = [
      { provider: "apns", token: apnsToken() },
      { provider: "apns", token: apnsToken(), app: "staging" },
      { provider: "fcm", token: fcmToken() },
      { provider: "fcm", token: fcmToken(), app: "staging" },
    ];
    for (const device of devices) expect((await register({ custom_id: user, ...device }, apps.config)).status).toBe(201);

    const pushJob = job([queued({ custom_id: user })]);
    const { report } = await runBatch([pushJob], { providers: providersFor(apps.config) }, 1, apps.config);
    expect(report.outcomes).toEqual({ sent: 4 });

    const [defaultApns, stagingApns] = await Promise.all([pushes({ token: devices[0]!.token }), pushes({ token: devices[1]!.token })]);
    expect(defaultApns[0]!.headers["apns-topic"]).toBe(apps.apnsDefault.topic);
    expect(stagingApns[0]!.headers["apns-topic"]).toBe(apps.apnsStaging.topic);
    expect(await stats({ key_id: apps.apnsDefault.keyId })).toMatchObject({ apns_jwts: 1, apns_pushes: 1 });
    expect(await stats({ key_id: apps.apnsStaging.keyId })).toMatchObject({ apns_jwts: 1, apns_pushes: 1 });
    expect(await stats({ client_email: apps.fcmDefault.clientEmail })).toMatchObject({ token_requests: 1, fcm_pushes: 1 });
    expect(await stats({ client_email: apps.fcmStaging.clientEmail })).toMatchObject({ token_requests: 1, fcm_pushes: 1 });

    // Each app's credential has its own row in the shared cache.
    const { results } = await env.DB.prepare("SELECT name FROM credentials WHERE name LIKE ?1 OR name LIKE ?2")
      .bind(`%${apps.apnsDefault.keyId}%`, `%${apps.apnsStaging.keyId}%`)
      .all<{ name: string }>();
    expect(results).toHaveLength(2);

    const ledger = await eventDeliveries(pushJob.event_id);
    const byToken = new Map(ledger!.deliveries.map((d) => [d.device_token, d as typeof d & { app: string }]));
    expect(devices.map((d) => byToken.get(d.token)?.app)).toEqual(["default", "staging", "default", "staging"]);
  });

  it("lists a device's app, refuses an app APPS does not name (400) and, while APPS is unusable, any app but default (500)", async () => {
    const apps = await twoApps();
    const user = uniqueId("emp");
    expect((await register({ custom_id: user, provider: "fcm", token: fcmToken(), app: "staging" }, apps.config)).status).toBe(201);
    const listed = await fetchWith(new Request(`${RELAY}/v1/users/${user}/devices`, { headers: { authorization: `Bearer ${API_KEY}` } }), apps.config);
    expect(((await listed.json()) as { devices: { app: string }[] }).devices.map((d) => d.app)).toEqual(["staging"]);

    const unknown = await register({ custom_id: user, provider: "fcm", token: fcmToken(), app: "production-eu" }, apps.config);
    expect([unknown.status, await errorOf(unknown)]).toEqual([400, expect.objectContaining({ code: "invalid_request", field: "app" })]);

    const broken = { ...apps.config, APPS: '{"staging": {"apns_topic": }' };
    const refused = await register({ custom_id: user, provider: "fcm", token: fcmToken(), app: "staging" }, broken);
    expect([refused.status, (await errorOf(refused)).code]).toEqual([500, "not_configured"]);
    expect((await register({ custom_id: user, provider: "fcm", token: fcmToken() }, broken)).status).toBe(201);
    expect(logs.errors()).toContainEqual(expect.objectContaining({ event: "credentials", setting: "APPS", problem: "is not valid JSON" }));
  });

  it("fails only the pushes of an app whose settings cannot be used, and logs which app once", async () => {
    const apps = await twoApps();
    const user = uniqueId("emp");
    const fine = fcmToken();
    const staging = [fcmToken(), fcmToken()];
    expect((await register({ custom_id: user, provider: "fcm", token: fine }, apps.config)).status).toBe(201);
    for (const token of staging) expect((await register({ custom_id: user, provider: "fcm", token, app: "staging" }, apps.config)).status).toBe(201);

    // The secret staging names is gone (deleted, or never put in this environment).
    const { FCM_SERVICE_ACCOUNT_STAGING: _gone, ...withoutSecret } = apps.config;
    const { report } = await runBatch([job([queued({ custom_id: user })])], { providers: providersFor(withoutSecret) }, 1, withoutSecret);
    // A wrong setting loses nothing: the pushes wait for the fix like retries (and raise an alert).
    expect(report.outcomes).toEqual({ sent: 1, retrying: 2 });
    const alarms = logs.errors().filter((l) => l.reason === "provider_misconfigured" && l.app === "staging");
    expect(alarms).toEqual([expect.objectContaining({ provider: "fcm", setting: "FCM_SERVICE_ACCOUNT_STAGING" })]);
    expect(await pushes({ token: staging[0]! })).toEqual([]);

    // APPS itself unusable: the default app's devices are still served.
    const broken = { ...apps.config, APPS: "[]" };
    const second = await runBatch([job([queued({ custom_id: user })])], { providers: providersFor(broken) }, 1, broken);
    expect(second.report.outcomes).toEqual({ sent: 1, retrying: 2 });
  });

  it("shows each app's pushes in its Android notification channel: APPS' android_channel_id, else ANDROID_CHANNEL_ID, else none", async () => {
    const apps = await twoApps();
    const stagingApps = JSON.parse(apps.config.APPS!) as Record<string, Record<string, string>>;
    stagingApps.staging!.android_channel_id = "staging-reminders";
    const user = uniqueId("emp");
    const devices = [
      { provider: "fcm", token: fcmToken() },
      { provider: "fcm", token: fcmToken(), app: "staging" },
      { provider: "expo", token: expoToken() },
      { provider: "expo", token: expoToken(), app: "staging" },
    ];
    const withChannel = { ...apps.config, APPS: JSON.stringify(stagingApps), ANDROID_CHANNEL_ID: "reminders" };
    for (const device of devices) expect((await register({ custom_id: user, ...device }, withChannel)).status).toBe(201);
    const { report } = await runBatch([job([queued({ custom_id: user })])], { providers: providersFor(withChannel) }, 1, withChannel);
    expect(report.outcomes).toEqual({ sent: 4 });
    const [fcm, fcmStaging, expo, expoStaging] = await Promise.all(devices.map((d) => pushes({ token: d.token })));
    const channelOf = (push: { payload: unknown } | undefined) => (push!.payload as { message: { android: { notification: { channel_id?: string } } } }).message.android.notification.channel_id;
    expect([channelOf(fcm![0]), channelOf(fcmStaging![0])]).toEqual(["reminders", "staging-reminders"]);
    expect([(expo![0]!.payload as { channelId?: string }).channelId, (expoStaging![0]!.payload as { channelId?: string }).channelId]).toEqual([
      "reminders",
      "staging-reminders",
    ]);

    // Unset everywhere: no channel field at all (Android's default channel).
    const plain = uniqueId("emp");
    const token = fcmToken();
    expect((await register({ custom_id: plain, provider: "fcm", token }, apps.config)).status).toBe(201);
    await runBatch([job([queued({ custom_id: plain })])], { providers: providersFor(apps.config) }, 1, apps.config);
    expect(channelOf((await pushes({ token }))[0])).toBeUndefined();
  });
});
