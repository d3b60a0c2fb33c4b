/**
 * How long a provider keeps a notification it could not deliver yet (the
 * phone off or out of coverage), the same for every provider: APNs
 * `apns-expiration`, FCM `android.ttl`, Expo and OneSignal `ttl`.
 */

/**
 * A training reminder is still worth showing later the same day, but not
 * tomorrow; 0 ("now or never") would lose it to a phone that is briefly
 * offline, and FCM's default would keep it four weeks. So: 24 hours.
 */
export const PUSH_LIFETIME_S = 24 * 60 * 60;
