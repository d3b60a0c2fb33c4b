/**
 * A browser's worth of the console for tests inside workerd: a cookie jar,
 * page loads, form posts that carry the page's CSRF token and the Origin a
 * browser would send, and sign-in with an admin key.
 */
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { app } from "../../src/app";
import { API_KEY, RELAY } from "./webhook";

export class ConsoleClient {
  /** name → value, as a browser keeps them for this origin. */
  readonly cookies = new Map<string, string>();
  /** The CSRF token of the last page that carried one. */
  csrf: string | undefined;

  /** `env` overrides (Access settings, keys) send the request through the app with those bindings. */
  constructor(private readonly env?: Partial<Env>) {}

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const request = new Request(`${RELAY}${path}`, { ...init, headers, redirect: "manual" });
    const response = this.env ? await app.fetch(request, { ...env, ...this.env }) : await exports.default.fetch(request);
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const eq = pair!.indexOf("=");
      const [name, value] = [pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim()];
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** GETs a page and keeps its CSRF token; returns the status and the HTML. */
  async page(path: string, init: RequestInit = {}): Promise<{ status: number; html: string; response: Response }> {
    const response = await this.fetch(path, init);
    const html = await response.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
    if (token) this.csrf = token;
    return { status: response.status, html, response };
  }

  /** POSTs a form as the browser would: urlencoded, same Origin, with the CSRF token unless `csrf` says otherwise. */
  async post(path: string, fields: Record<string, string> = {}, options: { csrf?: string | null; origin?: string } = {}) {
    const form = new URLSearchParams(fields);
    const csrf = options.csrf === undefined ? this.csrf : options.csrf;
    if (csrf !== null && csrf !== undefined) form.set("_csrf", csrf);
    return this.fetch(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: options.origin ?? RELAY },
      body: form.toString(),
    });
  }

  /** Signs in with an admin key through the form; expects success. */
  async signIn(key = API_KEY): Promise<void> {
    await this.page("/admin/login");
    const response = await this.post("/admin/login", { key, next: "/admin" });
    expect(response.status).toBe(303);
    expect(this.cookies.has("__Host-relay_console")).toBe(true);
  }
}
