/**
 * Turns the verified body (still `unknown`) into a typed LearnInk event.
 * Only `notifications.sent` is forwarded; its notifications are checked one
 * by one and lose `phone_number` here, so it never reaches the queue, D1 or
 * a log line.
 */
import { ValidationError } from "../errors";
import type { QueuedNotification } from "../queue/message";

export const NOTIFICATIONS_SENT = "notifications.sent";

/**
 * Bounds that keep any one notification far below the 128 KB queue message
 * limit. Title and body are shortened again to fit the 4 KB push payload at
 * send time, so anything past these could never be shown anyway.
 */
export const LIMITS = {
  title: 1_024,
  body: 8_192,
  path: 2_048,
  id: 256,
} as const;

export type LearnInkEvent =
  | { type: typeof NOTIFICATIONS_SENT; notifications: QueuedNotification[] }
  | { type: string; notifications?: undefined };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function parseEvent(body: unknown): LearnInkEvent {
  if (!isRecord(body)) throw new ValidationError("invalid_event", undefined, "the event must be a JSON object");
  const { type, data } = body;
  if (typeof type !== "string" || type === "") {
    throw new ValidationError("invalid_event", "type", "must be a non-empty string");
  }
  if (type !== NOTIFICATIONS_SENT) return { type };
  if (!isRecord(data)) throw new ValidationError("invalid_event", "data", "must be an object");
  const list = data.notifications;
  if (!Array.isArray(list)) throw new ValidationError("invalid_event", "data.notifications", "must be an array");
  return { type, notifications: list.map(parseNotification) };
}

function parseNotification(raw: unknown, i: number): QueuedNotification {
  const at = `data.notifications[${i}]`;
  if (!isRecord(raw)) throw new ValidationError("invalid_event", at, "must be an object");
  const field = (name: string, limit: number, nullable: boolean): string | null => {
    const value = raw[name];
    if (nullable && (value === null || value === undefined)) return null;
    if (typeof value !== "string") {
      throw new ValidationError("invalid_event", `${at}.${name}`, nullable ? "must be a string or null" : "must be a string");
    }
    if (value.length > limit) {
      throw new ValidationError("invalid_event", `${at}.${name}`, `must be at most ${limit} characters`);
    }
    return value;
  };
  const title = field("title", LIMITS.title, false) as string;
  const body = field("body", LIMITS.body, false) as string;
  const path = field("path", LIMITS.path, false) as string;
  if (!path.startsWith("/")) throw new ValidationError("invalid_event", `${at}.path`, "must start with /");
  const user_id = field("user_id", LIMITS.id, false) as string;
  if (user_id === "") throw new ValidationError("invalid_event", `${at}.user_id`, "must not be empty");
  const custom_id = field("custom_id", LIMITS.id, true);
  // Checked for shape like the rest, then dropped: it is never queued or stored.
  field("phone_number", LIMITS.id, true);
  return { i, title, body, path, user_id, custom_id: custom_id === "" ? null : custom_id };
}
