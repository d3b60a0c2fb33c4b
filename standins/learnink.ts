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

/** A message id shaped like Svix's (`msg_` and 27 characters). */
export function newMessageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(21));
  return `msg_${btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").slice(0, 27)}`;
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
