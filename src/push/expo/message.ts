/**
 * The Expo message for one notification: the visible text, the tap data
 * the app reads (`path`, `url`, `event_id`, `index`), the default sound, and the
 * same 24-hour lifetime as the other providers.
 */
import { PUSH_LIFETIME_S } from "../lifetime";
import { fitText, jsonBytes, type VisibleText } from "../payload";
import type { PushMessage } from "../provider";

/**
 * Expo hands APNs and FCM a payload of at most 4,096 bytes ("MessageTooBig"
 * otherwise, in the receipt) and adds its own fields to it (the project's
 * ids); the text is fitted to 4,096 less this allowance for them.
 */
export const EXPO_OVERHEAD_BYTES = 256;

export interface ExpoMessage {
  to: string;
  title: string;
  body: string;
  data: { path: string; url: string; event_id: string; index: number };
  sound: "default";
  ttl: number;
  /** Delivered at once, like APNs priority 10 and FCM's HIGH. */
  priority: "high";
  /** The app's Android notification channel, when it has one. */
  channelId?: string;
}

/** The message, with title and body shortened so what Expo forwards stays within 4,096 bytes. */
export function expoMessage(message: PushMessage, channelId?: string): ExpoMessage {
  const build = (text: VisibleText): ExpoMessage => ({
    to: message.token,
    title: text.title,
    body: text.body,
    data: { path: message.path, url: message.url, event_id: message.event_id, index: message.index },
    sound: "default",
    ttl: PUSH_LIFETIME_S,
    priority: "high",
    ...(channelId ? { channelId } : {}),
  });
  return build(fitText({ title: message.title, body: message.body }, (text) => expoPayloadBytes(build(text))));
}

/**
 * What counts against Expo's 4,096 bytes: what it forwards to the phone
 * (the text and the data; the token and the options stay with Expo), with
 * the allowance for Expo's own fields.
 */
export function expoPayloadBytes(message: ExpoMessage): number {
  const { title, body, data } = message;
  return jsonBytes({ title, body, data }) + EXPO_OVERHEAD_BYTES;
}
