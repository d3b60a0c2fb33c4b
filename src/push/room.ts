/**
 * How much of the 4,096-byte push payload (FCM and APNs alike) a
 * notification's tap data leaves for its text. `path` and `url` are never
 * cut (src/push/payload.ts), so a path whose push would be over the limit
 * even with an empty title and body can never be delivered: the webhook
 * rejects it up front rather than have every send fail.
 */
import { apnsPayload } from "./apns/message";
import { fcmRequestBody } from "./fcm/message";
import { jsonBytes, MAX_PAYLOAD_BYTES } from "./payload";
import type { PushMessage } from "./provider";

/**
 * The FCM request is measured whole, token included (fcm-message.ts), so
 * the token's length counts. Google documents no maximum; registration
 * tokens are about 160 characters today, and 256 leaves a margin.
 */
export const ASSUMED_FCM_TOKEN_LENGTH = 256;
/** `apns-collapse-id` and the Android tag are at most 64 bytes (collapse-key.ts). */
const LONGEST_COLLAPSE_KEY = "k".repeat(64);

/**
 * For one event: a function of a notification's `path` and tap `url` that
 * returns the bytes left for title and body in the larger of its FCM and
 * APNs pushes; negative when the push cannot fit at all. Each push is
 * built once with an empty path and url, and a string's share of the JSON
 * is its own escaped length, so the per-notification cost is at most two
 * measurements, not two builds. When a path is known to fit, the room
 * returned is a lower bound rather than the exact figure.
 */
export function pushRoom(eventId: string, now: number): (path: string, url: string) => number {
  const message: PushMessage = {
    token: "t".repeat(ASSUMED_FCM_TOKEN_LENGTH),
    app: "default",
    environment: "production",
    title: "",
    body: "",
    path: "",
    url: "",
    event_id: eventId,
    index: 0,
  };
  const base = Math.max(jsonBytes(fcmRequestBody(message, LONGEST_COLLAPSE_KEY, now)), jsonBytes(apnsPayload(message)));
  const room = MAX_PAYLOAD_BYTES - base;
  return (path, url) => {
    // A UTF-16 unit is at most 6 bytes in JSON (\u0001): a short path is measured without encoding it.
    const most = room - 6 * (path.length + url.length);
    if (most >= 0) return most;
    // jsonBytes("") is the two quotes already counted in `base`.
    return room - (jsonBytes(path) - 2) - (jsonBytes(url) - 2);
  };
}
