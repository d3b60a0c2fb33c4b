/**
 * Several apps on one relay: a staging and a production build, a white-label
 * app per client. Every device belongs to an app (`default` unless it says
 * otherwise); `APPS`, a JSON var, names the other apps and what each
 * overrides of the default app's provider settings:
 *
 *   {"staging": {"apns_topic": "com.example.app.dev",
 *                "apns_key_secret": "APNS_KEY_STAGING",
 *                "fcm_service_account_secret": "FCM_SERVICE_ACCOUNT_STAGING"}}
 *
 * Secrets are named, never inlined: `*_secret` holds the name of a Worker
 * secret. What an app leaves out it takes from the default app. `APPS` is
 * parsed once per isolate (per text); a value that cannot be used is logged
 * once and leaves only the default app, whose devices are untouched by it.
 */
import { log } from "../log";

/** The app of a device registered without one. */
export const DEFAULT_APP = "default";

/** App names: short, URL- and log-safe (they appear in the API, the ledger and alerts). */
const APP_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Worker secret names, as `wrangler secret put` takes them. */
const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The provider settings an app may override, and whether the override is a value or the name of a secret. */
export const APP_OVERRIDES = {
  apns_topic: { setting: "APNS_TOPIC", secret: false },
  apns_key_id: { setting: "APNS_KEY_ID", secret: false },
  apns_team_id: { setting: "APNS_TEAM_ID", secret: false },
  apns_key_secret: { setting: "APNS_KEY", secret: true },
  fcm_service_account_secret: { setting: "FCM_SERVICE_ACCOUNT", secret: true },
  expo_access_token_secret: { setting: "EXPO_ACCESS_TOKEN", secret: true },
  android_channel_id: { setting: "ANDROID_CHANNEL_ID", secret: false },
} as const;

export type AppOverride = keyof typeof APP_OVERRIDES;
/** A setting an app can override (APNS_TOPIC, FCM_SERVICE_ACCOUNT, ...). */
export type AppSetting = (typeof APP_OVERRIDES)[AppOverride]["setting"];

export type AppsConfig =
  | { kind: "ok"; apps: ReadonlyMap<string, Partial<Record<AppOverride, string>>> }
  | { kind: "invalid"; problem: string };

/** Why `APPS` cannot be used, or its apps. Pure: the caller logs. */
export function parseApps(source: string | undefined): AppsConfig {
  const text = source?.trim() ?? "";
  if (text === "") return { kind: "ok", apps: new Map() };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: "invalid", problem: "is not valid JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { kind: "invalid", problem: "must be a JSON object of app names" };
  const apps = new Map<string, Partial<Record<AppOverride, string>>>();
  for (const [name, overrides] of Object.entries(value)) {
    if (name === DEFAULT_APP) return { kind: "invalid", problem: `names "${DEFAULT_APP}": its settings are the plain variables, not an entry` };
    if (!APP_NAME.test(name)) return { kind: "invalid", problem: `app name "${name.slice(0, 64)}" must be 1 to 64 of a-z, 0-9, ".", "_", "-"` };
    if (typeof overrides !== "object" || overrides === null || Array.isArray(overrides)) {
      return { kind: "invalid", problem: `${name} must be an object of settings` };
    }
    const app: Partial<Record<AppOverride, string>> = {};
    for (const [key, setting] of Object.entries(overrides as Record<string, unknown>)) {
      if (!Object.hasOwn(APP_OVERRIDES, key)) {
        return { kind: "invalid", problem: `${name}.${key} is not a setting an app can override (${Object.keys(APP_OVERRIDES).join(", ")})` };
      }
      if (typeof setting !== "string" || setting.trim() === "") return { kind: "invalid", problem: `${name}.${key} must be a non-empty string` };
      if (APP_OVERRIDES[key as AppOverride].secret && !SECRET_NAME.test(setting)) {
        return { kind: "invalid", problem: `${name}.${key} must name a Worker secret (e.g. APNS_KEY_STAGING), not hold the value` };
      }
      app[key as AppOverride] = setting.trim();
    }
    apps.set(name, app);
  }
  return { kind: "ok", apps };
}

let parsed: { source: string | undefined; config: AppsConfig } | undefined;

/** `APPS` as this isolate reads it: parsed once per text, a bad value logged once. */
export function appsConfig(source: string | undefined): AppsConfig {
  if (parsed === undefined || parsed.source !== source) {
    const config = parseApps(source);
    if (config.kind === "invalid") log("credentials", { setting: "APPS", reason: "provider_misconfigured", problem: config.problem }, "error");
    parsed = { source, config };
  }
  return parsed.config;
}

/** The apps a device may name: `default` and those `APPS` lists (only `default` while `APPS` is unusable). */
export function appNames(env: { APPS?: string }): string[] {
  const config = appsConfig(env.APPS);
  return [DEFAULT_APP, ...(config.kind === "ok" ? config.apps.keys() : [])];
}

/**
 * One app's provider settings: each is the app's override, else the default
 * app's. `missing` names the settings whose override points at a secret
 * that is not set (that provider cannot send for this app).
 */
export type AppSettings =
  | { kind: "ok"; values: Partial<Record<string, string>>; missing: Partial<Record<AppSetting, string>> }
  | { kind: "unavailable"; setting: string };

const resolved = new WeakMap<object, Map<string, AppSettings>>();

/**
 * The settings of `app` in `env` (the Worker's env: plain settings and the
 * secrets APPS names), worked out once per env object and app.
 */
export function appSettings(env: object, app: string): AppSettings {
  let byApp = resolved.get(env);
  if (!byApp) resolved.set(env, (byApp = new Map()));
  let settings = byApp.get(app);
  if (!settings) byApp.set(app, (settings = resolve(env, app)));
  return settings;
}

function resolve(env: object, app: string): AppSettings {
  const values = env as Partial<Record<string, unknown>>;
  const strings: Partial<Record<string, string>> = {};
  for (const [name, value] of Object.entries(values)) if (typeof value === "string") strings[name] = value;
  if (app === DEFAULT_APP) return { kind: "ok", values: strings, missing: {} };
  const config = appsConfig(strings.APPS);
  if (config.kind === "invalid") return { kind: "unavailable", setting: "APPS" };
  const overrides = config.apps.get(app);
  if (!overrides) return { kind: "unavailable", setting: `APPS (no app "${app}")` };
  const missing: Partial<Record<AppSetting, string>> = {};
  for (const [key, override] of Object.entries(overrides) as [AppOverride, string][]) {
    const { setting, secret } = APP_OVERRIDES[key];
    if (!secret) strings[setting] = override;
    else if (typeof values[override] === "string" && (values[override] as string).trim() !== "") strings[setting] = values[override] as string;
    else missing[setting] = override;
  }
  return { kind: "ok", values: strings, missing };
}
