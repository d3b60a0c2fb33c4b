/**
 * The `idempotency_key` of a OneSignal request: a UUID derived from the
 * event and the notifications the request carries, so sending the same
 * notifications again (a queue retry after a timeout, a duplicate
 * delivery) gets OneSignal's first answer back instead of a second
 * notification. OneSignal keeps a key 30 days and wants it in UUID form:
 * this is a name-based UUID (version 5, SHA-1, RFC 9562) of
 * `<event id>:<sorted notification indexes>`.
 */

/** The relay's own namespace for its name-based UUIDs (a fixed random UUID). */
const NAMESPACE = "6f1c2e54-9b7d-4c3a-8e21-5d0f7a9b3c64";

function bytesOf(uuid: string): Uint8Array {
  return Uint8Array.from(uuid.replaceAll("-", "").match(/../g)!.map((h) => parseInt(h, 16)));
}

/** A version-5 UUID of `name` in `namespaceUuid` (the relay's own unless given). */
export async function uuidV5(name: string, namespaceUuid: string = NAMESPACE): Promise<string> {
  const namespace = bytesOf(namespaceUuid);
  const text = new TextEncoder().encode(name);
  const input = new Uint8Array(namespace.length + text.length);
  input.set(namespace);
  input.set(text, namespace.length);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-1", input)).slice(0, 16);
  hash[6] = (hash[6]! & 0x0f) | 0x50; // version 5
  hash[8] = (hash[8]! & 0x3f) | 0x80; // RFC variant
  const hex = Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The key of a request carrying these notifications (indexes in the event) of `eventId`. */
export function idempotencyKey(eventId: string, indexes: readonly number[]): Promise<string> {
  return uuidV5(`${eventId}:${[...new Set(indexes)].sort((a, b) => a - b).join(",")}`);
}
