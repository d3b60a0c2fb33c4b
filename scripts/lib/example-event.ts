/**
 * The events LearnInk sends, built the way its dashboard's "Send Example"
 * does, and signed with the svix library exactly as Svix signs them.
 */
import { learnInkEvent } from "../../standins/learnink.ts";

export { newMessageId, svixHeaders as signedHeaders } from "../../standins/learnink.ts";

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
  if (o.type !== "notifications.sent") {
    return learnInkEvent(o.type, { user_id: o.userId, custom_id: o.customId, course_id: "course_example" }, now);
  }
  const notifications = Array.from({ length: o.count }, (_, i) => ({
    title: o.count > 1 ? `${o.title} (${i + 1}/${o.count})` : o.title,
    body: o.body,
    path: o.path,
    user_id: o.userId,
    custom_id: o.customId,
    phone_number: null,
  }));
  return learnInkEvent(o.type, { notifications }, now);
}

