/**
 * POST /webhooks/learnink: size check, Svix verification on the raw body,
 * validation, the rejected notifications recorded, then a durable enqueue
 * of the others. The 200 goes out only after D1 recorded every rejection
 * and the queue accepted every message of the event: anything less is a
 * 503 and Svix sends the event again (both steps are idempotent).
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { eventBucket } from "../db/doc";
import { isUsableOrgId } from "../link";
import { RelayError } from "../errors";
import { parseJson } from "../http/json";
import { log } from "../log";
import { pathFit } from "../push/room";
import { enqueueJobs, splitIntoJobs } from "../queue/enqueue";
import type { PushJob } from "../queue/message";
import { KNOWN_API_VERSION, NOTIFICATIONS_SENT, parseEvent, rejectionField } from "./event";
import { recordRejected } from "./rejections";
import { bodyText, svixHeaders, verifyWebhook } from "./verify";

/**
 * 10 MB holds a reminder to about 25,000 users at typical sizes, and keeps
 * the body, its parsed copy and the queue messages well inside a Worker's
 * 128 MB of memory (the platform itself accepts up to 100 MB bodies).
 */
export const MAX_WEBHOOK_BYTES = 10 * 1024 * 1024;
/** Rejections listed in the answer; the counts cover all, the ledger keeps all. */
export const LISTED_REJECTIONS = 10;
/**
 * Tap paths are checked under the configured org id; while that is unset,
 * under a stand-in, so the checks still run (the sends then fail with
 * `org_id_not_configured`, as before).
 */
const STAND_IN_ORG_ID = "org";

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
    const raw = bodyText(await c.req.arrayBuffer());
    const eventId = verifyWebhook(raw, headers, c.env.LEARNINK_WEBHOOK_SECRET);
    // Parsed only after the signature held: a signed body that is not JSON is a 400, not a 401.
    const body = parseJson(raw);
    warnOnApiVersion(eventId, body);
    const orgId = isUsableOrgId(c.env.LEARNINK_ORG_ID) ? c.env.LEARNINK_ORG_ID : STAND_IN_ORG_ID;
    const event = parseEvent(body, { orgId, pathFit: pathFit(eventId, receivedAt) });
    if (event.type !== NOTIFICATIONS_SENT || !event.notifications) {
      log("webhook_accepted", { svix_id: eventId, type: event.type, ignored: true });
      return c.json({ received: true, event_id: eventId, type: event.type, ignored: true });
    }
    // Recorded first: a 200 must never leave a rejected notification unrecorded.
    const bucket = eventBucket(eventId, (body as { timestamp?: unknown }).timestamp, receivedAt);
    await recordRejected(c.env.DB, { eventId, bucket, receivedAt }, event.rejections);
    const jobs = splitIntoJobs(eventId, event.notifications, receivedAt, { t: bucket });
    await enqueueJobs(c.env.PUSH_QUEUE as Queue<PushJob>, jobs);

    const summary = {
      notifications: event.total,
      queued: event.notifications.length,
      rejected: event.rejections.length,
      messages: jobs.length,
    };
    const first = event.rejections[0];
    log(
      "webhook_accepted",
      {
        svix_id: eventId,
        type: event.type,
        ...summary,
        first_rejection: first ? `${rejectionField(first)}: ${first.code}: ${first.message}` : undefined,
      },
      first ? "warn" : "info",
    );
    const rejections = event.rejections
      .slice(0, LISTED_REJECTIONS)
      .map(({ index, field, code, message }) => ({ index, field, code, message }));
    return c.json({ received: true, event_id: eventId, type: event.type, ...summary, rejections });
  },
);

/** An api_version other than the one this relay was built for: worth a look even when the event validates. */
function warnOnApiVersion(eventId: string, body: unknown): void {
  const version = typeof body === "object" && body !== null ? (body as Record<string, unknown>).api_version : undefined;
  if (version === KNOWN_API_VERSION) return;
  log(
    "webhook_api_version",
    { svix_id: eventId, api_version: typeof version === "string" ? version.slice(0, 64) : null, expected: KNOWN_API_VERSION },
    "warn",
  );
}
