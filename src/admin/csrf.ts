/**
 * CSRF protection for every console form that changes something (sign-in,
 * sign-out, replay, restore, confirm removal). Each browser gets a random
 * token in a `__Host-`, HttpOnly, SameSite=Strict cookie; each form carries
 * the same token in a hidden field, and a POST is refused unless the two
 * match (another site can make a browser send the cookie, never read it to
 * fill the field). A POST that says it comes from another origin is refused
 * before that. It works the same behind Cloudflare Access and with the
 * console's own session.
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { ForbiddenError } from "../errors";
import type { ConsoleEnv } from "./console-env";

/** The hidden field every state-changing form carries. */
export const CSRF_FIELD = "_csrf";
const CSRF_COOKIE = "relay_csrf";
const TOKEN = /^[A-Za-z0-9_-]{32,64}$/;

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** This browser's CSRF token for the forms of the page being rendered; issued on first use (once per request). */
export function csrfToken(c: Context<ConsoleEnv>): string {
  const known = c.get("csrf") ?? getCookie(c, CSRF_COOKIE, "host");
  if (known && TOKEN.test(known)) {
    c.set("csrf", known);
    return known;
  }
  const token = randomToken();
  setCookie(c, CSRF_COOKIE, token, { prefix: "host", path: "/", secure: true, httpOnly: true, sameSite: "Strict" });
  c.set("csrf", token);
  return token;
}

/** Both strings hashed first, so the comparison takes the same time whatever they hold. */
async function sameToken(a: string, b: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [x, y] = await Promise.all([crypto.subtle.digest("SHA-256", encoder.encode(a)), crypto.subtle.digest("SHA-256", encoder.encode(b))]);
  return crypto.subtle.timingSafeEqual(x, y);
}

/**
 * A browser's own word that the request comes from another site:
 * `Sec-Fetch-Site` where the browser sends it, else `Origin` (which some
 * privacy settings turn into "null", saying nothing).
 */
function crossOrigin(c: Context): boolean {
  const site = c.req.header("sec-fetch-site");
  if (site !== undefined) return site !== "same-origin";
  const origin = c.req.header("origin");
  return origin !== undefined && origin !== "null" && origin !== new URL(c.req.url).origin;
}

/** Refuses (403 `forbidden`) any non-GET request whose form does not carry this browser's CSRF token. */
export const requireCsrf: MiddlewareHandler = async (c, next) => {
  if (c.req.method === "GET" || c.req.method === "HEAD") return next();
  if (crossOrigin(c)) throw new ForbiddenError("the form was sent from another site");
  const cookie = getCookie(c, CSRF_COOKIE, "host");
  const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
  const field = body[CSRF_FIELD];
  if (!cookie || typeof field !== "string" || !(await sameToken(cookie, field))) {
    throw new ForbiddenError("the form's CSRF token is missing or wrong: reload the page and try again");
  }
  await next();
};
