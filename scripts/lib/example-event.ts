/**
 * The events LearnInk sends, built the way its dashboard's "Send Example"
 * does, and signed with the svix library exactly as Svix signs them.
 */
import { randomBytes } from "node:crypto";
import { Webhook } from "svix";

export interface ExampleOptions {
  type: string;
  customId: string | null;
  userId: string;
  title: string;
  body: string;
  path: string;
  /** Number of notifications (all for the same user). */
  count: number;
}

/** The LearnInk envelope; `notifications.sent` carries one notification per target. */
export function exampleEvent(o: ExampleOptions, now = new Date()) {
  const base = { api_version: "2022-11-15", object: "event", type: o.type, timestamp: now.toISOString() };
  if (o.type !== "notifications.sent") {
    return { ...base, data: { user_id: o.userId, custom_id: o.customId, course_id: "course_example" } };
  }
  const notifications = Array.from({ length: o.count }, (_, i) => ({
    title: o.count > 1 ? `${o.title} (${i + 1}/${o.count})` : o.title,
    body: o.body,
    path: o.path,
    user_id: o.userId,
    custom_id: o.customId,
    phone_number: null,
  }));
  return { ...base, data: { notifications } };
}

/** A message id shaped like Svix's (`msg_` and 27 characters). */
export const newMessageId = () => `msg_${randomBytes(20).toString("base64url").slice(0, 27)}`;

/** The three Svix headers for `body`, signed now (or at `timestamp`, unix seconds). */
export function signedHeaders(secret: string, id: string, body: string, timestamp = Math.floor(Date.now() / 1000)) {
  return {
    "content-type": "application/json",
    "svix-id": id,
    "svix-timestamp": String(timestamp),
    "svix-signature": new Webhook(secret).sign(id, new Date(timestamp * 1000), body),
  };
}
