/**
 * Answers that mean one of our settings is wrong, not that a token is dead.
 * A service account of another Firebase project gets SENDER_ID_MISMATCH for
 * every token; a typo in APNS_TOPIC gets DeviceTokenNotForTopic (or
 * TopicDisallowed) for every token. Treating those as dead tokens would
 * delete every device on the next reminder, so the classifiers turn them
 * into `misconfigured` results: nothing is deleted, the delivery waits for
 * a fix, and an alert tells the operator what to check (src/db/alerts.ts).
 *
 * Each provider keeps its own table (src/push/<provider>/misconfiguration.ts,
 * part of its descriptor); the registry looks them up (providers.ts).
 */

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

/** Said of answers a wrong setting gives every token, which a few devices of another app also get. */
export const ANOTHER_APP = "If only a few devices get it while others are accepted, those devices were registered from another app.";

/** What to check for a reason no table names: a setting that is set but cannot be used (FCM_SERVICE_ACCOUNT, APNS_KEY, ...). */
export function unreadableSetting(reason: string): Misconfiguration {
  return { check: `${reason} is set but cannot be used: the "credentials" error line in the log says what is wrong with it.`, clearedBy: "any" };
}
