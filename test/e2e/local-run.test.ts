/**
 * The local run end to end, as a new user meets it: `npm start` on a fresh
 * checkout (wrangler dev with the real wrangler.toml, local D1 and Queue,
 * stand-in FCM, APNs, Expo and OneSignal), a device registered through the
 * API, `npm run send-example`, and the push arriving at the stand-in with
 * what the phone would show; one event reaching a device of each provider
 * and a OneSignal user; a device registered by the app's own route (a device
 * token minted by the app guide's backend code, and the banner's commands); then
 * real credentials in `.dev.vars` switching a stand-in off, and Ctrl-C
 * leaving nothing behind.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StandinClient } from "../../standins/client.ts";
import type { RecordedPush } from "../../standins/types.ts";
import { learnInkEvent, svixHeaders } from "../../standins/learnink.ts";
import { apnsToken, expoToken, fcmToken, uniqueId } from "../support/ids.ts";
import { type Relay, api, freePort, freshCheckout, removeDir, runCommand, runScript, startRelay } from "./support/local-run.js";

/** The defaults a fresh checkout runs with (.dev.vars.example, wrangler.toml). */
const EXAMPLE_KEY = "local-dev-key";
const WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ORG_ID = "your-org-id";

interface EventAnswer {
  summary: Record<string, number>;
  deliveries: { index: number; device_token: string | null; provider: string | null; status: string; error: string | null }[];
}

const pushesOf = (standinsUrl: string, eventId: string): Promise<RecordedPush[]> =>
  new StandinClient(standinsUrl).pushes({ event_id: eventId });


/** The company backend's device-token module, exactly as docs/app-integration.md shows it. */
async function guideDeviceTokenModule(dir: string): Promise<string> {
  const block = /```js\n(\/\/ device-token\.mjs\n[\s\S]*?)```/.exec(await readFile(join(dir, "docs", "app-integration.md"), "utf8"));
  expect(block, "docs/app-integration.md shows device-token.mjs").not.toBeNull();
  return block![1]!;
}

let checkout: string;
let relay: Relay;
let standinsPort: number;

beforeAll(async () => {
  checkout = await freshCheckout();
  standinsPort = await freePort();
  relay = startRelay(checkout, { port: await freePort(), standinsPort, persistTo: join(checkout, "state") });
  await relay.ready;
}, 90_000);

afterAll(async () => {
  await relay?.stop();
  if (checkout) await removeDir(checkout);
}, 30_000);

