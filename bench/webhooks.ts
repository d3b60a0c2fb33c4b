/**
 * `notifications.sent` events shaped like LearnInk's, signed ahead of time
 * with the svix library the way Svix signs them, so the cost of signing
 * stays out of the measured time.
 */
import { randomBytes } from "node:crypto";
import { Webhook } from "svix";
import type { LearnInkNotification } from "../src/webhook/learnink.ts";

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

/** A fresh Svix-style message id. */
export const messageId = () => `msg_${randomBytes(15).toString("base64url")}`;

export function notification(userId: string, n = 0): Notification {
  return {
    title: "Time for your training",
    body: `Lesson ${n + 1} of Safety 101 is waiting for you.`,
    path: `/courses/safety-101/lessons/${n + 1}`,
    user_id: userId,
    custom_id: null,
    phone_number: "+15555550100",
  };
}

export function notificationsSent(notifications: readonly Notification[]): string {
  return JSON.stringify({
    api_version: "2022-11-15",
    object: "event",
    type: "notifications.sent",
    timestamp: new Date().toISOString(),
    data: { notifications },
  });
}

/** Signs webhooks for one endpoint secret; the svix library does the HMAC. */
export class WebhookSigner {
  private readonly hook: Webhook;

  constructor(secret: string) {
    this.hook = new Webhook(secret);
  }

  sign(notifications: readonly Notification[], id = messageId()): SignedWebhook {
    const body = notificationsSent(notifications);
    const now = new Date();
    return {
      id,
      body,
      notifications: notifications.length,
      headers: {
        "content-type": "application/json",
        "svix-id": id,
        "svix-timestamp": String(Math.floor(now.getTime() / 1000)),
        "svix-signature": this.hook.sign(id, now, body),
      },
    };
  }
}
