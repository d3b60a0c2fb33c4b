/**
 * Expo's settings: the API base (tests point it at the stand-in) and the
 * optional access token. Expo needs no credential unless the project turned
 * on "enhanced push security"; then every request must carry the token as
 * `Authorization: Bearer`, and one without it is refused (UNAUTHORIZED).
 */

export const DEFAULT_EXPO_API_BASE = "https://exp.host";

export interface ExpoSettings {
  EXPO_ACCESS_TOKEN?: string;
  EXPO_API_BASE?: string;
  /** The app's Android notification channel (`android_channel_id` in APPS); blank: Android's default. */
  ANDROID_CHANNEL_ID?: string;
}

export interface ExpoConfig {
  /** `https://exp.host`, no trailing slash. */
  base: string;
  /** Sent as `Authorization: Bearer` when set. */
  accessToken: string | undefined;
  /** Each message's `channelId` when set. */
  channelId: string | undefined;
}

/** The settings as the provider uses them; blank means unset. */
export function expoConfig(settings: ExpoSettings): ExpoConfig {
  const token = settings.EXPO_ACCESS_TOKEN?.trim();
  return {
    base: (settings.EXPO_API_BASE?.trim() || DEFAULT_EXPO_API_BASE).replace(/\/+$/, ""),
    accessToken: token ? token : undefined,
    channelId: settings.ANDROID_CHANNEL_ID?.trim() || undefined,
  };
}

/** Request headers for Expo's push API. */
export function expoHeaders(config: ExpoConfig): Record<string, string> {
  const headers: Record<string, string> = { accept: "application/json", "content-type": "application/json" };
  if (config.accessToken) headers.authorization = `Bearer ${config.accessToken}`;
  return headers;
}
