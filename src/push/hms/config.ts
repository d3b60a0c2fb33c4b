/**
 * Huawei Push Kit's settings: the app's OAuth 2.0 client id (its App ID in
 * AppGallery Connect) and App Secret, and the two endpoints (tests point
 * them at the stand-in). Both credentials unset: HMS is off and its devices
 * fail `provider_not_configured`; one of them unset is a setting to fix.
 */

export const DEFAULT_HMS_API_BASE = "https://push-api.cloud.huawei.com";
export const DEFAULT_HMS_OAUTH_URL = "https://oauth-login.cloud.huawei.com/oauth2/v3/token";

export interface HmsSettings {
  HMS_APP_ID?: string;
  HMS_APP_SECRET?: string;
  HMS_API_BASE?: string;
  HMS_OAUTH_URL?: string;
}

export interface HmsConfig {
  appId: string;
  appSecret: string;
  /** `https://push-api.cloud.huawei.com`, no trailing slash. */
  base: string;
  oauthUrl: string;
}

export type HmsState = { kind: "off" } | { kind: "on"; config: HmsConfig } | { kind: "misconfigured"; setting: "HMS_APP_ID" | "HMS_APP_SECRET" | "HMS_OAUTH_URL" };

/** The settings as the provider uses them; blank means unset. */
export function hmsConfig(settings: HmsSettings): HmsState {
  const appId = settings.HMS_APP_ID?.trim() ?? "";
  const appSecret = settings.HMS_APP_SECRET?.trim() ?? "";
  if (appId === "" && appSecret === "") return { kind: "off" };
  if (appId === "") return { kind: "misconfigured", setting: "HMS_APP_ID" };
  if (appSecret === "") return { kind: "misconfigured", setting: "HMS_APP_SECRET" };
  const oauthUrl = settings.HMS_OAUTH_URL?.trim() || DEFAULT_HMS_OAUTH_URL;
  if (!/^https?:\/\//.test(oauthUrl)) return { kind: "misconfigured", setting: "HMS_OAUTH_URL" };
  const base = (settings.HMS_API_BASE?.trim() || DEFAULT_HMS_API_BASE).replace(/\/+$/, "");
  return { kind: "on", config: { appId, appSecret, base, oauthUrl } };
}

/** `POST {base}/v1/{appId}/messages:send` */
export const hmsSendUrl = (config: HmsConfig): string => `${config.base}/v1/${encodeURIComponent(config.appId)}/messages:send`;
