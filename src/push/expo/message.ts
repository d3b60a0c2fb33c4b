/**
 * The Expo message for one notification: the visible text, the tap data
 * the app reads (`path`, `url`, `event_id`), the default sound, and the
 * same 24-hour lifetime as the other providers.
 */
import { PUSH_LIFETIME_S } from "../lifetime";
import { fitPayload, type VisibleText } from "../payload";
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
  data: { path: string; url: string; event_id: string };
  sound: "default";
  ttl: number;
  /** Delivered at once, like APNs priority 10 and FCM's HIGH. */
  priority: "high";
}

/** The message, with title and body shortened so what Expo forwards stays within 4,096 bytes. */
export function expoMessage(message: PushMessage): ExpoMessage {
  const build = (text: VisibleText): ExpoMessage => ({
    to: message.token,
    title: text.title,
    body: text.body,
    data: { path: message.path, url: message.url, event_id: message.event_id },
    sound: "default",
    ttl: PUSH_LIFETIME_S,
    priority: "high",
  });
  // What reaches the phone: the text and the data (the token and the options stay with Expo).
  const forwarded = (text: VisibleText) => {
    const { title, body, data } = build(text);
    return { title, body, data };
  };
  return build(fitPayload({ title: message.title, body: message.body }, forwarded, 4096 - EXPO_OVERHEAD_BYTES));
}
