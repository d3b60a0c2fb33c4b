/**
 * FCM answers that mean one of our settings is wrong, not that a token is
 * dead. Sources: FCM's ErrorCode reference (SENDER_ID_MISMATCH 403: "the
 * authenticated sender ID is different from the sender ID for the
 * registration token"; THIRD_PARTY_AUTH_ERROR 401: "APNs certificate or web
 * push auth key was invalid or missing"); a plain 403 PERMISSION_DENIED.
 */
import { ANOTHER_APP, type Misconfiguration } from "../misconfiguration";

export const FCM_MISCONFIGURATIONS: Readonly<Record<string, Misconfiguration>> = {
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
