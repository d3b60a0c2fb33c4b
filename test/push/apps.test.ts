/**
 * APPS: which values are usable, and what each app's settings come to
 * (its overrides over the default app's, secrets looked up by name).
 */
import { describe, expect, it } from "vitest";
import { parseApps as parseAppsWith } from "../../src/push/apps";
import { APP_OVERRIDES, appSettings } from "../../src/push/providers";

const parseApps = (source: string | undefined) => parseAppsWith(source, APP_OVERRIDES);

describe("parseApps", () => {
  it.each([
    ["unset", undefined],
    ["empty", ""],
    ["blank", "  \n"],
  ])("reads %s as no apps besides default", (_label, source) => {
    expect(parseApps(source)).toEqual({ kind: "ok", apps: new Map() });
  });

  it("reads each app's overrides", () => {
    const config = parseApps(
      JSON.stringify({
        staging: { apns_topic: "com.example.app.dev", apns_key_secret: "APNS_KEY_STAGING", fcm_service_account_secret: "FCM_SA_STAGING" },
        "client-b": { expo_access_token_secret: "EXPO_ACCESS_TOKEN_B", apns_key_id: "ABC123DEFG", apns_team_id: "TEAM123456" },
      }),
    );
    expect(config).toEqual({
      kind: "ok",
      apps: new Map([
        ["staging", { apns_topic: "com.example.app.dev", apns_key_secret: "APNS_KEY_STAGING", fcm_service_account_secret: "FCM_SA_STAGING" }],
        ["client-b", { expo_access_token_secret: "EXPO_ACCESS_TOKEN_B", apns_key_id: "ABC123DEFG", apns_team_id: "TEAM123456" }],
      ]),
    });
  });

  it.each([
    ["not JSON", "{staging: {}}", "is not valid JSON"],
    ["a list", '["staging"]', "must be a JSON object"],
    ["the default app", '{"default": {"apns_topic": "x"}}', 'names "default"'],
    ["an app name with spaces", '{"my app": {}}', 'app name "my app"'],
    ["an upper-case app name", '{"Staging": {}}', 'app name "Staging"'],
    ["an app that is not an object", '{"staging": "com.example"}', "staging must be an object"],
    ["an unknown setting", '{"staging": {"apns_topik": "x"}}', "staging.apns_topik is not a setting"],
    ["an empty value", '{"staging": {"apns_topic": ""}}', "staging.apns_topic must be a non-empty string"],
    ["a number", '{"staging": {"apns_key_id": 123}}', "staging.apns_key_id must be a non-empty string"],
    ["a key pasted where its secret's name belongs", '{"staging": {"apns_key_secret": "-----BEGIN PRIVATE KEY-----"}}', "must name a Worker secret"],
  ])("refuses %s", (_label, source, problem) => {
    const config = parseApps(source);
    expect(config.kind).toBe("invalid");
    expect(config.kind === "invalid" && config.problem).toContain(problem);
  });
});

describe("appSettings", () => {
  const env = {
    APNS_KEY: "default-pem",
    APNS_KEY_ID: "DEFAULTKID",
    APNS_TEAM_ID: "TEAM000000",
    APNS_TOPIC: "com.example.app",
    FCM_SERVICE_ACCOUNT: "default-account",
    APNS_KEY_STAGING: "staging-pem",
    MAX_SUBREQUESTS: "10000",
    APPS: JSON.stringify({
      staging: { apns_topic: "com.example.app.dev", apns_key_secret: "APNS_KEY_STAGING", apns_key_id: "STAGINGKID" },
      broken: { fcm_service_account_secret: "FCM_SERVICE_ACCOUNT_BROKEN" },
    }),
  };

  it("gives the default app the plain settings", () => {
    expect(appSettings(env, "default")).toMatchObject({ kind: "ok", values: { APNS_TOPIC: "com.example.app", APNS_KEY: "default-pem" }, missing: {} });
  });

  it("gives an app its overrides, secrets by name, and the default app's settings for the rest", () => {
    expect(appSettings(env, "staging")).toMatchObject({
      kind: "ok",
      values: {
        APNS_TOPIC: "com.example.app.dev",
        APNS_KEY: "staging-pem",
        APNS_KEY_ID: "STAGINGKID",
        APNS_TEAM_ID: "TEAM000000",
        FCM_SERVICE_ACCOUNT: "default-account",
      },
      missing: {},
    });
  });

  it("names a secret an app points at that is not set, and never falls back to the default app's", () => {
    const settings = appSettings(env, "broken");
    expect(settings).toMatchObject({ kind: "ok", missing: { FCM_SERVICE_ACCOUNT: "FCM_SERVICE_ACCOUNT_BROKEN" } });
    // The default account stays in `values`, but `missing` stops the provider from using it for this app.
    expect(settings.kind === "ok" && settings.missing.FCM_SERVICE_ACCOUNT).toBeTruthy();
  });

  it("has no settings for an app APPS does not list, or for any app while APPS is unusable", () => {
    expect(appSettings(env, "retired")).toEqual({ kind: "unavailable", setting: 'APPS (no app "retired")' });
    expect(appSettings({ ...env, APPS: "{not json" }, "staging")).toEqual({ kind: "unavailable", setting: "APPS" });
    expect(appSettings({ ...env, APPS: "{not json" }, "default")).toMatchObject({ kind: "ok" });
  });
});
