/**
 * Unique ids and provider-shaped device tokens for tests, in workerd and in
 * Node alike (only `crypto.getRandomValues`). Test files run in parallel
 * against one stand-in server, so every id a test makes is its own.
 */

let counter = 0;

/** A unique id for this test run, for event ids, users and tokens. */
export const uniqueId = (prefix: string) =>
  `${prefix}_${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** `bytes` random bytes as lower-case hex. */
export const hex = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");

/** An APNs device token: 32 bytes of hex. */
export const apnsToken = () => hex(32);

/** An FCM registration token: unique, of the shape FCM issues. */
export const fcmToken = () => `${uniqueId("fcm")}:APA91b${"x".repeat(120)}`;

/** An Expo push token: unique, of the shape Expo issues (`ExponentPushToken[...]`). */
export const expoToken = () => `ExponentPushToken[${uniqueId("expo")}]`;

/** A Huawei Push Kit token: unique, printable, of the length Push Kit issues (about 130 characters). */
export const hmsToken = () => `IQAAAACy0${uniqueId("hms")}${"Q".repeat(96)}`;
