/**
 * POST /v1/device-tokens: mints a device token for one user, for company
 * backends that would rather not sign JWTs themselves. Only keys reach it
 * (src/http/access.ts); the token lets that user's app register and remove
 * its own devices until `expires_at`.
 */
import { Hono } from "hono";
import type { ApiEnv } from "../http/access";
import { DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS, MIN_TTL_SECONDS, mintDeviceToken } from "../http/device-token";
import { parseJson } from "../http/json";
import { parseTokenRequest } from "./validate";

export const deviceTokenRoutes = new Hono<ApiEnv>();

deviceTokenRoutes.post("/device-tokens", async (c) => {
  const { user, ttlSeconds } = parseTokenRequest(parseJson(await c.req.text()), {
    min: MIN_TTL_SECONDS,
    max: MAX_TTL_SECONDS,
    fallback: DEFAULT_TTL_SECONDS,
  });
  const { token, expiresAt } = await mintDeviceToken(user, ttlSeconds, c.env.DEVICE_TOKEN_SECRET);
  // A credential: no cache along the way may keep it.
  c.header("cache-control", "no-store");
  return c.json({ token, expires_at: new Date(expiresAt).toISOString() });
});
