/**
 * The request APNs gets for one notification: headers and JSON payload.
 */
import { PUSH_LIFETIME_S } from "../lifetime";
import { fitPayload, type VisibleText } from "../payload";
import type { PushMessage } from "../provider";

export interface ApnsPayload {
  aps: { alert: VisibleText; sound: "default" };
  path: string;
  url: string;
  event_id: string;
  /** The notification's position in the event: with event_id, what the app reports a tap with. */
  index: number;
}

/** Apple keeps an undelivered notification until `apns-expiration` (and only the latest per collapse id). */
export const APNS_EXPIRATION_S = PUSH_LIFETIME_S;

/** The JSON payload, with title and body shortened to stay within 4,096 bytes. */
export function apnsPayload(message: PushMessage): ApnsPayload {
  const build = (text: VisibleText): ApnsPayload => ({
    aps: { alert: { title: text.title, body: text.body }, sound: "default" },
    path: message.path,
    url: message.url,
    event_id: message.event_id,
    index: message.index,
  });
  return build(fitPayload({ title: message.title, body: message.body }, build));
}

/** Request headers for a push sent at `now` (epoch ms). */
export function apnsHeaders(jwt: string, topic: string, collapseKey: string, now: number): Record<string, string> {
  return {
    authorization: `bearer ${jwt}`,
    "apns-topic": topic,
    "apns-push-type": "alert",
    "apns-priority": "10",
    "apns-expiration": String(Math.floor(now / 1000) + APNS_EXPIRATION_S),
    "apns-collapse-id": collapseKey,
    "content-type": "application/json",
  };
}
