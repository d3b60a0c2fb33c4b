/**
 * The operations API: what happened to an event, what happened to a user,
 * counts over recent windows, and a replay of what failed.
 */
import { Hono } from "hono";
import { DELIVERY_STATUSES, isDeliveryStatus } from "../db/ledger";
import { type DeliveryRow, eventDeliveries, eventSummary, failedNotifications, userDeliveries } from "../db/ledger-reads";
import { readStats } from "../db/stats";
import { userOf } from "../devices/validate";
import { NotFoundError, ValidationError } from "../errors";
import type { PushJob } from "../queue/message";
import { enqueueJobs, splitIntoJobs } from "../queue/enqueue";

export const opsRoutes = new Hono<{ Bindings: Env }>();

const MAX_PAGE = 1_000;

function presentDelivery(row: DeliveryRow) {
  return {
    index: row.idx,
    device_token: row.device_token === "" ? null : row.device_token,
    provider: row.provider,
    app: row.app,
    status: row.status,
    attempts: row.attempts,
    provider_id: row.provider_id,
    error: row.error,
    custom_id: row.custom_id,
    user_id: row.user_id,
    path: row.path,
    latency_ms: row.latency_ms,
    next_attempt_at: row.next_attempt_at === null ? null : new Date(row.next_attempt_at).toISOString(),
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

function pageLimit(value: string | undefined): number {
  if (value === undefined) return MAX_PAGE;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new ValidationError("invalid_request", "limit", `must be an integer from 1 to ${MAX_PAGE}`);
  }
  return limit;
}

/** Cursors are opaque to clients: base64url of "index:token". */
const encodeCursor = (row: DeliveryRow) => btoa(`${row.idx}:${row.device_token}`).replace(/\+/g, "-").replace(/\//g, "_");

function decodeCursor(value: string | undefined): { idx: number; token: string } | undefined {
  if (value === undefined) return undefined;
  try {
    const text = atob(value.replace(/-/g, "+").replace(/_/g, "/"));
    const colon = text.indexOf(":");
    const idx = Number(text.slice(0, colon));
    if (colon < 1 || !Number.isInteger(idx)) throw new Error("bad cursor");
    return { idx, token: text.slice(colon + 1) };
  } catch (error) {
    throw new ValidationError("invalid_request", "cursor", "is not a cursor this API returned", error);
  }
}

opsRoutes.get("/events/:svix_id", async (c) => {
  const eventId = c.req.param("svix_id");
  const status = c.req.query("status");
  if (status !== undefined && !isDeliveryStatus(status)) {
    throw new ValidationError("invalid_request", "status", `must be one of ${DELIVERY_STATUSES.join(", ")}`);
  }
  const limit = pageLimit(c.req.query("limit"));
  const [summary, rows] = await Promise.all([
    eventSummary(c.env.DB, eventId),
    eventDeliveries(c.env.DB, eventId, {
      after: decodeCursor(c.req.query("cursor")),
      status,
      limit,
    }),
  ]);
  if (Object.keys(summary).length === 0) {
    throw new NotFoundError("no deliveries recorded for this event (they appear once its queue message is consumed)");
  }
  return c.json({
    event_id: eventId,
    summary,
    deliveries: rows.map(presentDelivery),
    next_cursor: rows.length === limit ? encodeCursor(rows.at(-1)!) : null,
  });
});

opsRoutes.post("/events/:svix_id/replay", async (c) => {
  const eventId = c.req.param("svix_id");
  const [summary, failed] = await Promise.all([eventSummary(c.env.DB, eventId), failedNotifications(c.env.DB, eventId)]);
  if (Object.keys(summary).length === 0) throw new NotFoundError("no deliveries recorded for this event");
  const jobs = splitIntoJobs(eventId, failed.notifications, Date.now(), { retry_failed: true });
  if (jobs.length > 0) await enqueueJobs(c.env.PUSH_QUEUE as Queue<PushJob>, jobs);
  return c.json(
    { event_id: eventId, replayed: { notifications: failed.notifications.length, deliveries: failed.deliveries }, messages: jobs.length },
    jobs.length > 0 ? 202 : 200,
  );
});

opsRoutes.get("/users/:id/deliveries", async (c) => {
  const user = userOf(c.req.param("id"), c.req.query("by"));
  const limit = pageLimit(c.req.query("limit") ?? "50");
  const rows = await userDeliveries(c.env.DB, user.by, user.id, limit);
  return c.json({
    [user.by]: user.id,
    deliveries: rows.map((row) => ({ event_id: row.event_id, ...presentDelivery(row) })),
  });
});

opsRoutes.get("/stats", async (c) => c.json(await readStats(c.env.DB, Date.now())));
