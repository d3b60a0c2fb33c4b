/**
 * Huawei Push Kit through the whole relay: a device registered with
 * provider "hms", a signed webhook delivered to the stand-in, and what each
 * Push Kit answer does to deliveries and devices through the consumer
 * (dead tokens through the pruning brake, a refused access token as a
 * setting to fix with its alert, flow control as a retry).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createIsolateMemory } from "../../src/push/credential-cache";
import { createProviders } from "../../src/push/providers";
import { alertOf, eventDeliveries, job, queued, registerDevice, runBatch, seedDevices } from "../support/delivery";
import { hmsToken, uniqueId } from "../support/ids";
import { failRate, freshHmsApp, script, waitForPushes } from "../support/standins";
import { api, eventually, notification, notificationsSent, postWebhook } from "../support/webhook";

async function devices(tokens: readonly string[]) {
  const { results } = await env.DB.prepare("SELECT token, quarantined_at IS NOT NULL AS held FROM devices WHERE token IN (SELECT value FROM json_each(?1))")
    .bind(JSON.stringify(tokens))
    .all<{ token: string; held: number }>();
  return { kept: results.length, quarantined: results.filter((r) => r.held).length };
}

/** `count` users with a Huawei phone each, in an app of their own whose Huawei app is the test's. */
async function hmsFleet(count: number) {
  const app = uniqueId("app");
  const huawei = await freshHmsApp();
  const prefix = `IQAAAACy0${uniqueId("fleet")}`;
  const users = Array.from({ length: count }, (_, i) => ({ custom_id: uniqueId("emp"), token: `${prefix}-${i}-${"Q".repeat(64)}` }));
  await seedDevices(users.map((u) => ({ ...u, provider: "hms" as const, user_id: null, app })));
  const config = {
    ...huawei.config,
    HMS_APP_SECRET_TEST: huawei.appSecret,
    APPS: JSON.stringify({ [app]: { hms_app_id: huawei.appId, hms_app_secret_secret: "HMS_APP_SECRET_TEST" } }),
  };
  const providers = createProviders({ ...env, ...config } as Env, {}, createIsolateMemory());
  const jobs = [];
  for (let i = 0; i < count; i += 50) jobs.push(job(users.slice(i, i + 50).map((u, k) => queued({ i: k, custom_id: u.custom_id }))));
  return { app, huawei, prefix, tokens: users.map((u) => u.token), jobs, providers, envOverrides: config as Partial<Env> };
}

describe("Huawei devices", () => {
  it("registers a device with provider hms (android by default) and refuses a token that cannot be one", async () => {
    const token = hmsToken();
    const employee = uniqueId("emp");
    const created = await api("/v1/devices", { method: "PUT", json: { provider: "hms", token, custom_id: employee } });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ device: { provider: "hms", platform: "android" } });
    const refused = await api("/v1/devices", { method: "PUT", json: { provider: "hms", token: "has spaces in it and is long enough to pass", custom_id: employee } });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { field: "token" } });
  });
});

describe("Huawei end to end", () => {
  it("delivers a signed webhook to the Push Kit stand-in with the text, the tap data and the index", async () => {
    const employee = uniqueId("emp");
    const token = hmsToken();
    await registerDevice({ provider: "hms", token, custom_id: employee });
    const eventId = uniqueId("msg");
    const response = await postWebhook(
      notificationsSent([notification({ custom_id: uniqueId("nobody") }), notification({ custom_id: employee, title: "Fire safety", body: "Due tomorrow", path: "/courses/fire" })]),
      { id: eventId },
    );
    expect(response.status).toBe(200);
    const [push] = await waitForPushes({ event_id: eventId, provider: "hms" }, 1, 15_000);
    expect(push).toMatchObject({ token, title: "Fire safety", body: "Due tomorrow", path: "/courses/fire", url: "https://m.learn.ink/acme/courses/fire?webview=true" });
    expect(JSON.parse((push!.payload as { data: string }).data)).toEqual({ path: "/courses/fire", url: "https://m.learn.ink/acme/courses/fire?webview=true", event_id: eventId, index: "1" });
    const recorded = await eventually(() => eventDeliveries(eventId), (r) => r?.summary.sent === 1);
    expect(recorded!.deliveries.find((d) => d.device_token === token)).toMatchObject({ provider: "hms", status: "sent" });
  });
});

describe("Huawei answers through the consumer", () => {
  it("a dead token (partial or all invalid) goes, a throttled one waits, the rest are sent", async () => {
    const fleet = await hmsFleet(4);
    await script(fleet.tokens[0]!, [{ preset: "hms_illegal_token" }]);
    await script(fleet.tokens[1]!, [{ preset: "hms_flow_control", retryAfter: 30 }]);
    const { report } = await runBatch(fleet.jobs, { providers: fleet.providers }, 1, fleet.envOverrides);
    expect(report.outcomes).toEqual({ invalid_token: 1, retrying: 1, sent: 2 });
    expect(await devices(fleet.tokens)).toEqual({ kept: 3, quarantined: 0 });
    const errors = new Map((await eventDeliveries(fleet.jobs[0]!.event_id))!.deliveries.map((d) => [d.device_token, d.error]));
    expect(fleet.tokens.map((t) => errors.get(t))).toEqual(["80300007", "http_503", null, null]);
  });

  it("holds a burst of dead tokens with the pruning brake: quarantined, alerted, not deleted", async () => {
    const fleet = await hmsFleet(120);
    await failRate({ rate: 1, preset: "hms_illegal_token", token_prefix: fleet.prefix });
    await runBatch(fleet.jobs, { providers: fleet.providers }, 1, fleet.envOverrides);
    await failRate({ rate: 0, token_prefix: fleet.prefix });
    expect(await devices(fleet.tokens)).toEqual({ kept: 120, quarantined: 120 });
    expect(await alertOf("pruning_brake", "hms", fleet.app)).toMatchObject({ count: 120 });
  });

  it("an access token refused twice is a setting to fix: nothing deleted, the delivery waits, the alert says what to check", async () => {
    const fleet = await hmsFleet(1);
    await script(fleet.tokens[0]!, [{ preset: "hms_oauth_error" }, { preset: "hms_oauth_error" }]);
    const { report } = await runBatch(fleet.jobs, { providers: fleet.providers }, 1, fleet.envOverrides);
    expect(report.outcomes).toEqual({ retrying: 1 });
    expect(await devices(fleet.tokens)).toEqual({ kept: 1, quarantined: 0 });
    expect(await alertOf("provider_misconfigured", "hms", fleet.app, "80200001")).toMatchObject({ check: expect.stringContaining("HMS_APP_ID") });
  });
});
