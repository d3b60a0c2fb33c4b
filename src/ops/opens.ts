/**
 * POST /v1/opens: the app reports that its user tapped a notification,
 * with its device token, before it opens the WebView. Idempotent: a repeat
 * (a retry, a cold start that reports again) counts once. A notification
 * that was not sent to a device of the token's user is a 404, so a token
 * cannot mark other people's reminders read. Rate limited like
 * registration: it is the same caller.
 */
import { Hono } from "hono";
import { recordOpen } from "../db/opens";
import { MAX_ID_LENGTH } from "../vocabulary";
import { NotFoundError, ValidationError } from "../errors";
import type { ApiEnv } from "../http/access";
import { parseJson } from "../http/json";
import { limitDeviceWrite } from "../http/rate-limits";

export const opensRoutes = new Hono<ApiEnv>();

/** `{ "event_id": string, "index": integer ≥ 0 }`, as every push carries them. */
function parseOpen(body: unknown): { eventId: string; index: number } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ValidationError("invalid_request", undefined, "the body must be a JSON object");
  }
  const { event_id: eventId, index } = body as Record<string, unknown>;
  if (typeof eventId !== "string" || eventId === "" || eventId.length > MAX_ID_LENGTH) {
    throw new ValidationError("invalid_request", "event_id", `must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  // FCM and Push Kit carry data as strings: "3" is taken as 3.
  const n = typeof index === "string" && /^\d{1,9}$/.test(index) ? Number(index) : index;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw new ValidationError("invalid_request", "index", "must be the notification's index: an integer from 0");
  }
  return { eventId, index: n };
}

opensRoutes.post("/opens", async (c) => {
  const credential = c.get("credential");
  const open = parseOpen(parseJson(await c.req.text()));
  const user = credential.kind === "device" ? credential.user : null;
  await limitDeviceWrite(c.env, c.req.raw, credential, user);
  const result = await recordOpen(c.env.DB, { ...open, user }, Date.now());
  if (result === "not_found") throw new NotFoundError("no notification with this event_id and index was sent to a device of this user");
  return c.body(null, result === "opened" ? 202 : 204);
});
