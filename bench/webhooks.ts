/**
 * `notifications.sent` events shaped like LearnInk's, signed ahead of time
 * with the svix library the way Svix signs them, so the cost of signing
 * stays out of the measured time.
 */
import type { LearnInkNotification } from "../src/webhook/learnink.ts";
import { learnInkEvent, newMessageId, svixHeaders } from "../standins/learnink.ts";

export type Notification = LearnInkNotification;

/** A request ready to send: the raw body and the three svix headers. */
export interface SignedWebhook {
  id: string;
  body: string;
  headers: Record<string, string>;
  /** How many notifications the event carries. */
  notifications: number;
}

export const WEBHOOK_PATH = "/webhooks/learnink";


/** A notification for one user; `sameText`: the same text and path for everyone (an announcement), else per user. */
export function notification(userId: string, n = 0, sameText = false): Notification {
  return {
    title: "Time for your training",
    body: sameText ? "Safety 101 is waiting for you." : `Lesson ${n + 1} of Safety 101 is waiting for you.`,
    path: sameText ? "/courses/safety-101" : `/courses/safety-101/lessons/${n + 1}`,
    user_id: userId,
    custom_id: null,
    phone_number: "+15555550100",
  };
}

export function notificationsSent(notifications: readonly Notification[]): string {
  return JSON.stringify(learnInkEvent("notifications.sent", { notifications }));
}

/** Signs webhooks for one endpoint secret; the svix library does the HMAC. */
export class WebhookSigner {
  private readonly secret: string;

  constructor(secret: string) {
    this.secret = secret;
  }

  sign(notifications: readonly Notification[], id = newMessageId()): SignedWebhook {
    const body = notificationsSent(notifications);
    return { id, body, notifications: notifications.length, headers: svixHeaders(this.secret, id, body) };
  }
}
