import { afterEach, describe, expect, it } from "vitest";
import { createIsolateMemory } from "../../src/push/credential-cache";
import { createProviders } from "../../src/push/providers";
import { captureLogs } from "../support/logs";
import { apnsKey, pushMessage, scriptedFetch, serviceAccount, settings } from "../support/push";

let logs = captureLogs();
afterEach(() => {
  logs.stop();
  logs = captureLogs();
});

/** Providers over `overrides` with a network that must not be used. */
function providersWith(overrides: Partial<Env>) {
  const network = scriptedFetch(() => {
    throw new Error("no request expected");
  });
  return { calls: network.calls, providers: createProviders(settings(overrides), { fetch: network.fetch }, createIsolateMemory()) };
}

describe("createProviders: settings", () => {
  it("fails both providers with provider_not_configured, without any request, when credentials are missing", async () => {
    const { calls, providers } = providersWith({ FCM_SERVICE_ACCOUNT: undefined, APNS_KEY: "  " } as unknown as Partial<Env>);
    expect(providers.fcm.name).toBe("fcm");
    expect(providers.apns.name).toBe("apns");
    expect(await providers.fcm.send(pushMessage())).toEqual({ kind: "failed", reason: "provider_not_configured" });
    expect(await providers.apns.send(pushMessage())).toEqual({ kind: "failed", reason: "provider_not_configured" });
    expect(calls).toHaveLength(0);
  });

  it.each([
    { name: "not JSON", value: "{ this is not json" },
    { name: "missing client_email", value: JSON.stringify({ project_id: "p", private_key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" }) },
    { name: "a private key that is not PEM", value: JSON.stringify({ project_id: "p", client_email: "a@b", private_key: "s3cr3t-not-a-key" }) },
  ])("FCM_SERVICE_ACCOUNT $name: misconfigured, an error naming the setting, never its value", async ({ value }) => {
    const { calls, providers } = providersWith({ FCM_SERVICE_ACCOUNT: value });
    expect(await providers.fcm.send(pushMessage())).toEqual({ kind: "misconfigured", reason: "FCM_SERVICE_ACCOUNT" });
    expect(calls).toHaveLength(0);
    expect(logs.errors()).toContainEqual(
      expect.objectContaining({ event: "credentials", provider: "fcm", reason: "provider_misconfigured", setting: "FCM_SERVICE_ACCOUNT" }),
    );
    for (const line of logs.raw) {
      expect(line).not.toContain(value);
      expect(line).not.toContain("s3cr3t");
    }
  });

  it("APNS_KEY that is not a PEM key: misconfigured naming APNS_KEY", async () => {
    const { calls, providers } = providersWith({ APNS_KEY: "s3cr3t-not-a-key", APNS_KEY_ID: "ABC123DEFG", APNS_TEAM_ID: "TEAM123456" });
    expect(await providers.apns.send(pushMessage())).toEqual({ kind: "misconfigured", reason: "APNS_KEY" });
    expect(calls).toHaveLength(0);
    expect(logs.errors()).toContainEqual(expect.objectContaining({ event: "credentials", provider: "apns", setting: "APNS_KEY" }));
    for (const line of logs.raw) expect(line).not.toContain("s3cr3t");
  });

  it("APNS_KEY without its key id: misconfigured naming APNS_KEY_ID", async () => {
    const key = await apnsKey();
    const { providers } = providersWith({ APNS_KEY: key.pem, APNS_KEY_ID: "", APNS_TEAM_ID: key.teamId });
    expect(await providers.apns.send(pushMessage())).toEqual({ kind: "misconfigured", reason: "APNS_KEY_ID" });
    expect(logs.errors()).toContainEqual(expect.objectContaining({ setting: "APNS_KEY_ID" }));
  });

  it("reports a broken setting once per isolate, not once per send", async () => {
    const value = `{"broken": ${crypto.randomUUID()}`;
    const { providers } = providersWith({ FCM_SERVICE_ACCOUNT: value });
    for (let i = 0; i < 3; i++) await providers.fcm.send(pushMessage());
    expect(logs.errors().filter((l) => l.reason === "provider_misconfigured")).toHaveLength(1);
  });

  it("accepts a PEM whose line breaks arrived as literal \\n", async () => {
    const sa = await serviceAccount();
    const fields = JSON.parse(sa.json);
    const flattened = JSON.stringify({ ...fields, private_key: fields.private_key.replace(/\n/g, "\\n") });
    const network = scriptedFetch((call) =>
      call.url.endsWith("/token")
        ? new Response(JSON.stringify({ access_token: "ya29.x", expires_in: 3600 }), { status: 200 })
        : new Response(JSON.stringify({ name: "n" }), { status: 200 }),
    );
    const providers = createProviders(settings({ FCM_SERVICE_ACCOUNT: flattened }), { fetch: network.fetch }, createIsolateMemory());
    expect(await providers.fcm.send(pushMessage())).toEqual({ kind: "sent", id: "n" });
  });
});
