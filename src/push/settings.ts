/**
 * The one settings guard every provider used to repeat: resolve an app's
 * settings (its APPS overrides over the default app's), answer
 * `misconfigured` when they cannot be used (APPS broken, or an override
 * naming a secret that is not set), and otherwise hand the provider the
 * settings it declared, typed, and nothing else of the Worker's env.
 */
import type { AppOverrides, AppSettings } from "./apps";
import { unusableSettings } from "./configured";
import type { PushResult } from "./provider";

/**
 * A provider's settings for one app, already resolved (APPS override,
 * else the default app's value), or the answer every send of that app
 * gets because they cannot be used (`APPS` broken, an override naming a
 * secret that is not set).
 */
export type SettingsFor<S> = { kind: "ok"; settings: S } | { kind: "unusable"; result: PushResult };

/** What a provider declares: its name, the settings it reads, and what apps may override. */
export interface SettingsSpec {
  readonly name: string;
  readonly settings: readonly string[];
  readonly appOverrides: AppOverrides;
}

/** `app`'s settings for the provider `spec` describes, from the app's resolved settings. */
export function providerSettings<S>(spec: SettingsSpec, app: string, resolved: AppSettings): SettingsFor<S> {
  if (resolved.kind === "unavailable") return { kind: "unusable", result: unusableSettings(spec.name, app, resolved.setting) };
  for (const { setting, secret } of Object.values(spec.appOverrides)) {
    const missing = secret ? resolved.missing[setting] : undefined;
    if (missing !== undefined) return { kind: "unusable", result: unusableSettings(spec.name, app, missing) };
  }
  const picked: Partial<Record<string, string>> = {};
  for (const name of spec.settings) if (resolved.values[name] !== undefined) picked[name] = resolved.values[name];
  // Every provider's settings are optional strings named in `spec.settings`: exactly what was picked.
  return { kind: "ok", settings: picked as S };
}
