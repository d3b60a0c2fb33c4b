/**
 * LearnInk's `notifications.sent` notification as it arrives on the wire,
 * before validation. Types only, with no imports, so the Node-side tools
 * (benchmark, scripts) can share it with the Worker and its tests.
 */
export interface LearnInkNotification {
  title: string;
  body: string;
  /** Where the tap leads inside LearnInk, starting with `/`. */
  path: string;
  /** LearnInk's id for the user. */
  user_id: string;
  /** The company's id for the user, when LearnInk knows it. */
  custom_id: string | null;
  /** Checked for shape and dropped: never queued, stored or logged. */
  phone_number: string | null;
}
