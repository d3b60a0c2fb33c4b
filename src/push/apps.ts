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

/** An app override: the setting it replaces, and whether the override names a Worker secret instead of holding the value. */
export interface AppOverride {
  readonly setting: string;
  readonly secret: boolean;
}

/** What an app may override: `APPS` key -> the setting it replaces (the registry joins the providers' tables). */
export type AppOverrides = Readonly<Record<string, AppOverride>>;

export type AppsConfig =
  | { kind: "ok"; apps: ReadonlyMap<string, Partial<Record<string, string>>> }
  | { kind: "invalid"; problem: string };

/** Why `APPS` cannot be used, or its apps; `overrides` are the keys an app may set. Pure: the caller logs. */
export function parseApps(source: string | undefined, overrides: AppOverrides): AppsConfig {
  const text = source?.trim() ?? "";
  if (text === "") return { kind: "ok", apps: new Map() };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: "invalid", problem: "is not valid JSON" };
  }
  if (!isObject(value)) return { kind: "invalid", problem: "must be a JSON object of app names" };
  const apps = new Map<string, Partial<Record<string, string>>>();
  for (const [name, entry] of Object.entries(value)) {
    const app = parseApp(name, entry, overrides);
    if (typeof app === "string") return { kind: "invalid", problem: app };
    apps.set(name, app);
  }
  return { kind: "ok", apps };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** One app's overrides, or what is wrong with them. */
function parseApp(name: string, entry: unknown, overrides: AppOverrides): Partial<Record<string, string>> | string {
  if (name === DEFAULT_APP) return `names "${DEFAULT_APP}": its settings are the plain variables, not an entry`;
  if (!APP_NAME.test(name)) return `app name "${name.slice(0, 64)}" must be 1 to 64 of a-z, 0-9, ".", "_", "-"`;
  if (!isObject(entry)) return `${name} must be an object of settings`;
  const app: Partial<Record<string, string>> = {};
  for (const [key, setting] of Object.entries(entry)) {
    const override = Object.hasOwn(overrides, key) ? overrides[key] : undefined;
    if (!override) return `${name}.${key} is not a setting an app can override (${Object.keys(overrides).join(", ")})`;
    if (typeof setting !== "string" || setting.trim() === "") return `${name}.${key} must be a non-empty string`;
    if (override.secret && !SECRET_NAME.test(setting)) return `${name}.${key} must name a Worker secret (e.g. APNS_KEY_STAGING), not hold the value`;
    app[key] = setting.trim();
  }
  return app;
}

let parsed: { source: string | undefined; config: AppsConfig } | undefined;

/** `APPS` as this isolate reads it: parsed once per text, a bad value logged once. */
export function appsConfigOf(source: string | undefined, overrides: AppOverrides): AppsConfig {
  if (parsed === undefined || parsed.source !== source) {
    const config = parseApps(source, overrides);
    if (config.kind === "invalid") log("credentials", { setting: "APPS", reason: "provider_misconfigured", problem: config.problem }, "error");
    parsed = { source, config };
  }
  return parsed.config;
}

/**
 * One app's provider settings: each is the app's override, else the default
 * app's. `missing` names the settings whose override points at a secret
 * that is not set (that provider cannot send for this app), with the secret's name.
 */
export type AppSettings =
  | { kind: "ok"; values: Partial<Record<string, string>>; missing: Partial<Record<string, string>> }
  | { kind: "unavailable"; setting: string };

const resolved = new WeakMap<object, Map<string, AppSettings>>();

/**
 * The settings of `app` in `env` (the Worker's env: plain settings and the
 * secrets APPS names), worked out once per env object and app.
 */
export function appSettingsOf(env: object, app: string, overrides: AppOverrides): AppSettings {
  let byApp = resolved.get(env);
  if (!byApp) resolved.set(env, (byApp = new Map()));
  let settings = byApp.get(app);
  if (!settings) byApp.set(app, (settings = resolve(env, app, overrides)));
  return settings;
}

function resolve(env: object, app: string, overrides: AppOverrides): AppSettings {
  const values = env as Partial<Record<string, unknown>>;
  const strings: Partial<Record<string, string>> = {};
  for (const [name, value] of Object.entries(values)) if (typeof value === "string") strings[name] = value;
  if (app === DEFAULT_APP) return { kind: "ok", values: strings, missing: {} };
  const config = appsConfigOf(strings.APPS, overrides);
  if (config.kind === "invalid") return { kind: "unavailable", setting: "APPS" };
  const chosen = config.apps.get(app);
  if (!chosen) return { kind: "unavailable", setting: `APPS (no app "${app}")` };
  const missing: Partial<Record<string, string>> = {};
  for (const [key, override] of Object.entries(chosen)) {
    const { setting, secret } = overrides[key]!;
    const secretValue = secret ? values[override!] : undefined;
    if (!secret) strings[setting] = override;
    else if (typeof secretValue === "string" && secretValue.trim() !== "") strings[setting] = secretValue;
    else missing[setting] = override;
  }
  return { kind: "ok", values: strings, missing };
}
