/**
 * The Worker configuration that sends the relay's pushes to the stand-ins:
 * the same variables production uses, with every base URL on the stand-in.
 */
import type { StandinKeys, StandinWorkerConfig } from "./types.ts";

/** Configuration strings for the relay (bindings in tests, `.dev.vars` locally). */
export function workerConfig(url: string, keys: StandinKeys): StandinWorkerConfig {
  const account = keys.serviceAccount;
  return {
    FCM_SERVICE_ACCOUNT: JSON.stringify({
      type: "service_account",
      project_id: account.project_id,
      private_key_id: account.private_key_id,
      private_key: account.private_key,
      client_email: account.client_email,
      token_uri: `${url}/token`,
    }),
    FCM_API_BASE: url,
    APNS_API_BASE: url,
    APNS_KEY: keys.apns.privateKeyPem,
    APNS_KEY_ID: keys.apns.keyId,
    APNS_TEAM_ID: keys.apns.teamId,
    APNS_TOPIC: keys.apns.topic,
    EXPO_API_BASE: url,
    EXPO_ACCESS_TOKEN: keys.expo.accessToken,
    ONESIGNAL_API_BASE: url,
    ONESIGNAL_APP_ID: keys.onesignal.appId,
    ONESIGNAL_API_KEY: keys.onesignal.apiKey,
    HMS_APP_ID: keys.hms.appId,
    HMS_APP_SECRET: keys.hms.appSecret,
    HMS_API_BASE: url,
    HMS_OAUTH_URL: `${url}/oauth2/v3/token`,
  };
}
