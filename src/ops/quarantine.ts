/**
 * The quarantine API (admin only): the devices the pruning brake holds,
 * page by page, and the operator's two answers to a hold: restore (the
 * tokens were fine; the device is sent to again) or confirm the removal
 * (they were dead). One device at a time, or in bulk by provider and app.
 */
import { Hono } from "hono";
import type { DeviceRow } from "../db/devices";
import { heldEvents } from "../db/ledger-reads";
import { bulkRelease, confirmRemoval, type QuarantineFilter, QUARANTINE_MS, quarantinedDevices, restoreDevice } from "../db/quarantine";
import { MAX_ID_LENGTH } from "../vocabulary";
import { presentDevice } from "../devices/present";
import { NotFoundError, ValidationError } from "../errors";
import { parseJson } from "../http/json";
import { isWellFormed } from "../text";
import { decodeCursor, encodeCursor, pageLimit } from "./paging";

export const quarantineRoutes = new Hono<{ Bindings: Env }>();

/** A device as listed in quarantine: the device (with why and since when it is held), and when it goes. */
export function presentQuarantined(row: DeviceRow) {
  return {
    ...presentDevice(row),
    purge_after: row.quarantined_at === null ? null : new Date(row.quarantined_at + QUARANTINE_MS).toISOString(),
  };
}

function filterText(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value === "" || value.length > MAX_ID_LENGTH || !isWellFormed(value)) {
    throw new ValidationError("invalid_request", field, `must be a non-empty, well-formed string of at most ${MAX_ID_LENGTH} characters`);
  }
  return value;
}

/** `{ "provider"?, "app"? }`; an empty body means every quarantined device. */
async function bulkFilter(request: Request): Promise<QuarantineFilter> {
  const text = await request.text();
  if (text.trim() === "") return {};
  const body = parseJson(text);
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ValidationError("invalid_request", undefined, "the body must be a JSON object");
  }
  const record = body as Record<string, unknown>;
  return { provider: filterText(record.provider, "provider"), app: filterText(record.app, "app") };
}

quarantineRoutes.get("/quarantine", async (c) => {
  const filter = { provider: filterText(c.req.query("provider"), "provider"), app: filterText(c.req.query("app"), "app") };
  const limit = pageLimit(c.req.query("limit"), 100);
  const cursor = decodeCursor(c.req.query("cursor"), ["number", "string"]);
  const rows = await quarantinedDevices(c.env.DB, filter, { after: cursor && { quarantinedAt: cursor[0], token: cursor[1] }, limit });
  const last = rows.at(-1);
  return c.json({
    devices: rows.map(presentQuarantined),
    next_cursor: rows.length === limit && last ? encodeCursor(last.quarantined_at!, last.token) : null,
  });
});

// Each restore answers with the events its devices missed while held (`held_events`): replay them.
quarantineRoutes.post("/quarantine/restore", async (c) => {
  const { changed, remaining, owners } = await bulkRelease(c.env.DB, await bulkFilter(c.req.raw), false, Date.now());
  return c.json({ restored: changed, remaining, held_events: await heldEvents(c.env.DB, owners, Date.now()) });
});

quarantineRoutes.post("/quarantine/confirm-removal", async (c) => {
  const { changed, remaining } = await bulkRelease(c.env.DB, await bulkFilter(c.req.raw), true, Date.now());
  return c.json({ removed: changed, remaining });
});

quarantineRoutes.post("/devices/:token/restore", async (c) => {
  const device = await restoreDevice(c.env.DB, c.req.param("token"), Date.now());
  if (!device) throw new NotFoundError("no quarantined device with this token");
  return c.json({ device: presentQuarantined(device), held_events: await heldEvents(c.env.DB, [device], Date.now()) });
});

quarantineRoutes.post("/devices/:token/confirm-removal", async (c) => {
  if (!(await confirmRemoval(c.env.DB, c.req.param("token")))) throw new NotFoundError("no quarantined device with this token");
  return c.body(null, 204);
});
