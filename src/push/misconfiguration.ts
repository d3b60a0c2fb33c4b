/**
 * Answers that mean one of our settings is wrong, not that a token is dead.
 * A service account of another Firebase project gets SENDER_ID_MISMATCH for
 * every token; a typo in APNS_TOPIC gets DeviceTokenNotForTopic (or
 * TopicDisallowed) for every token. Treating those as dead tokens would
 * delete every device on the next reminder, so the classifiers turn them
 * into `misconfigured` results: nothing is deleted, the delivery waits for
 * a fix, and an alert tells the operator what to check (src/db/alerts.ts).
 *
 * Sources: FCM's ErrorCode reference (SENDER_ID_MISMATCH 403: "the
 * authenticated sender ID is different from the sender ID for the
 * registration token"; THIRD_PARTY_AUTH_ERROR 401: "APNs certificate or web
 * push auth key was invalid or missing") and Apple's "Handling notification
 * responses from APNs" (400 DeviceTokenNotForTopic, TopicDisallowed,
 * BadTopic, MissingTopic; "most 4XX can be retried after you fix the error").
 */
import type { Provider } from "../devices/types";

export interface Misconfiguration {
  /** What the operator should check: shown in the alert and its log line. */
  check: string;
  /**
   * Which accepted pushes prove it fixed: any push of that provider and app,
   * or only one to an iOS device (FCM reaches iOS through the APNs
   * credentials uploaded to Firebase; Android pushes say nothing about them).
   */
  clearedBy: "any" | "ios";
}

const ANOTHER_APP = "If only a few devices get it while others are accepted, those devices were registered from another app.";

const FCM: Record<string, Misconfiguration> = {
  SENDER_ID_MISMATCH: {
    check: `The tokens belong to another Firebase project than the one of FCM_SERVICE_ACCOUNT: use a service account of the app's own Firebase project (its project_id is the one in the app's google-services.json or GoogleService-Info.plist). ${ANOTHER_APP}`,
    clearedBy: "any",
  },
  THIRD_PARTY_AUTH_ERROR: {
    check:
      "FCM could not reach APNs for iOS devices: the APNs auth key (or certificate) in the Firebase console (Project settings, Cloud Messaging, Apple app configuration) is missing, revoked or of another team.",
    clearedBy: "ios",
  },
  // A 403 without an FcmError code: the project or the account, never a token.
  PERMISSION_DENIED: {
    check:
      "The service account may not send: enable the Firebase Cloud Messaging API in its Google Cloud project and give the account a role with the cloudmessaging.messages.create permission.",
    clearedBy: "any",
  },
};

const APNS: Record<string, Misconfiguration> = {
  DeviceTokenNotForTopic: {
    check: `APNS_TOPIC is not the bundle id of the app these tokens come from: set it to that app's bundle id. ${ANOTHER_APP}`,
    clearedBy: "any",
  },
  TopicDisallowed: {
    check:
      "APNs does not let this key push to APNS_TOPIC: check that APNS_TOPIC is the app's bundle id and that APNS_KEY, APNS_KEY_ID and APNS_TEAM_ID are a key of the team that owns the app.",
    clearedBy: "any",
  },
  BadTopic: { check: "APNS_TOPIC is not a valid topic: set it to the app's bundle id.", clearedBy: "any" },
  MissingTopic: { check: "APNs got no topic: set APNS_TOPIC to the app's bundle id.", clearedBy: "any" },
};

const EXPO: Record<string, Misconfiguration> = {
  InvalidCredentials: {
    check:
      "Expo has no valid push credentials for the app these tokens come from (an APNs key or FCM credentials revoked or never uploaded): run `eas credentials` for the app and upload new ones. Its users' Expo push tokens stay the same.",
    clearedBy: "any",
  },
  MismatchSenderId: {
    check: "The FCM credentials uploaded to Expo belong to another Firebase project than the app's google-services.json: upload the app's own (`eas credentials`).",
    clearedBy: "any",
  },
  EXPO_ACCESS_TOKEN: {
    check:
      "Expo refused the request as UNAUTHORIZED: the project has enhanced push security on and EXPO_ACCESS_TOKEN (or the app's expo_access_token_secret) is missing, revoked or of another account. Create an access token at expo.dev and set it.",
    clearedBy: "any",
  },
};

const ONESIGNAL: Record<string, Misconfiguration> = {
  ONESIGNAL_API_KEY: {
    check:
      "OneSignal refused the App API key (401/403), or ONESIGNAL_API_KEY is not set: copy the app's API key from OneSignal (Settings, Keys & IDs) into the ONESIGNAL_API_KEY secret.",
    clearedBy: "any",
  },
  ONESIGNAL_APP_ID: {
    check: "OneSignal does not know ONESIGNAL_APP_ID (app_id not found), or it is not set: copy the App ID from OneSignal (Settings, Keys & IDs).",
    clearedBy: "any",
  },
  ONESIGNAL_EXTERNAL_ID: {
    check: 'ONESIGNAL_EXTERNAL_ID must be "custom_id" (the default) or "user_id": which id of the user the app sets as its OneSignal external id.',
    clearedBy: "any",
  },
};

const BY_PROVIDER: Record<Provider, Record<string, Misconfiguration>> = { fcm: FCM, apns: APNS, expo: EXPO, onesignal: ONESIGNAL };

/** True when `reason` (FCM's error code, APNs' reason) means a wrong setting of ours. */
export function isMisconfiguration(provider: Provider, reason: string): boolean {
  return Object.hasOwn(BY_PROVIDER[provider], reason);
}

/**
 * What to check for a `misconfigured` result. Its reason is a provider's
 * answer, or the name of a setting that is set but unreadable
 * (FCM_SERVICE_ACCOUNT, APNS_KEY, ...).
 */
export function misconfiguration(provider: string, reason: string): Misconfiguration {
  const known = (BY_PROVIDER as Record<string, Record<string, Misconfiguration>>)[provider];
  if (known && Object.hasOwn(known, reason)) return known[reason]!;
  return { check: `${reason} is set but cannot be used: the "credentials" error line in the log says what is wrong with it.`, clearedBy: "any" };
}
