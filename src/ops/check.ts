/**
 * `POST /v1/check`: the settings self-check (src/push/settings-check.ts),
 * for operators only: the access grants (src/http/access.ts) list it for
 * no credential but the admin key. Always 200: whether the settings are
 * right is the answer's `ok`, not a failure of the request.
 */
import { Hono } from "hono";
import { checkSettings } from "../push/settings-check";

export const checkRoutes = new Hono<{ Bindings: Env }>();

checkRoutes.post("/check", async (c) => c.json(await checkSettings(c.env)));
