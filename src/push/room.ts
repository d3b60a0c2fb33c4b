/**
 * How much of the 4,096-byte push payload a notification's tap data leaves
 * for its text, in the tightest of the providers' measures (each
 * descriptor's `payloadBytes`, as its own message module counts it).
 * `path` and `url` are never cut (src/push/payload.ts), so a path whose
 * push would be over the limit even with an empty title and body can
 * never be delivered: the webhook rejects it up front rather than have
 * every send fail.
 */
import { jsonBytes, MAX_PAYLOAD_BYTES } from "./payload";
import type { PushMessage } from "./provider";
import { type Provider, PROVIDERS } from "./providers";

/** What each provider counts against 4,096 bytes for `message` (its token never counts). */
export function payloadBytesByProvider(message: PushMessage, now: number): Record<Provider, number> {
  const bytes: Partial<Record<Provider, number>> = {};
  for (const descriptor of PROVIDERS) bytes[descriptor.name] = descriptor.payloadBytes(message, now);
  return bytes as Record<Provider, number>;
}

/**
 * For one event: a function of a notification's `path` and tap `url` that
 * returns the bytes left for title and body in the tightest provider's
 * push; negative when the push cannot fit at all. Each push is built once
 * with an empty path and url, and a string's share of the JSON is its own
 * escaped length, so the per-notification cost is at most two
 * measurements, not one build per provider. When a path is known to fit,
 * the room returned is a lower bound rather than the exact figure.
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
  const room = MAX_PAYLOAD_BYTES - Math.max(...Object.values(payloadBytesByProvider(message, now)));
  return (path, url) => {
    // A UTF-16 unit is at most 6 bytes in JSON (\u0001): a short path is measured without encoding it.
    const most = room - 6 * (path.length + url.length);
    if (most >= 0) return most;
    // jsonBytes("") is the two quotes already counted in the empty push.
    return room - (jsonBytes(path) - 2) - (jsonBytes(url) - 2);
  };
}
