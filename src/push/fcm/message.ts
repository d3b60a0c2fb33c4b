/**
 * The body of an FCM HTTP v1 `messages:send` request for one notification:
 * the visible text, the tap data (strings only, as FCM requires), high
 * priority on Android, a collapse key on both platforms, the app's Android
 * notification channel when it has one (else Android shows the app's
 * default channel, whose name the user sees in settings), and for iOS the
 * `apns-push-type: alert` Apple asks of every alert.
 */
import { PUSH_LIFETIME_S } from "../lifetime";
import { fitText, jsonBytes, type VisibleText } from "../payload";
import type { PushMessage } from "../provider";

export interface FcmRequestBody {
  message: {
    token: string;
    notification: VisibleText;
    data: { path: string; url: string; event_id: string; index: string };
    android: { priority: "HIGH"; ttl: string; notification: { tag: string; channel_id?: string } };
    apns: {
      headers: { "apns-collapse-id": string; "apns-push-type": "alert"; "apns-priority": "10"; "apns-expiration": string };
      payload: { aps: { sound: "default" } };
    };
  };
}

/**
 * FCM adds keys of its own (`gcm.message_id`, `google.c.*`) to the payload
 * it hands APNs for an iOS device; this much is kept free for them.
 */
export const FCM_APNS_OVERHEAD_BYTES = 256;

/**
 * What FCM counts against its 4,096-byte limit ("maximum payload for both
 * message types is 4096 bytes"): the payload that reaches the device, the
 * notification and the data, not the token or the delivery options; or,
 * when larger, the APNs payload FCM builds from them for an iOS device,
 * with FCM's own keys. A registration token (up to 4,096 characters, as the
 * device API accepts) never costs the text a byte.
 */
export function fcmPayloadBytes(body: FcmRequestBody): number {
  const { notification, data, apns } = body.message;
  const forIos = { aps: { alert: notification, ...apns.payload.aps }, ...data };
  return Math.max(jsonBytes({ notification, data }), jsonBytes(forIos) + FCM_APNS_OVERHEAD_BYTES);
}

/**
 * The request body, with title and body shortened so the payload FCM
 * counts stays within 4,096 bytes (fcmPayloadBytes). A reminder lives 24
 * hours on both platforms, as on direct APNs (FCM's default would keep it
 * four weeks).
 */
export function fcmRequestBody(message: PushMessage, collapseKey: string, now: number, channelId?: string): FcmRequestBody {
  const android = channelId ? { tag: collapseKey, channel_id: channelId } : { tag: collapseKey };
  const build = (text: VisibleText): FcmRequestBody => ({
    message: {
      token: message.token,
      notification: { title: text.title, body: text.body },
      data: { path: message.path, url: message.url, event_id: message.event_id, index: String(message.index) },
      android: { priority: "HIGH", ttl: `${PUSH_LIFETIME_S}s`, notification: android },
      apns: {
        headers: {
          "apns-collapse-id": collapseKey,
          "apns-push-type": "alert",
          "apns-priority": "10",
          "apns-expiration": String(Math.floor(now / 1000) + PUSH_LIFETIME_S),
        },
        payload: { aps: { sound: "default" } },
      },
    },
  });
  return build(fitText({ title: message.title, body: message.body }, (text) => fcmPayloadBytes(build(text))));
}
