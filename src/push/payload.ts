/**
 * Keeps a push payload within the providers' 4,096-byte limit (FCM and
 * APNs alike) by shortening what the user reads: the body first, then the
 * title, cut between characters (never inside a UTF-8 sequence, a
 * surrogate pair or an emoji cluster) and ended with "…". `path`, `url` and
 * `event_id` are never touched: without them the tap leads nowhere.
 */

/** Both providers refuse payloads above 4,096 bytes. */
export const MAX_PAYLOAD_BYTES = 4096;

/** The text a notification shows. */
export interface VisibleText {
  title: string;
  body: string;
}

const ELLIPSIS = "…";
const encoder = new TextEncoder();

/** UTF-8 length of `value` serialized as JSON. */
export function jsonBytes(value: unknown): number {
  return encoder.encode(JSON.stringify(value)).length;
}

/**
 * The longest title and body for which `build(text)` serializes to at most
 * `maxBytes`: `text` itself when it fits. When even an empty body and title
 * do not fit (an absurdly long path), that is returned and the provider's
 * refusal says why.
 */
export function fitPayload(
  text: VisibleText,
  build: (text: VisibleText) => unknown,
  maxBytes: number = MAX_PAYLOAD_BYTES,
): VisibleText {
  return fitText(text, (t) => jsonBytes(build(t)), maxBytes);
}

/**
 * As `fitPayload`, for a provider whose limit is not the size of one JSON
 * value: `size(text)` is what the provider counts (FCM: the larger of the
 * delivered payload and the APNs payload it builds for an iOS device).
 */
export function fitText(text: VisibleText, size: (text: VisibleText) => number, maxBytes: number = MAX_PAYLOAD_BYTES): VisibleText {
  const fits = (t: VisibleText) => size(t) <= maxBytes;
  if (fits(text)) return text;
  const body = longestFitting(text.body, (b) => fits({ title: text.title, body: b }));
  if (body !== null) return { title: text.title, body };
  const title = longestFitting(text.title, (t) => fits({ title: t, body: "" }));
  return { title: title ?? "", body: "" };
}

/**
 * `text` when its UTF-8 form is at most `maxBytes`, else its longest
 * shortened form (ended with "…") that is, cut like `fitPayload` cuts.
 * With `maxBytes` at the payload limit it keeps all that a push could ever
 * show of the text: no more than the whole payload fits in one.
 */
export function shortenToBytes(text: string, maxBytes: number): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes: most text is known to fit without encoding it.
  if (text.length * 3 <= maxBytes || (text.length <= maxBytes && encoder.encode(text).length <= maxBytes)) return text;
  // And at least 1: nothing past maxBytes units can be kept, so the (possibly huge) rest is never segmented.
  const head = text.slice(0, maxBytes + 1);
  return longestFitting(head, (candidate) => encoder.encode(candidate).length <= maxBytes) ?? "";
}

/**
 * The longest shortened form of `text` accepted by `fits`, or null if none
 * is (not even the empty string). Binary search: a longer prefix never
 * serializes shorter.
 */
function longestFitting(text: string, fits: (candidate: string) => boolean): string | null {
  const best = longestPrefix(characters(text), fits);
  // A first character bigger than the room (a cluster of hundreds of combining marks) would leave nothing:
  // then it is cut between code points rather than shown as no text at all.
  if ((best === null || best === "") && text !== "") return longestPrefix(Array.from(text), fits) ?? best;
  return best;
}

/** The longest `shortened(pieces, n)` accepted by `fits`, or null if none is. */
function longestPrefix(pieces: readonly string[], fits: (candidate: string) => boolean): string | null {
  let best: string | null = null;
  let low = 0;
  let high = pieces.length - 1; // the whole text is known not to fit
  while (low <= high) {
    const n = (low + high) >> 1;
    const candidate = shortened(pieces, n);
    if (fits(candidate)) {
      best = candidate;
      low = n + 1;
    } else {
      high = n - 1;
    }
  }
  return best;
}

/** The first `n` characters and an ellipsis; nothing at all for n = 0 (a lone "…" says nothing). */
function shortened(pieces: readonly string[], n: number): string {
  return n === 0 ? "" : pieces.slice(0, n).join("").trimEnd() + ELLIPSIS;
}

/**
 * User-perceived characters (grapheme clusters), so a flag or a family emoji
 * is kept whole or dropped whole; code points where Intl.Segmenter is missing.
 */
function characters(text: string): string[] {
  if (typeof Intl.Segmenter === "function") {
    return Array.from(new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text), (s) => s.segment);
  }
  return Array.from(text);
}
