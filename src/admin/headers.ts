/**
 * Security headers on every console answer, signed in or not: a strict
 * Content-Security-Policy (no script at all, the one stylesheet by hash,
 * forms only to this origin), no framing, and no caching, so a shared or
 * lost phone does not keep a page of deliveries in its cache.
 */
import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { styleHash } from "./style";

let headers: MiddlewareHandler | undefined;

async function consoleSecureHeaders(): Promise<MiddlewareHandler> {
  headers ??= secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      // The pages run no script; the stylesheet is inline and allowed by its hash alone.
      scriptSrc: ["'none'"],
      styleSrc: [await styleHash()],
      imgSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
    xFrameOptions: "DENY",
    // Links to other sites carry no console URL; same-origin form posts keep their Origin header.
    referrerPolicy: "same-origin",
    crossOriginOpenerPolicy: "same-origin",
    crossOriginResourcePolicy: "same-origin",
  });
  return headers;
}

/** Adds the console's security and caching headers to whatever the route answers. */
export const consoleHeaders: MiddlewareHandler = async (c, next) => {
  const secure = await consoleSecureHeaders();
  await secure(c, next);
  c.header("Cache-Control", "no-store");
};
