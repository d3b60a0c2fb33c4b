/**
 * Every route but the webhook reads at most 64 KB of body: a device, a
 * token request, a console form are a few hundred bytes, and the console's
 * sign-in is open to anyone. Beyond the limit the answer is 413 before
 * anything parses the body (the declared length is checked first, a body
 * without one is counted as it streams). The webhook keeps its own 10 MB
 * limit (src/webhook/route.ts).
 */
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { RelayError } from "../errors";

export const MAX_BODY_BYTES = 64 * 1024;

/** The one path with a limit of its own. */
const WEBHOOK_PATH = "/webhooks/learnink";

const limit = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new RelayError("payload_too_large", 413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
  },
});

/** 413 for a body over MAX_BODY_BYTES on any path but the webhook's. */
export const limitBody = createMiddleware(async (c, next) => {
  if (c.req.path === WEBHOOK_PATH) return next();
  return limit(c, next);
});
