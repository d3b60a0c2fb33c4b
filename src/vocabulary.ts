/**
 * The words every layer shares: who a user is (and how long an id may be),
 * which platform and APNs environment a device has. It imports nothing, so the webhook, the
 * devices API, the database modules and the providers can all use it
 * without importing one another. (Which providers exist is the provider
 * registry's: src/push/providers.ts.)
 */

export type Platform = "ios" | "android";
export type ApnsEnvironment = "production" | "sandbox";

/** A user as the relay knows them: the company's `custom_id`, LearnInk's `user_id`, or both. */
export interface UserIds {
  custom_id: string | null;
  user_id: string | null;
}

/** LearnInk ids (and the company's) are short; anything longer is a client bug. */
export const MAX_ID_LENGTH = 256;

/** Which id a user is named by in the API: the company's `custom_id` (default) or LearnInk's `user_id`. */
export type UserIdKind = "custom_id" | "user_id";
