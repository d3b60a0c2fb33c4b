/**
 * How much of the 4,096-byte push payload a notification's tap data leaves
 * for its text, in the tightest of the providers' measures (each
 * descriptor's `payloadBytes`, as its own message module counts it).
 * `path` and `url` are never cut (src/push/payload.ts), so a path whose
 * push would be over the limit even with an empty title and body can
 * never be delivered: the webhook rejects it up front rather than have
 * every send fail.
 */
import { ONESIGNAL_MAX_DATA_BYTES, oneSignalData, oneSignalDataBytes } from "./onesignal/message";
import { jsonBytes, MAX_PAYLOAD_BYTES } from "./payload";
import type { PushMessage } from "./provider";
import { type Provider, PROVIDERS } from "./providers";

/** What each provider counts against 4,096 bytes for `message` (its token never counts). */
export function payloadBytesByProvider(message: PushMessage, now: number): Record<Provider, number> {
  const bytes: Partial<Record<Provider, number>> = {};
  for (const descriptor of PROVIDERS) bytes[descriptor.name] = descriptor.payloadBytes(message, now);
  return bytes as Record<Provider, number>;
}

/** Whether each provider's push carries the tap `url` beside the `path` (OneSignal's does not: onesignal/message.ts). */
const CARRIES_URL: Record<Provider, boolean> = { fcm: true, apns: true, expo: true, onesignal: false, hms: true };

/**
 * For one event: a function of a notification's `path` and tap `url` that
 * returns the bytes left for title and body in the tightest provider's
 * push; negative when the push cannot fit at all. Each push is built once
 * with an empty path and url, and a string's share of the JSON is its own
 * escaped length, so the per-notification cost is at most two
 * measurements, not one build per provider. When a path is known to leave
 * at least MIN_TEXT_ROOM, the room returned is a lower bound rather than the
 * exact figure.
 */
export function pushRoom(eventId: string, now: number): (path: string, url: string) => number {
  const message: PushMessage = {
    token: "",
    app: "default",
    environment: "production",
    title: "",
    body: "",
    path: "",
    url: "",
    event_id: eventId,
    // The widest index an event carries (a 10 MB webhook holds far fewer notifications).
    index: 9_999_999,
  };
  const empty = Object.entries(payloadBytesByProvider(message, now)) as [keyof typeof CARRIES_URL, number][];
  const room = MAX_PAYLOAD_BYTES - Math.max(...empty.map(([, bytes]) => bytes));
  return (path, url) => {
    // A UTF-16 unit is at most 6 bytes in JSON (\u0001): a short path is measured without encoding it.
    const most = room - 6 * (path.length + url.length);
    // Exact below MIN_TEXT_ROOM, where the webhook's decision is made (pathFit).
    if (most >= MIN_TEXT_ROOM) return most;
    // jsonBytes("") is the two quotes already counted in the empty push.
    const [pathBytes, urlBytes] = [jsonBytes(path) - 2, jsonBytes(url) - 2];
    return Math.min(...empty.map(([provider, bytes]) => MAX_PAYLOAD_BYTES - bytes - pathBytes - (CARRIES_URL[provider] ? urlBytes : 0)));
  };
}

/**
 * Bytes a push must leave for its title and body. With less, the text would
 * be cut to a few characters or to nothing: an alert with no text (and
 * OneSignal refuses an empty `contents`). 100 bytes keep at least a dozen
 * characters of any script, escaped as JSON.
 */
export const MIN_TEXT_ROOM = 100;

/**
 * For one event: a function of a notification's `path` and tap `url` that
 * says why that path cannot be delivered (a reason for the rejection), or
 * null when it can: it leaves at least MIN_TEXT_ROOM bytes for the text in
 * every provider's push, and OneSignal's `data` stays within 2,048 bytes.
 */
export function pathFit(eventId: string, now: number): (path: string, url: string) => string | null {
  const room = pushRoom(eventId, now);
  const dataWithoutPath = oneSignalDataBytes(oneSignalData({ path: "", event_id: eventId }));
  return (path, url) => {
    if (room(path, url) < MIN_TEXT_ROOM) {
      return `is too long: its push would leave less than ${MIN_TEXT_ROOM} of the ${MAX_PAYLOAD_BYTES} bytes for the title and body`;
    }
    if (dataWithoutPath + jsonBytes(path) - 2 > ONESIGNAL_MAX_DATA_BYTES) {
      return `is too long: OneSignal's data (the path and the event id) would be over ${ONESIGNAL_MAX_DATA_BYTES} bytes`;
    }
    return null;
  };
}
