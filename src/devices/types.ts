/**
 * The device vocabulary shared by the validator, the devices table and the
 * push providers. It lives apart from both so neither imports the other.
 */

/**
 * The push providers. A device is registered with `fcm`, `apns` or `expo`;
 * `onesignal` reaches users who have no device in the relay (the consumer
 * stands one in for them: src/push/onesignal/).
 */
export type Provider = "fcm" | "apns" | "expo" | "onesignal";
export type Platform = "ios" | "android";
export type ApnsEnvironment = "production" | "sandbox";

/** A device as registered: what `PUT /v1/devices` validates into. */
export interface DeviceInput {
  token: string;
  provider: Provider;
  /** The app the token was issued to: `default`, or one APPS names. */
  app: string;
  custom_id: string | null;
  user_id: string | null;
  platform: Platform | null;
  environment: ApnsEnvironment;
  /**
   * The device's IANA time zone (`Africa/Nairobi`), as `Intl` knows it;
   * null when the app sent none. Optional in the type so that the devices
   * the consumer stands in (OneSignal users) need not name one.
   */
  time_zone?: string | null;
}

/** A user as the relay knows them: the company's `custom_id`, LearnInk's `user_id`, or both. */
export interface UserIds {
  custom_id: string | null;
  user_id: string | null;
}

/** Which id a user is named by in the API: the company's `custom_id` (default) or LearnInk's `user_id`. */
export type UserIdKind = "custom_id" | "user_id";
