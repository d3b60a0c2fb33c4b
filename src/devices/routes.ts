/**
 * The device-token API: the app (with a device token) or the company
 * backend registers, moves and removes push tokens; the relay looks them up
 * when it delivers. Who may call what is decided in src/http/access.ts.
 */
import { Hono } from "hono";
import { deleteDevice, devicesOfUser, upsertDevice } from "../db/devices";
import { NotFoundError } from "../errors";
import type { ApiEnv } from "../http/access";
import { parseJson } from "../http/json";
import { limitDeviceWrite } from "../http/rate-limits";
import { DEFAULT_APP } from "../push/apps";
import { appsConfig, appNames } from "../push/providers";
import { ConfigurationError } from "../errors";
import { presentDevice } from "./present";
import { bindToUser, parseDevice, userOf } from "./validate";

/**
 * The apps a device may name. While APPS is set but unusable, a device of
 * another app than `default` is refused with 500 not_configured: the fault
 * is the relay's setting, not the caller's request.
 */
function knownApps(env: Env, body: unknown): string[] {
  const named = (body as { app?: unknown } | null)?.app;
  const config = appsConfig(env.APPS);
  if (config.kind === "invalid" && named !== undefined && named !== DEFAULT_APP) {
    throw new ConfigurationError("APPS", `cannot be used (${config.problem}), so no app but "${DEFAULT_APP}" can register`);
  }
  return appNames(env);
}

export const deviceRoutes = new Hono<ApiEnv>();

deviceRoutes.put("/devices", async (c) => {
  const credential = c.get("credential");
  const body = parseJson(await c.req.text());
  const input = parseDevice(credential.kind === "device" ? bindToUser(body, credential.user) : body, knownApps(c.env, body));
  await limitDeviceWrite(c.env, c.req.raw, credential, input);
  const { device, created, evicted } = await upsertDevice(c.env.DB, input);
  return c.json({ device: presentDevice(device), evicted_tokens: evicted }, created ? 201 : 200);
});

deviceRoutes.delete("/devices/:token", async (c) => {
  const credential = c.get("credential");
  // A device token removes only its own user's devices; keys remove any.
  const owner = credential.kind === "device" ? credential.user : null;
  await limitDeviceWrite(c.env, c.req.raw, credential, owner);
  const token = c.req.param("token");
  const lower = token.toLowerCase();
  // APNs tokens are stored lower-cased; FCM tokens are case-sensitive, so the
  // lower-cased form may only ever remove an APNs device.
  const removed =
    (await deleteDevice(c.env.DB, token, { owner })) ||
    (lower !== token && (await deleteDevice(c.env.DB, lower, { owner, provider: "apns" })));
  // Another user's device answers like an unknown one: a device token does not learn which tokens exist.
  if (!removed) throw new NotFoundError("no device with this token");
  return c.body(null, 204);
});

deviceRoutes.get("/users/:id/devices", async (c) => {
  const user = userOf(c.req.param("id"), c.req.query("by"));
  const devices = await devicesOfUser(c.env.DB, user.by, user.id);
  return c.json({ [user.by]: user.id, devices: devices.map(presentDevice) });
});
