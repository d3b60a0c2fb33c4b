/**
 * The device-token API: the app (or the company backend) registers, moves
 * and removes push tokens; the relay looks them up when it delivers.
 */
import { Hono } from "hono";
import { deleteDevice, type DeviceRow, devicesOfUser, upsertDevice } from "../db/devices";
import { NotFoundError } from "../errors";
import { parseJson } from "../http/json";
import { parseDevice, userOf } from "./validate";

export const deviceRoutes = new Hono<{ Bindings: Env }>();

/** The API shape of a device: timestamps as ISO 8601. */
export function presentDevice(row: DeviceRow) {
  return {
    token: row.token,
    provider: row.provider,
    platform: row.platform,
    environment: row.environment,
    custom_id: row.custom_id,
    user_id: row.user_id,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

deviceRoutes.put("/devices", async (c) => {
  const input = parseDevice(parseJson(await c.req.text()));
  const { device, created, evicted } = await upsertDevice(c.env.DB, input);
  return c.json({ device: presentDevice(device), evicted_tokens: evicted }, created ? 201 : 200);
});

deviceRoutes.delete("/devices/:token", async (c) => {
  const token = c.req.param("token");
  // APNs tokens are stored lower-cased; FCM tokens are case-sensitive, so try as given first.
  const removed =
    (await deleteDevice(c.env.DB, token)) || (token !== token.toLowerCase() && (await deleteDevice(c.env.DB, token.toLowerCase())));
  if (!removed) throw new NotFoundError("no device with this token");
  return c.body(null, 204);
});

deviceRoutes.get("/users/:id/devices", async (c) => {
  const user = userOf(c.req.param("id"), c.req.query("by"));
  const devices = await devicesOfUser(c.env.DB, user.by, user.id);
  return c.json({ [user.by]: user.id, devices: devices.map(presentDevice) });
});
