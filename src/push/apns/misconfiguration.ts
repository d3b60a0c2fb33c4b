/**
 * APNs answers that mean one of our settings is wrong, not that a token is
 * dead. Source: Apple's "Handling notification responses from APNs" (400
 * DeviceTokenNotForTopic, TopicDisallowed, BadTopic, MissingTopic; 403
 * BadCertificate, BadCertificateEnvironment, Forbidden, MissingProviderToken;
 * "most 4XX can be retried after you fix the error").
 */
import { ANOTHER_APP, type Misconfiguration } from "../misconfiguration";

export const APNS_MISCONFIGURATIONS: Readonly<Record<string, Misconfiguration>> = {
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
  // The key-id errors: Apple refuses our provider token itself, whatever the device.
  InvalidProviderToken: {
    check:
      "APNs refused the provider token even freshly signed: APNS_KEY_ID must be the id of APNS_KEY (the .p8 file's name says it), APNS_TEAM_ID the team that owns the key, and the key must not be revoked (Apple Developer, Certificates, Identifiers & Profiles, Keys).",
    clearedBy: "any",
  },
  MissingProviderToken: {
    check: "APNs got no provider token: set APNS_KEY, APNS_KEY_ID and APNS_TEAM_ID (the relay signs with token-based authentication only).",
    clearedBy: "any",
  },
  BadCertificate: { check: "APNs refused the credentials as a bad certificate: use a token-based .p8 key in APNS_KEY with its APNS_KEY_ID and APNS_TEAM_ID.", clearedBy: "any" },
  BadCertificateEnvironment: {
    check: "APNs says the credentials are for the other environment: check APNS_API_BASE and the devices' environment, and that the key is enabled for the APNs service.",
    clearedBy: "any",
  },
  Forbidden: {
    check: "APNs forbids this key to push (403 Forbidden): check that APNS_KEY has the Apple Push Notifications service enabled and belongs to APNS_TEAM_ID, the team of the app APNS_TOPIC names.",
    clearedBy: "any",
  },
};
