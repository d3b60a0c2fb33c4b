/**
 * LearnInk's side of the webhook, for the tests, the benchmark and
 * `npm run send-example`: events in LearnInk's envelope, and the three
 * headers Svix adds, signed with the svix library itself. Runs in Node and
 * in workerd alike.
 */
import { Webhook } from "svix";

/** The `api_version` of every LearnInk event today. */
export const LEARNINK_API_VERSION = "2022-11-15";

/** An event in LearnInk's envelope. */
export function learnInkEvent(type: string, data: unknown, now = new Date()) {
  return { api_version: LEARNINK_API_VERSION, object: "event", type, timestamp: now.toISOString(), data };
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const KSUID_EPOCH = 1_400_000_000;

/**
 * A message id as Svix makes it: `msg_` and a KSUID (27 base62 characters
 * of 4 bytes of the second it was made, then 16 random bytes). The relay
 * files an event's ledger documents under that second, so a random id
 * would file it at a random time.
 */
export function newMessageId(now = Date.now()): string {
  let value = BigInt(Math.floor(now / 1000) - KSUID_EPOCH);
  for (const byte of crypto.getRandomValues(new Uint8Array(16))) value = (value << 8n) | BigInt(byte);
  let text = "";
  for (let i = 0; i < 27; i++, value /= 62n) text = BASE62[Number(value % 62n)] + text;
  return `msg_${text}`;
}

/** The Svix headers for `body`, signed with `secret` (`whsec_...`) at `timestamp` (unix seconds; now by default). */
export function svixHeaders(secret: string, id: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  return {
    "content-type": "application/json",
    "svix-id": id,
    "svix-timestamp": String(timestamp),
    "svix-signature": new Webhook(secret).sign(id, new Date(timestamp * 1000), body),
  };
}
