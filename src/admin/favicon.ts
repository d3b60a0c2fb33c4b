/**
 * The console's icon: a small SVG served from this origin (the CSP allows
 * images from 'self' only), so a browser tab shows the relay instead of a
 * blank page and does not ask for /favicon.ico, which the relay does not
 * serve. It reveals nothing and needs no sign-in.
 */
import type { Context } from "hono";

export const FAVICON_PATH = "/admin/favicon.svg";

/** A bell on the console's accent blue. */
export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#0b5cad"/>' +
  '<path d="M16 6a7 7 0 0 0-7 7v5l-2.5 4h19L23 18v-5a7 7 0 0 0-7-7zm-3 18a3 3 0 0 0 6 0z" fill="#fff"/></svg>';

/** GET /admin/favicon.svg, with the console's headers like every other answer under /admin. */
export function favicon(c: Context): Response {
  return c.body(FAVICON_SVG, 200, { "content-type": "image/svg+xml" });
}
