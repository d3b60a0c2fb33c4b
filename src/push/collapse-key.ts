/**
 * The collapse key of a notification: the same for every send of one
 * (event, notification index), so if the unavoidable crash window between
 * sending and recording ever makes us send again, the phone replaces the
 * notification instead of showing two. APNs allows at most 64 bytes in
 * `apns-collapse-id` (and a header must be plain ASCII): longer or unusual
 * keys are replaced by their SHA-256 in hex, exactly 64 characters.
 */

export const MAX_COLLAPSE_KEY_BYTES = 64;

/** `${eventId}:${index}`, or its SHA-256 hex when that is over 64 bytes or not printable ASCII. */
export async function collapseKey(eventId: string, index: number): Promise<string> {
  const key = `${eventId}:${index}`;
  if (key.length <= MAX_COLLAPSE_KEY_BYTES && /^[\x21-\x7e]+$/.test(key)) return key;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
