/**
 * What the relay knows about one push provider, in one value: its name,
 * the tokens a device may register with it, the settings it reads (and
 * which of them an app may override), the room its payload leaves for the
 * text, the answers that mean a setting of ours is wrong, and how to build
 * the sender. Each src/push/<provider>/index.ts exports one; the registry
 * (providers.ts) lists them and derives everything else from the list.
 */
import type { AppOverride, AppSettings } from "./apps";
import type { SettingsCheck } from "./check";
import type { CredentialCache } from "./credential-cache";
import type { Misconfiguration } from "./misconfiguration";
import type { ProviderDeps, PushMessage, PushProvider } from "./provider";
import { providerSettings, type SettingsFor } from "./settings";
import type { Platform } from "../vocabulary";

/** For a provider devices register with: what its tokens look like. */
export interface DeviceTokens {
  /** The token as stored (APNs: lower-cased), or a field message saying what is wrong with it. */
  normalize(token: string): { token: string } | { problem: string };
  /** The platform of a device registered without one (APNs: ios). */
  readonly platform?: Platform;
}

/** What a provider is built with. */
export interface ProviderContext<S> {
  /** The provider's own settings for `app`: only the names it declared, typed. */
  settingsFor(app: string): SettingsFor<S>;
  deps: ProviderDeps;
  /** Short-lived credentials (access tokens, provider JWTs), shared between isolates. */
  cache: CredentialCache;
}

export interface ProviderDescriptor<N extends string = string, S = unknown> {
  readonly name: N;
  /** Absent for a provider no device registers with (OneSignal reaches users by external id). */
  readonly devices?: DeviceTokens;
  /** Every setting the provider reads; it is handed these and nothing else of the Worker's env. */
  readonly settings: readonly (keyof S & string)[];
  /** The `APPS` keys an app may set for this provider (`apns_topic`, `hms_app_secret_secret`, ...). */
  readonly appOverrides: Readonly<Record<string, AppOverride>>;
  /**
   * What the provider counts against its 4,096-byte payload for `message`
   * (the token never counts); the webhook keeps each path within the
   * tightest provider's room.
   */
  payloadBytes(message: PushMessage, now: number): number;
  /** Answers (and setting names) that mean a setting of ours is wrong, with what to check. */
  readonly misconfigurations: Readonly<Record<string, Misconfiguration>>;
  create(context: ProviderContext<S>): PushProvider;
  /**
   * The settings self-check for one app (see check.ts and the provider's
   * check.ts), over the same context as the sends: the same settings and
   * credential cache. Null when the provider is not configured for the app.
   */
  readonly check?: (context: ProviderContext<S>, app: string) => Promise<SettingsCheck | null>;
}

/**
 * A descriptor as the registry lists it: its settings type sealed inside
 * `build`, which resolves an app's settings (the one settings guard,
 * settings.ts) and hands the provider only its own.
 */
export interface RegisteredProvider<N extends string = string> extends Omit<ProviderDescriptor<N>, "settings" | "create" | "check"> {
  readonly settings: readonly string[];
  build(appSettings: (app: string) => AppSettings, deps: ProviderDeps, cache: CredentialCache): PushProvider;
}

/** A provider's descriptor, typed against its settings where it is written; listed in providers.ts. */
export function describeProvider<N extends string, S>(descriptor: ProviderDescriptor<N, S>): RegisteredProvider<N> {
  const { check, create, ...rest } = descriptor;
  return {
    ...rest,
    build: (appSettings, deps, cache) => {
      const context: ProviderContext<S> = { settingsFor: (app) => providerSettings<S>(descriptor, app, appSettings(app)), deps, cache };
      const provider = create(context);
      return check ? { ...provider, check: (app: string) => check(context, app) } : provider;
    },
  };
}
