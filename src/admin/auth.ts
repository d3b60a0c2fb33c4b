/**
 * Who may see the console. Behind Cloudflare Access (when configured) the
 * Access JWT on each request decides; otherwise the console's own session,
 * opened with an admin key. Nothing else gets in: no bearer header, no
 * register key, no device token.
 */
import type { Context, MiddlewareHandler } from "hono";
import { AuthError } from "../errors";
import { accessConfigured, verifyAccess } from "./access";
import type { ConsoleEnv, ConsoleUser } from "./console-env";
import { readSession } from "./session";

/** Who did something, for the log line of a console action: the Access identity, or "admin key". */
export function operatorName(user: ConsoleUser): string {
  return user.kind === "access" ? `access:${user.email ?? user.subject}` : "admin key";
}

/** Where to return after signing in: only a console page of this origin (no open redirect). */
export function safeNext(value: string | undefined): string {
  return value !== undefined && /^\/admin(?:[/?]|$)/.test(value) && !value.includes("\\") ? value : "/admin";
}

function loginUrl(c: Context): string {
  const url = new URL(c.req.url);
  return `/admin/login?next=${encodeURIComponent(url.pathname + url.search)}`;
}

/** Sets `user`, or sends a browser without a session to the sign-in form (a GET) or refuses it (401). */
export const requireConsoleUser: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  if (accessConfigured(c.env)) {
    const identity = await verifyAccess(c.req.raw, c.env);
    c.set("user", { kind: "access", ...identity });
    return next();
  }
  const expiresAt = await readSession(c);
  if (expiresAt === null) {
    if (c.req.method === "GET") return c.redirect(loginUrl(c), 303);
    throw new AuthError("sign in to the console first");
  }
  c.set("user", { kind: "session", expiresAt });
  return next();
};
