/**
 * No answer quotes its input: a registered device token sent in every
 * position a caller controls (path segment, query, headers, cookie, body,
 * bearer credential) to every route pattern under every method, with and
 * without an admin key, never comes back in an error's body or headers.
 * Errors name the method and the route pattern; a known route under
 * another method is 405 with `Allow`.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { ConsoleClient } from "../support/console";
import { API_KEY, RELAY, api, errorOf, fcmToken, uniqueId } from "../support/webhook";

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

/** Every route pattern the app serves, with `:param` filled in by `value`, plus an unknown suffix. */
function pathsWith(value: string): string[] {
  const patterns = [...new Set(app.routes.map((r) => r.path).filter((p) => !p.includes("*")))];
  const filled = patterns.map((p) => p.replace(/:[^/]+/g, encodeURIComponent(value)));
  return [...filled, ...filled.map((p) => `${p}/${encodeURIComponent(value)}`)];
}

/** A request carrying `token` everywhere a caller can put it. */
function hostile(method: string, path: string, token: string, key: string | null): Request {
  const headers = new Headers({ "x-device": token, cookie: `t=${token}`, "content-type": "application/json" });
  headers.set("authorization", `Bearer ${key ?? token}`);
  const body = method === "GET" || method === "HEAD" ? undefined : JSON.stringify({ token, custom_id: token, provider: token });
  return new Request(`${RELAY}${path}?token=${encodeURIComponent(token)}&q=${encodeURIComponent(token)}`, {
    method,
    headers,
    body,
    redirect: "manual",
  });
}

/**
 * The answer's text and headers; the sign-in redirect's `Location` is left
 * out: it returns the browser to the page that same browser asked for.
 */
async function answerText(response: Response): Promise<string> {
  const headers = [...response.headers].filter(([name]) => !(response.status === 303 && name === "location"));
  return `${headers.map(([n, v]) => `${n}: ${v}`).join("\n")}\n${await response.text()}`;
}

describe("no answer quotes its input", () => {
  it("GET /v1/devices/<token>/restore is a 405 naming the pattern, not the token", async () => {
    const token = fcmToken();
    const response = await api(`/v1/devices/${encodeURIComponent(token)}/restore`);
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
    const error = await errorOf(response);
    expect(error.code).toBe("method_not_allowed");
    expect(error.message).toContain("/v1/devices/:token/restore");
    expect(error.message).not.toContain(token);
  });

  it("a console page under another method is a 405 page naming the pattern; an unknown page a 404 that does not repeat it", async () => {
    const browser = new ConsoleClient();
    await browser.signIn();
    const wrong = await browser.page("/admin/devices/restore");
    expect(wrong.status).toBe(405);
    expect(wrong.response.headers.get("allow")).toBe("POST");
    expect(wrong.html).toContain('data-code="method_not_allowed"');
    const token = fcmToken();
    const unknown = await browser.page(`/admin/${encodeURIComponent(token)}`);
    expect(unknown.status).toBe(404);
    expect(unknown.html).not.toContain(token);
  });

  it("an unknown path is a 404 that does not repeat it", async () => {
    const token = fcmToken();
    const response = await api(`/v1/nothing/${token}`);
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain(token);
  });

  it("a registered token in every position of every route and method never comes back in an error", async () => {
    const token = fcmToken();
    const registered = await api("/v1/devices", { method: "PUT", json: { custom_id: uniqueId("emp"), provider: "fcm", token } });
    expect(registered.status).toBe(201);
    const leaks: string[] = [];
    for (const path of pathsWith(token)) {
      for (const method of METHODS) {
        for (const key of [null, API_KEY]) {
          const response = await exports.default.fetch(hostile(method, path, token, key));
          // A 2xx for the admin may show the admin the device (that is what the read routes are for).
          if (key !== null && response.status < 300) continue;
          const text = await answerText(response);
          if (text.includes(token) || text.includes(encodeURIComponent(token))) leaks.push(`${method} ${path} (${key ? "admin" : "none"}): ${response.status}`);
        }
      }
    }
    expect(leaks).toEqual([]);
  });
});
