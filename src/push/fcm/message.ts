/**
 * The body of an FCM HTTP v1 `messages:send` request for one notification:
 * the visible text, the tap data (strings only, as FCM requires), high
 * priority on Android, and a collapse key on both platforms.
 */
import { PUSH_LIFETIME_S } from "../lifetime";
import { fitPayload, type VisibleText } from "../payload";
import type { PushMessage } from "../provider";

export interface FcmRequestBody {
  message: {
    token: string;
    notification: VisibleText;
    data: { path: string; url: string; event_id: string };
    android: { priority: "HIGH"; ttl: string; notification: { tag: string } };
    apns: {
      headers: { "apns-collapse-id": string; "apns-priority": "10"; "apns-expiration": string };
      payload: { aps: { sound: "default" } };
    };
  };
}

/**
 * The request body, with title and body shortened so the whole request
 * stays within 4,096 bytes. A reminder lives 24 hours on both platforms,
 * as on direct APNs (FCM's default would keep it four weeks).
 */
export function fcmRequestBody(message: PushMessage, collapseKey: string, now: number): FcmRequestBody {
  // Measuring the whole request (token included) is stricter than FCM's own count: never too big.
  const build = (text: VisibleText): FcmRequestBody => ({
    message: {
      token: message.token,
      notification: { title: text.title, body: text.body },
      data: { path: message.path, url: message.url, event_id: message.event_id },
      android: { priority: "HIGH", ttl: `${PUSH_LIFETIME_S}s`, notification: { tag: collapseKey } },
      apns: {
        headers: {
          "apns-collapse-id": collapseKey,
          "apns-priority": "10",
          "apns-expiration": String(Math.floor(now / 1000) + PUSH_LIFETIME_S),
        },
        payload: { aps: { sound: "default" } },
      },
    },
  });
  return build(fitPayload({ title: message.title, body: message.body }, build));
}
