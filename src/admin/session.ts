/**
 * The console's own sign-in session, used when Cloudflare Access is not
 * configured: after the admin key is typed once, a signed cookie carries
 * the session's expiry. It is signed with a key derived from the admin key
 * that was typed, so removing that key from `RELAY_API_KEY` ends its
 * sessions at once, and nothing about the key itself is in the cookie.
 */
import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { secretList } from "../config";
import type { ConsoleEnv } from "./console-env";

/** How long a console session lasts: a working day. */
export const SESSION_TTL_SECONDS = 8 * 60 * 60;

/**
 * `__Host-` makes the browser refuse the cookie unless it is Secure, for
 * the whole origin and set by it: no subdomain can plant or shadow it.
 */
const SESSION_COOKIE = "relay_console";
const PREFIX = { prefix: "host" } as const;
const LABEL = new TextEncoder().encode("learnink-push-relay console session v1");

/** HMAC-SHA256(admin key, label): the cookie signing secret for sessions opened with that key. */
async function sessionSecret(adminKey: string): Promise<ArrayBuffer> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(adminKey), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return crypto.subtle.sign("HMAC", key, LABEL);
}

/** Opens a session for someone who just presented `adminKey` (already checked). */
export async function startSession(c: Context, adminKey: string, now = Date.now()): Promise<void> {
  const expiresAt = now + SESSION_TTL_SECONDS * 1000;
  await setSignedCookie(c, SESSION_COOKIE, String(expiresAt), await sessionSecret(adminKey), {
    ...PREFIX,
    path: "/",
    secure: true,
    httpOnly: true,
    sameSite: "Strict",
    maxAge: SESSION_TTL_SECONDS,
  });
}

/** The session's expiry (epoch ms) if the request carries a valid, unexpired session; null otherwise. */
export async function readSession(c: Context<ConsoleEnv>, now = Date.now()): Promise<number | null> {
  for (const adminKey of secretList(c.env.RELAY_API_KEY, "RELAY_API_KEY")) {
    const value = await getSignedCookie(c, await sessionSecret(adminKey), SESSION_COOKIE, "host");
    if (typeof value !== "string") continue;
    // The cookie's Max-Age is advice to the browser; the signed expiry is what counts.
    const expiresAt = Number(value);
    return Number.isSafeInteger(expiresAt) && expiresAt > now ? expiresAt : null;
  }
  return null;
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { ...PREFIX, path: "/", secure: true });
}
