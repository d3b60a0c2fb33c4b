/**
 * The body of a OneSignal Create message request for one group of
 * notifications with the same text and tap path: the users by external id
 * (`include_aliases`, the only targeting mode), English heading and
 * content, the tap data the app reads (`path` and `event_id`; never
 * OneSignal's own `url`, which would open a browser instead of the app),
 * the idempotency key, and the same 24-hour lifetime as the other providers.
 *
 * OneSignal hands `data` to the app as `additionalData`, at most 2,048
 * bytes. The tap link is `https://m.learn.ink/{orgId}{path}?webview=true`,
 * which the app builds from `path` (it adds the sign-in token there
 * anyway), so the path is carried once, not twice as `path` and `url`:
 * that keeps every path the webhook accepts within the limit.
 */
import { PUSH_LIFETIME_S } from "../lifetime";
import { fitText, jsonBytes, type VisibleText } from "../payload";

/**
 * APNs and FCM allow 4,096 bytes; OneSignal wraps the data in its own
 * fields (its notification id and more), so the text is fitted to 4,096
 * less this allowance.
 */
export const ONESIGNAL_OVERHEAD_BYTES = 512;

/** OneSignal's limit on `data` (its `additionalData`), in bytes of JSON. */
export const ONESIGNAL_MAX_DATA_BYTES = 2048;

export interface OneSignalContent extends VisibleText {
  path: string;
  event_id: string;
}

/** The tap data: the path (the app builds the link from it) and the event. */
export interface OneSignalData {
  path: string;
  event_id: string;
}

export interface OneSignalRequestBody {
  app_id: string;
  target_channel: "push";
  include_aliases: { external_id: string[] };
  /** Left out when the body is empty and the title is the content. */
  headings?: { en: string };
  contents: { en: string };
  data: OneSignalData;
  idempotency_key: string;
  collapse_id: string;
  ttl: number;
  priority: 10;
}

/** The request for `externalIds`, with title and body shortened so what reaches the phone stays within 4,096 bytes. */
export function oneSignalBody(appId: string, externalIds: string[], content: OneSignalContent, key: string): OneSignalRequestBody {
  const build = (text: VisibleText): OneSignalRequestBody => ({
    app_id: appId,
    target_channel: "push",
    include_aliases: { external_id: externalIds },
    // OneSignal refuses an empty `contents`: a notification without a body shows its title as the content.
    ...(text.body === "" ? {} : { headings: { en: text.title } }),
    contents: { en: text.body === "" ? text.title : text.body },
    data: oneSignalData(content),
    idempotency_key: key,
    // A resend of the same notifications replaces the first on the phone rather than stacking.
    collapse_id: key,
    ttl: PUSH_LIFETIME_S,
    priority: 10,
  });
  return build(fitText({ title: content.title, body: content.body }, (text) => oneSignalPayloadBytes(build(text))));
}

/** What counts against the 4,096 bytes: what reaches the phone (heading, content, data), with OneSignal's allowance. */
export function oneSignalPayloadBytes(body: OneSignalRequestBody): number {
  const { headings, contents, data } = body;
  return jsonBytes({ headings, contents, data }) + ONESIGNAL_OVERHEAD_BYTES;
}

/** The `data` of a request for `content`. */
export function oneSignalData(content: Pick<OneSignalContent, "path" | "event_id">): OneSignalData {
  return { path: content.path, event_id: content.event_id };
}

/** Bytes `data` takes against OneSignal's 2,048. */
export function oneSignalDataBytes(data: OneSignalData): number {
  return jsonBytes(data);
}
