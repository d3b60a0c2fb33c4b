/**
 * The operations API: what happened to an event, what happened to a user,
 * counts over recent windows, and a replay of what failed.
 */
import { Hono } from "hono";
import { DELIVERY_STATUSES, isDeliveryStatus } from "../db/ledger";
import { type DeliveryRow, eventPage, userDeliveries } from "../db/ledger-reads";
import { readStats } from "../db/stats";
import { userOf } from "../devices/validate";
import { NotFoundError, ValidationError } from "../errors";
import { decodeCursor, encodeCursor, pageLimit } from "./paging";
import { replayEvent } from "./replay";

export const opsRoutes = new Hono<{ Bindings: Env }>();

/** A delivery as the API shows it (docs/api.md): the one read model's row, times as ISO strings, no device as null. */
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
    detail: row.detail,
    custom_id: row.custom_id,
    user_id: row.user_id,
    path: row.path,
    latency_ms: row.latency_ms,
    next_attempt_at: row.next_attempt_at === null ? null : new Date(row.next_attempt_at).toISOString(),
    opened_at: row.opened_at === null ? null : new Date(row.opened_at).toISOString(),
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

opsRoutes.get("/events/:svix_id", async (c) => {
  const eventId = c.req.param("svix_id");
  const status = c.req.query("status");
  if (status !== undefined && !isDeliveryStatus(status)) {
    throw new ValidationError("invalid_request", "status", `must be one of ${DELIVERY_STATUSES.join(", ")}`);
  }
  const limit = pageLimit(c.req.query("limit"));
  const after = decodeCursor(c.req.query("cursor"), ["number", "string"]);
  const page = await eventPage(c.env.DB, eventId, { after: after && { idx: after[0], token: after[1] }, status, limit }, Date.now());
  if (!page) throw new NotFoundError("no deliveries recorded for this event (they appear once its queue message is consumed)");
  const { summary, rows } = page;
  return c.json({
    event_id: eventId,
    summary,
    deliveries: rows.map(presentDelivery),
    next_cursor: rows.length === limit ? encodeCursor(rows.at(-1)!.idx, rows.at(-1)!.device_token) : null,
  });
});

opsRoutes.post("/events/:svix_id/replay", async (c) => {
  const result = await replayEvent(c.env, c.req.param("svix_id"));
  return c.json(result, result.messages > 0 ? 202 : 200);
});

opsRoutes.get("/users/:id/deliveries", async (c) => {
  const user = userOf(c.req.param("id"), c.req.query("by"));
  const limit = pageLimit(c.req.query("limit"), 50);
  const rows = await userDeliveries(c.env.DB, user, limit, undefined, Date.now());
  return c.json({
    [user.by]: user.id,
    deliveries: rows.map((row) => ({ event_id: row.event_id, ...presentDelivery(row) })),
  });
});

opsRoutes.get("/stats", async (c) => c.json(await readStats(c.env.DB, Date.now())));
