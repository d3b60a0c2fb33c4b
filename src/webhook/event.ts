/**
 * Turns the verified body (still `unknown`) into a typed LearnInk event.
 * The envelope must be valid or the event is refused (400). Inside a
 * `notifications.sent`, each notification is checked on its own
 * (notification.ts): the invalid ones are set aside as rejections and the
 * rest go on, so one bad notification never costs the others. Only when
 * every notification is invalid is the event refused: that is most likely
 * a change in LearnInk's schema, and a 400 keeps the message in Svix to
 * replay once the relay is fixed.
 */
import { ValidationError } from "../errors";
import type { QueuedNotification } from "../queue/message";
import { checkNotification, type NotificationContext, type RejectedNotification } from "./notification";

export const NOTIFICATIONS_SENT = "notifications.sent";
/** The only api_version LearnInk sends today; another one is accepted when the event validates, with a warning. */
export const KNOWN_API_VERSION = "2022-11-15";

export type LearnInkEvent =
  | {
      type: typeof NOTIFICATIONS_SENT;
      /** How many notifications the event carried. */
      total: number;
      notifications: QueuedNotification[];
      rejections: RejectedNotification[];
    }
  | { type: string; notifications?: undefined };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Where a rejection points in the event, as in a 400's `field`. */
export function rejectionField(rejection: RejectedNotification): string {
  const at = `data.notifications[${rejection.index}]`;
  return rejection.field === null ? at : `${at}.${rejection.field}`;
}

export function parseEvent(body: unknown, context: NotificationContext): LearnInkEvent {
  if (!isRecord(body)) throw new ValidationError("invalid_event", undefined, "the event must be a JSON object");
  const { type, data } = body;
  if (typeof type !== "string" || type === "") {
    throw new ValidationError("invalid_event", "type", "must be a non-empty string");
  }
  if (type !== NOTIFICATIONS_SENT) return { type };
  if (!isRecord(data)) throw new ValidationError("invalid_event", "data", "must be an object");
  const list = data.notifications;
  if (!Array.isArray(list)) throw new ValidationError("invalid_event", "data.notifications", "must be an array");

  const notifications: QueuedNotification[] = [];
  const rejections: RejectedNotification[] = [];
  list.forEach((raw, index) => {
    const checked = checkNotification(raw, index, context);
    if (checked.ok) notifications.push(checked.notification);
    else rejections.push(checked.rejection);
  });
  if (notifications.length === 0 && rejections.length > 0) {
    const first = rejections[0]!;
    throw new ValidationError(
      "invalid_event",
      rejectionField(first),
      `${first.message} (every one of the ${list.length} notifications failed validation; nothing was queued or recorded)`,
    );
  }
  return { type, total: list.length, notifications, rejections };
}
