/**
 * The Huawei Push Kit provider against its stand-in, which checks what
 * Huawei checks: the client-credentials grant, a bearer token minted for
 * the App ID in the path, the message shape and the token list. Every test
 * registers its own Huawei app, so the stand-in's counters are its own.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { createIsolateMemory } from "../../../src/push/credential-cache";
import type { PushMessage } from "../../../src/push/provider";
import { createProviders } from "../../../src/push/providers";
import { hex, hmsToken } from "../../support/ids";
import { captureLogs } from "../../support/logs";
import { pushMessage } from "../../support/push";
import { freshHmsApp, requests, script, stats, waitForPushes } from "../../support/standins";

let logs = captureLogs();
afterEach(() => {
  logs.stop();
  logs = captureLogs();
});

const message = (overrides: Partial<PushMessage> = {}) => pushMessage({ token: hmsToken(), event_id: `msg_${hex(8)}`, ...overrides });

/** Providers as one isolate sees them: its own memory, the shared D1, the real clock and fetch. */
const isolate = (config: Partial<Env>) => createProviders({ ...env, ...config }, {}, createIsolateMemory());

describe("HMS against the stand-in", () => {
  it("mints an access token with the client-credentials grant and sends the message Push Kit checks", async () => {
    const app = await freshHmsApp();
    const sent = message();
    expect(await isolate(app.config).hms.send(sent)).toMatchObject({ kind: "sent", id: expect.any(String) });
    const [push] = await waitForPushes({ token: sent.token }, 1);
    expect(push).toMatchObject({ provider: "hms", title: sent.title, body: sent.body, path: sent.path, url: sent.url, event_id: sent.event_id });
    expect(push!.payload).toMatchObject({
      data: JSON.stringify({ path: sent.path, url: sent.url, event_id: sent.event_id, index: String(sent.index) }),
      android: { ttl: "86400s", notification: { title: sent.title, body: sent.body, click_action: { type: 3 } } },
    });
    expect(await stats({ app_id: app.appId })).toMatchObject({ hms_token_requests: 1, hms_pushes: 1, hms_requests: 1 });
  });

  it("sends a user's two phones in one request and reuses the access token", async () => {
    const app = await freshHmsApp();
    const providers = isolate(app.config);
    const first = message();
    const second = { ...first, token: hmsToken() };
    expect(await providers.hms.sendBatch!([first, second])).toEqual([
      { kind: "sent", id: expect.any(String) },
      { kind: "sent", id: expect.any(String) },
    ]);
    await providers.hms.send(message());
    expect(await stats({ app_id: app.appId })).toMatchObject({ hms_token_requests: 1, hms_pushes: 3, hms_requests: 2 });
  });

  it("partial success: the illegal token is dead, the other sent", async () => {
    const app = await freshHmsApp();
    const [good, dead] = [message(), message()];
    await script(dead.token, [{ preset: "hms_illegal_token" }]);
    const results = await isolate(app.config).hms.sendBatch!([good, { ...good, token: dead.token }]);
    expect(results).toEqual([
      { kind: "sent", id: expect.any(String) },
      { kind: "invalid_token", reason: "80100000" },
    ]);
  });

  it("all tokens invalid (80300007): every token dead", async () => {
    const app = await freshHmsApp();
    const sent = message();
    await script(sent.token, [{ preset: "hms_illegal_token" }]);
    expect(await isolate(app.config).hms.send(sent)).toMatchObject({ kind: "invalid_token", reason: "80300007" });
  });

  it("flow control (503) is retried after Retry-After", async () => {
    const app = await freshHmsApp();
    const sent = message();
    await script(sent.token, [{ preset: "hms_flow_control", retryAfter: 20 }]);
    expect(await isolate(app.config).hms.send(sent)).toEqual({ kind: "retry", reason: "http_503", retryAfter: 20 });
  });

  it("a refused access token is minted again once and the push sent", async () => {
    const app = await freshHmsApp();
    const sent = message();
    await script(sent.token, [{ preset: "hms_oauth_error" }]);
    expect(await isolate(app.config).hms.send(sent)).toMatchObject({ kind: "sent" });
    expect((await requests(sent.token)).map((r) => [r.status, r.reason])).toEqual([
      [401, "80200001"],
      [200, null],
    ]);
    expect(await stats({ app_id: app.appId })).toMatchObject({ hms_token_requests: 2 });
  });

  it("refused twice: a setting to fix (misconfigured 80200001), then held without the network", async () => {
    const app = await freshHmsApp();
    const sent = message();
    await script(sent.token, [{ preset: "hms_oauth_error" }, { preset: "hms_oauth_error" }]);
    const providers = isolate(app.config);
    expect(await providers.hms.send(sent)).toEqual({ kind: "misconfigured", reason: "80200001" });
    expect(await providers.hms.send(sent)).toEqual({ kind: "retry", reason: "credentials_rejected", retryAfter: 60 });
    expect(await requests(sent.token)).toHaveLength(2);
    expect(logs.errors()).toContainEqual(expect.objectContaining({ event: "credentials", provider: "hms", reason: "credentials_rejected" }));
  });

  it("an App ID with another app's secret is refused at the token endpoint: a setting to fix", async () => {
    const [app, other] = await Promise.all([freshHmsApp(), freshHmsApp()]);
    const result = await isolate({ ...app.config, HMS_APP_ID: other.appId }).hms.send(message());
    expect(result).toMatchObject({ kind: "misconfigured", reason: "HMS_APP_SECRET" });
  });

  it("a wrong App Secret is a setting to fix, with Huawei's words and without the secret", async () => {
    const app = await freshHmsApp();
    const result = await isolate({ ...app.config, HMS_APP_SECRET: "not-the-secret" }).hms.send(message());
    expect(result).toEqual({ kind: "misconfigured", reason: "HMS_APP_SECRET", detail: "invalid client" });
    for (const line of logs.raw) expect(line).not.toContain("not-the-secret");
  });

  it("half a configuration names the missing setting; none at all is provider_not_configured", async () => {
    const app = await freshHmsApp();
    expect(await isolate({ ...app.config, HMS_APP_SECRET: "" }).hms.send(message())).toEqual({ kind: "misconfigured", reason: "HMS_APP_SECRET" });
    expect(await isolate({ ...app.config, HMS_APP_ID: "", HMS_APP_SECRET: "" }).hms.send(message())).toEqual({
      kind: "failed",
      reason: "provider_not_configured",
    });
  });

  it("an app's own Huawei app through APPS (hms_app_id, hms_app_secret_secret)", async () => {
    const [main, staging] = await Promise.all([freshHmsApp(), freshHmsApp()]);
    const config = {
      ...main.config,
      APPS: JSON.stringify({ staging: { hms_app_id: staging.appId, hms_app_secret_secret: "HMS_APP_SECRET_STAGING" } }),
      HMS_APP_SECRET_STAGING: staging.appSecret,
    };
    expect(await isolate(config).hms.send(message({ app: "staging" }))).toMatchObject({ kind: "sent" });
    expect(await stats({ app_id: staging.appId })).toMatchObject({ hms_pushes: 1 });
    expect(await stats({ app_id: main.appId })).toMatchObject({ hms_pushes: 0 });
  });
});
