/**
 * OneSignal's settings. With `ONESIGNAL_APP_ID` and the secret
 * `ONESIGNAL_API_KEY` (the App API key) set, a notification whose user has
 * no device registered in the relay goes to the OneSignal user whose
 * external id is its `custom_id`, or its LearnInk `user_id` when
 * `ONESIGNAL_EXTERNAL_ID` is "user_id". Half a configuration (one of the two
 * set) still routes such users to OneSignal, where the provider answers
 * `misconfigured` with the missing setting: the deliveries wait for the fix
 * and an alert says what to set, rather than silently becoming `no_device`.
 */

export const DEFAULT_ONESIGNAL_API_BASE = "https://api.onesignal.com";

export interface OneSignalSettings {
  ONESIGNAL_APP_ID?: string;
  ONESIGNAL_API_KEY?: string;
  ONESIGNAL_EXTERNAL_ID?: string;
  ONESIGNAL_API_BASE?: string;
}

export type ExternalIdKind = "custom_id" | "user_id";

export type OneSignalConfig =
  /** Neither setting: users without a device are `no_device`. */
  | { kind: "off" }
  | { kind: "on"; appId: string; apiKey: string; base: string; externalId: ExternalIdKind }
  /** Routed to OneSignal, but `setting` is missing or wrong: the provider answers misconfigured. */
  | { kind: "misconfigured"; setting: string; externalId: ExternalIdKind };

/** The settings as the relay uses them; blank means unset. */
export function oneSignalConfig(settings: OneSignalSettings): OneSignalConfig {
  const appId = settings.ONESIGNAL_APP_ID?.trim() ?? "";
  const apiKey = settings.ONESIGNAL_API_KEY?.trim() ?? "";
  if (appId === "" && apiKey === "") return { kind: "off" };
  const kind = settings.ONESIGNAL_EXTERNAL_ID?.trim() || "custom_id";
  const externalId: ExternalIdKind = kind === "user_id" ? "user_id" : "custom_id";
  if (kind !== "custom_id" && kind !== "user_id") return { kind: "misconfigured", setting: "ONESIGNAL_EXTERNAL_ID", externalId };
  if (appId === "") return { kind: "misconfigured", setting: "ONESIGNAL_APP_ID", externalId };
  if (apiKey === "") return { kind: "misconfigured", setting: "ONESIGNAL_API_KEY", externalId };
  return { kind: "on", appId, apiKey, base: (settings.ONESIGNAL_API_BASE?.trim() || DEFAULT_ONESIGNAL_API_BASE).replace(/\/+$/, ""), externalId };
}

/** The prefix of a OneSignal user's "device token" in the ledger: `onesignal:<external id>`. */
export const ONESIGNAL_TOKEN_PREFIX = "onesignal:";

/** The external id a ledger token names. */
export const externalIdOf = (token: string): string => token.slice(ONESIGNAL_TOKEN_PREFIX.length);
