/**
 * Bearer auth for /v1/*: the presented key is compared, in constant time,
 * with every key in RELAY_API_KEY (space-separated, so keys can be rotated).
 */
import { createMiddleware } from "hono/factory";
import { secretList } from "../config";
import { AuthError } from "../errors";

const encoder = new TextEncoder();

/** Both sides are hashed first so the comparison never depends on lengths. */
async function digest(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(value));
}

export async function isValidKey(presented: string, configured: string | undefined): Promise<boolean> {
  const keys = secretList(configured, "RELAY_API_KEY");
  const given = await digest(presented);
  let match = false;
  for (const key of keys) {
    // No early exit: every key is compared, whichever matches.
    if (crypto.subtle.timingSafeEqual(given, await digest(key))) match = true;
  }
  return match;
}

export const requireApiKey = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match || !(await isValidKey(match[1]!, c.env.RELAY_API_KEY))) throw new AuthError();
  await next();
});
