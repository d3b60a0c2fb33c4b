/**
 * POST /webhooks/learnink: size check, Svix verification on the raw body,
 * validation, then a durable enqueue. The 200 goes out only after the queue
 * accepted every message of the event.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { RelayError } from "../errors";
import { log } from "../log";
import type { PushJob } from "../queue/message";
import { enqueueJobs, splitIntoJobs } from "../queue/enqueue";
import { parseJson } from "../http/json";
import { NOTIFICATIONS_SENT, parseEvent } from "./event";
import { svixHeaders, verifyWebhook } from "./verify";

/**
 * 10 MB holds a reminder to about 25,000 users at typical sizes, and keeps
 * the body, its parsed copy and the queue messages well inside a Worker's
 * 128 MB of memory (the platform itself accepts up to 100 MB bodies).
 */
export const MAX_WEBHOOK_BYTES = 10 * 1024 * 1024;

export const webhookRoutes = new Hono<{ Bindings: Env }>();

webhookRoutes.post(
  "/webhooks/learnink",
  bodyLimit({
    maxSize: MAX_WEBHOOK_BYTES,
    onError: () => {
      throw new RelayError("payload_too_large", 413, `the body is larger than ${MAX_WEBHOOK_BYTES} bytes`);
    },
  }),
  async (c) => {
    const receivedAt = Date.now();
    const headers = svixHeaders(c.req.raw.headers);
    const raw = await c.req.text();
    const eventId = verifyWebhook(raw, headers, c.env.LEARNINK_WEBHOOK_SECRET);
    // Parsed only after the signature held: a signed body that is not JSON is a 400, not a 401.
    const event = parseEvent(parseJson(raw));
    if (event.type !== NOTIFICATIONS_SENT || !event.notifications) {
      log("webhook_accepted", { svix_id: eventId, type: event.type, ignored: true });
      return c.json({ received: true, event_id: eventId, type: event.type, ignored: true });
    }
    const jobs = splitIntoJobs(eventId, event.notifications, receivedAt);
    await enqueueJobs(c.env.PUSH_QUEUE as Queue<PushJob>, jobs);
    const summary = { notifications: event.notifications.length, messages: jobs.length };
    log("webhook_accepted", { svix_id: eventId, type: event.type, ...summary });
    return c.json({ received: true, event_id: eventId, type: event.type, ...summary });
  },
);
