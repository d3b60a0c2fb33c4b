/**
 * The provider registry: the one list of providers, and everything the
 * rest of the relay asks about them, derived from it. Adding a provider is
 * its folder (src/push/<provider>/, exporting a descriptor) and a line in
 * PROVIDERS; the compiler then names every place that must handle it.
 *
 * Parsed keys and minted credentials outlive `createProviders`: they are
 * kept per isolate (and shared through D1), so building providers per
 * batch costs nothing.
 */
import { type AppOverride, type AppSettings, type AppsConfig, appSettingsOf, appsConfigOf, DEFAULT_APP } from "./apps";
import { apns } from "./apns";
import { hms } from "./hms";
import { CredentialCache, type IsolateMemory, isolateMemory } from "./credential-cache";
import type { DeviceTokens } from "./descriptor";
import { expo } from "./expo";
import { fcm } from "./fcm";
import { type Misconfiguration, unreadableSetting } from "./misconfiguration";
import { onesignal } from "./onesignal";
import type { ProviderDeps, PushProvider } from "./provider";

/** Every provider the relay sends through. */
export const PROVIDERS = [fcm, apns, expo, onesignal, hms] as const;

/** A provider's name: `fcm`, `apns`, ... as PROVIDERS lists them. */
export type Provider = (typeof PROVIDERS)[number]["name"];

/** The providers a device can register with (those with a token shape), in PROVIDERS order. */
export const DEVICE_PROVIDERS: readonly Provider[] = PROVIDERS.filter((d) => d.devices !== undefined).map((d) => d.name);

/** How a device token of `provider` is checked; undefined for a provider no device registers with. */
export function deviceTokensOf(provider: Provider): DeviceTokens | undefined {
  return PROVIDERS.find((d) => d.name === provider)?.devices;
}

/** Every key `APPS` may set for an app, joined from the providers' tables. */
export const APP_OVERRIDES: Readonly<Record<string, AppOverride>> = Object.assign({}, ...PROVIDERS.map((d) => d.appOverrides));

/** `APPS` as this isolate reads it: parsed once per text, a bad value logged once. */
export const appsConfig = (source: string | undefined): AppsConfig => appsConfigOf(source, APP_OVERRIDES);

/** One app's settings, every provider's (the app's overrides over the default app's). */
export const appSettings = (env: object, app: string): AppSettings => appSettingsOf(env, app, APP_OVERRIDES);

/** The apps a device may name: `default` and those `APPS` lists (only `default` while `APPS` is unusable). */
export function appNames(env: { APPS?: string }): string[] {
  const config = appsConfig(env.APPS);
  return [DEFAULT_APP, ...(config.kind === "ok" ? config.apps.keys() : [])];
}

/**
 * What to check for a `misconfigured` result of `provider`. Its reason is
 * a provider's answer, or the name of a setting that is set but unreadable
 * (FCM_SERVICE_ACCOUNT, APNS_KEY, ...).
 */
export function misconfiguration(provider: string, reason: string): Misconfiguration {
  const table = PROVIDERS.find((d) => d.name === provider)?.misconfigurations;
  return table && Object.hasOwn(table, reason) ? table[reason]! : unreadableSetting(reason);
}

/** Per-request timeout unless the caller says otherwise. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * One provider per kind, serving every app: each push names its app, whose
 * settings (APPS overrides over the defaults) it goes out with. A provider
 * without credentials answers `failed: provider_not_configured` (broken ones
 * `misconfigured` with the setting's name) without touching the network.
 * `memory` stands for the isolate: tests pass a fresh one to play a second
 * isolate sharing the same D1.
 */
export function createProviders(
  env: Env,
  deps: Partial<ProviderDeps> = {},
  memory: IsolateMemory = isolateMemory,
): Record<Provider, PushProvider> {
  const full: ProviderDeps = {
    fetch: deps.fetch ?? ((input, init) => fetch(input, init)),
    now: deps.now ?? Date.now,
    timeoutMs: deps.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
  const cache = new CredentialCache(env.DB, full.now, memory);
  const settingsOf = (app: string) => appSettings(env, app);
  const built: Partial<Record<Provider, PushProvider>> = {};
  for (const descriptor of PROVIDERS) built[descriptor.name] = descriptor.build(settingsOf, full, cache);
  return built as Record<Provider, PushProvider>;
}