describe("npm start on a fresh checkout", () => {
  it("starts the relay on stand-ins and says what to do next", async () => {
    const out = relay.output();
    expect(out).toContain(`LearnInk push relay running at ${relay.url}`);
    expect(out).toMatch(/FCM\s+stand-in at http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/APNs\s+stand-in at http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/Expo\s+stand-in at http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/OneSignal stand-in at http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toContain(`curl -X PUT ${relay.url}/v1/devices`);
    expect(out).toContain("npm run send-example");
    expect(out).toMatch(/applied 0001_devices\.sql/);
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
  });

  it("puts no generated secret on a command line, where ps would show it", async () => {
    const secrets = JSON.parse(await readFile(join(checkout, ".standins", "local-secrets.json"), "utf8")) as Record<string, string>;
    const keys = await readFile(join(checkout, ".standins", "keys.json"), "utf8");
    // This checkout's processes: the dev script, wrangler and workerd (others on the machine are not ours to read).
    const ours = (await runCommand(checkout, "ps", ["-eo", "args"])).stdout.split("\n").filter((line) => line.includes(checkout)).join("\n");
    expect(ours).toContain(`--env-file ${join(checkout, ".standins", "wrangler-dev.env")}`);
    for (const value of Object.values(secrets)) expect(ours).not.toContain(value);
    expect(keys).toContain("PRIVATE KEY");
    expect(ours).not.toContain("PRIVATE KEY");
    expect(ours).not.toContain("--var");
  });

  it("delivers send-example's notification to the stand-in FCM and APNs and records it as sent", async () => {
    const customId = uniqueId("emp");
    const [fcm, apns] = [fcmToken(), apnsToken()];
    expect((await api(relay, EXAMPLE_KEY, "/v1/devices", { method: "PUT", json: { custom_id: customId, provider: "fcm", token: fcm } })).status).toBe(201);
    expect(
      (await api(relay, EXAMPLE_KEY, "/v1/devices", { method: "PUT", json: { custom_id: customId, provider: "apns", token: apns, environment: "sandbox" } }))
        .status,
    ).toBe(201);

    const eventId = uniqueId("msg_e2e");
    const sentAt = Date.now();
    const sent = await runScript(checkout, "send-example", [
      "--url",
      `${relay.url}/webhooks/learnink`,
      "--id",
      eventId,
      "--custom-id",
      customId,
      "--title",
      "Quiz due",
      "--body",
      "Finish the fire safety quiz today",
      "--path",
      "/courses/fire-safety?step=3",
    ]);
    expect(sent.stderr).toBe("");
    expect(sent.code).toBe(0);
    expect(sent.stdout).toContain(`← 200 {"received":true,"event_id":"${eventId}"`);
    expect(sent.stdout).toMatch(/#0 fcm …\S+ sent/);
    expect(sent.stdout).toMatch(/#0 apns …\S+ sent/);
    expect(sent.stdout).toContain("2 sent");

    const pushes = await pushesOf(relay.standinsUrl, eventId);
    const link = `https://m.learn.ink/${ORG_ID}/courses/fire-safety?step=3&webview=true`;
    const expected = { title: "Quiz due", body: "Finish the fire safety quiz today", path: "/courses/fire-safety?step=3", url: link, event_id: eventId };
    expect(pushes.find((p) => p.provider === "fcm")).toMatchObject({ token: fcm, ...expected });
    expect(pushes.find((p) => p.provider === "apns")).toMatchObject({ token: apns, ...expected });
    expect(pushes).toHaveLength(2);
    // The run prints each accepted push as a readable line.
    expect(relay.output()).toMatch(/\[stand-in FCM\].*"Quiz due"/);
    expect(relay.output()).toMatch(/\[stand-in APNs\].*"Quiz due"/);

    const ledger = await api(relay, EXAMPLE_KEY, `/v1/events/${eventId}`);
    expect(ledger.status).toBe(200);
    expect((ledger.body as EventAnswer).summary).toEqual({ sent: 2 });
    const latest = Math.max(...pushes.map((p) => p.received_at));
    console.log(`send-example → push at the stand-ins: ${latest - sentAt} ms (send-example ran ${sent.ms} ms)`);
  }, 30_000);

  it("delivers one event to a device of each provider and to a OneSignal user without a device", async () => {
    const users = { fcm: uniqueId("emp-f"), apns: uniqueId("emp-a"), expo: uniqueId("emp-x"), onesignal: uniqueId("emp-o") };
    const tokens = { fcm: fcmToken(), apns: apnsToken(), expo: expoToken() };
    for (const provider of ["fcm", "apns", "expo"] as const) {
      const device = { custom_id: users[provider], provider, token: tokens[provider], ...(provider === "apns" ? { environment: "sandbox" } : {}) };
      expect((await api(relay, EXAMPLE_KEY, "/v1/devices", { method: "PUT", json: device })).status).toBe(201);
    }
    // The company's OneSignal app knows this user (the app called OneSignal.login with their custom_id).
    const keys = JSON.parse(await readFile(join(checkout, ".standins", "keys.json"), "utf8")) as { onesignal: { appId: string } };
    await new StandinClient(relay.standinsUrl).oneSignalUsers({ app_id: keys.onesignal.appId, external_ids: [users.onesignal], state: "subscribed" });

    const eventId = uniqueId("msg_all");
    const notifications = Object.values(users).map((custom_id) => ({
      title: "Quiz due",
      body: "Finish the fire safety quiz today",
      path: "/courses/fire-safety",
      user_id: uniqueId("li"),
      custom_id,
      phone_number: null,
    }));
    const body = JSON.stringify(learnInkEvent("notifications.sent", { notifications }));
    const posted = await fetch(`${relay.url}/webhooks/learnink`, { method: "POST", headers: svixHeaders(WEBHOOK_SECRET, eventId, body), body });
    expect(posted.status).toBe(200);

    const standins = new StandinClient(relay.standinsUrl);
    const pushes = await standins.waitForMatching({ event_id: eventId }, 4, 20_000);
    expect(pushes.map((p) => [p.provider, p.token]).sort()).toEqual(
      [
        ["apns", tokens.apns],
        ["expo", tokens.expo],
        ["fcm", tokens.fcm],
        ["onesignal", users.onesignal],
      ].sort(),
    );
    let ledger = await api(relay, EXAMPLE_KEY, `/v1/events/${eventId}`);
    for (let i = 0; i < 50 && (ledger.body as EventAnswer).summary.sent !== 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ledger = await api(relay, EXAMPLE_KEY, `/v1/events/${eventId}`);
    }
    expect((ledger.body as EventAnswer).deliveries.map((d) => [d.provider, d.status]).sort()).toEqual([
      ["apns", "sent"],
      ["expo", "sent"],
      ["fcm", "sent"],
      ["onesignal", "sent"],
    ]);
  }, 30_000);

  it("registers a device with a device token minted as docs/app-integration.md shows, and a signed webhook then reaches it", async () => {
    expect(relay.output()).toContain("RELAY_REGISTER_KEY and DEVICE_TOKEN_SECRET from .standins/local-secrets.json, generated for this checkout");
    const secrets = JSON.parse(await readFile(join(checkout, ".standins", "local-secrets.json"), "utf8")) as Record<string, string>;
    expect(Buffer.byteLength(secrets.DEVICE_TOKEN_SECRET!)).toBeGreaterThanOrEqual(32);
    expect(relay.output()).not.toContain(secrets.DEVICE_TOKEN_SECRET);

    // The company backend: the app guide's module, run by Node with the relay's secret in its environment.
    const backend = join(checkout, "backend");
    await mkdir(backend, { recursive: true });
    await writeFile(join(backend, "device-token.mjs"), await guideDeviceTokenModule(checkout));
    const customId = uniqueId("emp-app");
    const minted = await runCommand(
      backend,
      process.execPath,
      ["--input-type=module", "-e", 'import { deviceToken } from "./device-token.mjs"; console.log(await deviceToken({ customId: process.env.CUSTOM_ID }));'],
      { DEVICE_TOKEN_SECRET: secrets.DEVICE_TOKEN_SECRET!, CUSTOM_ID: customId },
    );
    expect(minted.stderr).toBe("");
    const deviceToken = minted.stdout.trim();
    expect(deviceToken).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);

    // The app registers its push token with it, naming no user.
    const phone = fcmToken();
    const registered = await api(relay, deviceToken, "/v1/devices", { method: "PUT", json: { provider: "fcm", token: phone, platform: "android" } });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ device: { token: phone, custom_id: customId, user_id: null } });

    // Neither the device token nor the register key reads anything.
    for (const credential of [deviceToken, secrets.RELAY_REGISTER_KEY!]) {
      for (const path of [`/v1/users/${customId}/devices`, `/v1/users/${customId}/deliveries`, "/v1/stats"]) {
        const read = await api(relay, credential, path);
        expect(read.status).toBe(403);
        expect(read.body).toMatchObject({ error: { code: "forbidden" } });
      }
    }

    // LearnInk's signed webhook reaches the phone.
    const eventId = uniqueId("msg_app");
    const sent = await runScript(checkout, "send-example", ["--url", relay.url, "--id", eventId, "--custom-id", customId]);
    expect(sent.stderr).toBe("");
    expect(sent.stdout).toMatch(/#0 fcm …\S+ sent/);
    expect(await pushesOf(relay.standinsUrl, eventId)).toMatchObject([{ provider: "fcm", token: phone, event_id: eventId }]);
  }, 30_000);

  it("prints a settings check that works as printed (every stand-in accepts the settings), and how to try opens and quiet hours", async () => {
    const line = relay.output().split("\n").find((l) => l.includes("/v1/check"))!.trim();
    const ran = await runCommand(checkout, "sh", ["-c", line]);
    expect(ran.code, ran.stderr).toBe(0);
    const report = JSON.parse(ran.stdout) as { ok: boolean; checks: { provider: string; ok: boolean }[] };
    expect(report.ok, ran.stdout).toBe(true);
    expect(report.checks.map((c) => c.provider)).toEqual(expect.arrayContaining(["fcm", "apns", "onesignal"]));
    expect(relay.output()).toContain(`${relay.url}/v1/opens`);
    expect(relay.output()).toContain("QUIET_HOURS=21:00-07:30");
  }, 30_000);

  it("prints shell lines that mint a device token and register with it, which work as printed", async () => {
    const lines = relay.output().split("\n");
    const start = lines.findIndex((line) => line.trim().startsWith("TOKEN=$(curl"));
    const end = lines.findIndex((line, i) => i > start && line.includes("2. send an example"));
    expect(start).toBeGreaterThan(0);
    const script = lines.slice(start, end).map((line) => line.replace(/^ {5}/, "")).join("\n");
    const ran = await runCommand(checkout, "sh", ["-c", script]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/"custom_id":"emp-1001"/);
    const listed = await api(relay, EXAMPLE_KEY, "/v1/users/emp-1001/devices");
    expect(listed.body).toMatchObject({ devices: [{ token: "example-fcm-token:APA91b-local-device-0001", custom_id: "emp-1001" }] });
  }, 30_000);

  it("reports no_device for a user without a registered device", async () => {
    const eventId = uniqueId("msg_nodevice");
    const sent = await runScript(checkout, "send-example", ["--url", relay.url, "--id", eventId, "--custom-id", uniqueId("nobody")]);
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(/#0 custom_id nobody_\S+: no_device/);
    expect(sent.stdout).toContain("curl -X PUT");
    const ledger = await api(relay, EXAMPLE_KEY, `/v1/events/${eventId}`);
    expect((ledger.body as EventAnswer).summary).toEqual({ no_device: 1 });
  }, 30_000);

  it("finds the relay npm start runs, on its port; a repeated svix-id sends nothing; --answer scripts a failure", async () => {
    const customId = uniqueId("emp-local");
    expect((await api(relay, EXAMPLE_KEY, "/v1/devices", { method: "PUT", json: { custom_id: customId, provider: "fcm", token: fcmToken() } })).status).toBe(201);
    const eventId = uniqueId("msg_repeat");
    // No --url: the relay is not on the default port, and send-example finds it all the same.
    const first = await runScript(checkout, "send-example", ["--id", eventId, "--custom-id", customId]);
    expect(first.stdout).toContain(`POST ${relay.url}/webhooks/learnink`);
    expect(first.stdout).toMatch(/Settled .* after sending: 1 sent\./);
    const again = await runScript(checkout, "send-example", ["--id", eventId, "--custom-id", customId]);
    expect(again.stdout).toContain(`Already delivered, nothing sent: svix-id ${eventId} was received before (1 sent)`);
    expect(await pushesOf(relay.standinsUrl, eventId)).toHaveLength(1);
    const failing = await runScript(checkout, "send-example", ["--custom-id", customId, "--answer", "invalid_argument"]);
    expect(failing.stdout).toMatch(/#0 fcm …\S+ failed \(INVALID_ARGUMENT/);
  }, 60_000);

  it("explains a 401 when the secret is not the relay's", async () => {
    const sent = await runScript(checkout, "send-example", ["--url", relay.url, "--secret", `whsec_${Buffer.from("not-the-relay-secret-32-bytes!!!").toString("base64")}`]);
    expect(sent.code).toBe(1);
    expect(sent.stdout).toMatch(/← 401 .*invalid_signature/);
    expect(sent.stderr).toContain("refused the signature");
  }, 30_000);

  it("says the relay is not running when nothing listens", async () => {
    const sent = await runScript(checkout, "send-example", ["--url", `http://127.0.0.1:${await freePort()}`]);
    expect(sent.code).toBe(1);
    expect(sent.stderr).toMatch(/is the relay running\? Start it with `npm start`/);
  });

  it("stops the relay, workerd and the stand-ins on Ctrl-C", async () => {
    expect(await relay.stop()).toBe(0);
    expect(relay.output()).toContain("Stopped.");
    // Neither the env file nor the relay's address outlives it.
    await expect(readFile(join(checkout, ".standins", "wrangler-dev.env"))).rejects.toThrow();
    await expect(readFile(join(checkout, ".wrangler", "local-relay.json"))).rejects.toThrow();
    await expect(fetch(`${relay.url}/healthz`)).rejects.toThrow();
    await expect(fetch(`${relay.standinsUrl}/__standin/stats`)).rejects.toThrow();
  }, 30_000);
});

describe("real credentials in .dev.vars", () => {
  let second: Relay | undefined;
  afterAll(async () => {
    await second?.stop();
  }, 30_000);

  it("switch that provider's stand-in off and are read verbatim", async () => {
    // The "real" service account is the stand-in's own, at a known address,
    // so this run can still be checked offline: what matters is that the
    // relay takes it from .dev.vars and no longer from the stand-in config.
    const keys = JSON.parse(await readFile(join(checkout, ".standins", "keys.json"), "utf8")) as {
      serviceAccount: { project_id: string; client_email: string; private_key: string; private_key_id: string };
    };
    const standins = `http://127.0.0.1:${standinsPort}`;
    const account = { type: "service_account", ...keys.serviceAccount, token_uri: `${standins}/token` };
    const secret = `whsec_${Buffer.from("e2e-secret-with-32-bytes-exactly").toString("base64")}`;
    const apiKey = "e2e-key-$NOT_EXPANDED";
    await writeFile(
      join(checkout, ".dev.vars"),
      [
        `LEARNINK_WEBHOOK_SECRET="${secret}"`,
        `RELAY_API_KEY="${apiKey}"`,
        // The service account as the README says to paste it: one line, single quotes.
        `FCM_SERVICE_ACCOUNT='${JSON.stringify(account)}'`,
        `FCM_API_BASE="${standins}"`,
        "",
      ].join("\n"),
    );

    second = startRelay(checkout, { port: await freePort(), standinsPort, persistTo: join(checkout, "state") });
    await second.ready;
    expect(second.output()).toMatch(/FCM\s+real: FCM_SERVICE_ACCOUNT from \.dev\.vars/);
    expect(second.output()).toMatch(/APNs\s+stand-in/);
    expect(second.output()).toContain("Bearer RELAY_API_KEY from .dev.vars");
    expect(second.output()).not.toContain(apiKey);

    const customId = uniqueId("emp-real");
    const token = fcmToken();
    expect((await api(second, apiKey, "/v1/devices", { method: "PUT", json: { custom_id: customId, provider: "fcm", token } })).status).toBe(201);
    const eventId = uniqueId("msg_real");
    const sent = await runScript(checkout, "send-example", ["--url", second.url, "--id", eventId, "--custom-id", customId]);
    expect(sent.stderr).toBe("");
    expect(sent.stdout).toContain("signed with the secret from .dev.vars");
    expect(sent.stdout).toMatch(/#0 fcm …\S+ sent/);
    expect(await pushesOf(standins, eventId)).toMatchObject([{ provider: "fcm", token, event_id: eventId }]);
    expect(await second.stop()).toBe(0);
  }, 90_000);
});
