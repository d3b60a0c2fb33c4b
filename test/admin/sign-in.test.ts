/**
 * The console's own sign-in (no Cloudflare Access configured): the admin
 * key opens a signed, HttpOnly, Secure, SameSite=Strict session with an
 * expiry; nothing else gets in; every form needs its CSRF token; every
 * answer carries the security headers.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SESSION_TTL_SECONDS } from "../../src/admin/session";
import { CSS, styleHash } from "../../src/admin/style";
import { ConsoleClient } from "../support/console";
import { REGISTER_KEY, deviceToken } from "../support/device-tokens";
import { RELAY } from "../support/webhook";

afterEach(() => {
  vi.useRealTimers();
});

function expectSecurityHeaders(response: Response) {
  const csp = response.headers.get("content-security-policy") ?? "";
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("script-src 'none'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("form-action 'self'");
  expect(csp).not.toContain("unsafe-inline");
  expect(response.headers.get("x-frame-options")).toBe("DENY");
  expect(response.headers.get("cache-control")).toBe("no-store");
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  expect(response.headers.get("referrer-policy")).toBe("same-origin");
}

describe("console sign-in with an admin key", () => {
  it("sends a browser without a session to the sign-in form, keeping where it was going", async () => {
    const browser = new ConsoleClient();
    const response = await browser.fetch("/admin/events?cursor=abc");
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/admin/login?next=%2Fadmin%2Fevents%3Fcursor%3Dabc");
    expectSecurityHeaders(response);
  });

  it("serves a sign-in form whose only inline style is the one the CSP hashes", async () => {
    const browser = new ConsoleClient();
    const { status, html, response } = await browser.page("/admin/login?next=/admin/failures");
    expect(status).toBe(200);
    expectSecurityHeaders(response);
    expect(response.headers.get("content-security-policy")).toContain(`style-src ${await styleHash()}`);
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toContain(`<style>${CSS}</style>`);
    expect(html.match(/<style/g)).toHaveLength(1);
    expect(html).not.toMatch(/<script|style="/);
    expect(html).toContain('name="next" value="/admin/failures"');
    expect(browser.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(browser.cookies.get("__Host-relay_csrf")).toBe(browser.csrf);
  });

  it("opens a signed, HttpOnly, Secure, SameSite=Strict session that expires, and goes where it was asked", async () => {
    const browser = new ConsoleClient();
    await browser.page("/admin/login");
    const response = await browser.post("/admin/login", { key: "test-key-2", next: "/admin/failures" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/admin/failures");
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith("__Host-relay_console="))!;
    expect(cookie).toMatch(/; Max-Age=28800; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
    expect(SESSION_TTL_SECONDS).toBe(28_800);
    expect(cookie).not.toContain("test-key");

    const { status, html } = await browser.page("/admin");
    expect(status).toBe(200);
    expect(html).toContain("Admin key, until");
    expect(html).toContain('action="/admin/logout"');
  });

  it("refuses a key that is not an admin key, and keeps no session", async () => {
    const browser = new ConsoleClient();
    await browser.page("/admin/login");
    const notAdminKeys = ["not-the-key", "", "test-key-1 test-key-2", "Bearer test-key-1", REGISTER_KEY, await deviceToken({ sub: "emp-1" })];
    for (const key of notAdminKeys) {
      const response = await browser.post("/admin/login", { key });
      expect(response.status).toBe(401);
      expect(await response.text()).toContain("That is not an admin key of this relay.");
    }
    expect(browser.cookies.has("__Host-relay_console")).toBe(false);
    expect((await browser.fetch("/admin")).status).toBe(303);
  });

  it("counts failed sign-ins against the address like the API's, and then refuses it for a while", async () => {
    const browser = new ConsoleClient();
    await browser.page("/admin/login");
    const address = { "cf-connecting-ip": `203.0.113.${Math.floor(Math.random() * 250) + 1}` };
    const attempt = (key: string) =>
      browser.fetch("/admin/login", {
        method: "POST",
        headers: { ...address, "content-type": "application/x-www-form-urlencoded", origin: RELAY },
        body: new URLSearchParams({ key, _csrf: browser.csrf! }).toString(),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await attempt(`guess-${i}`)).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    const refused = await attempt("test-key-1");
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await refused.text()).toContain('data-code="rate_limited"');
    expect(browser.cookies.has("__Host-relay_console")).toBe(false);
  });

  it("lets no bearer header, forged cookie or other sign-in in", async () => {
    const bearer = await new ConsoleClient().fetch("/admin", { headers: { authorization: "Bearer test-key-1" } });
    expect(bearer.status).toBe(303);

    const browser = new ConsoleClient();
    await browser.signIn();
    const [value, signature] = browser.cookies.get("__Host-relay_console")!.split(/\.(?=[^.]*$)/);
    // A later expiry with the old signature, and the real expiry with a signature of another key.
    browser.cookies.set("__Host-relay_console", `${Number(value) + 3_600_000}.${signature}`);
    expect((await browser.fetch("/admin")).status).toBe(303);
    browser.cookies.set("__Host-relay_console", `${value}.${btoa("x".repeat(32))}`);
    expect((await browser.fetch("/admin")).status).toBe(303);
  });

  it("ends sessions when they expire, and when their key leaves RELAY_API_KEY", async () => {
    const browser = new ConsoleClient({});
    await browser.signIn("test-key-2");
    expect((await browser.fetch("/admin")).status).toBe(200);

    const withoutKey2 = new ConsoleClient({ RELAY_API_KEY: "test-key-1" });
    for (const [name, value] of browser.cookies) withoutKey2.cookies.set(name, value);
    expect((await withoutKey2.fetch("/admin")).status).toBe(303);

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + SESSION_TTL_SECONDS * 1000 - 60_000);
    expect((await browser.fetch("/admin")).status).toBe(200);
    vi.setSystemTime(Date.now() + 120_000);
    expect((await browser.fetch("/admin")).status).toBe(303);
  });

  it("signs out with a POST that carries the CSRF token", async () => {
    const browser = new ConsoleClient();
    await browser.signIn();
    await browser.page("/admin");
    const response = await browser.post("/admin/logout");
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/admin/login");
    expect(browser.cookies.has("__Host-relay_console")).toBe(false);
    expect((await browser.fetch("/admin")).status).toBe(303);
  });
});

describe("CSRF", () => {
  it("refuses a form without this browser's token, or sent from another site", async () => {
    const browser = new ConsoleClient();
    await browser.page("/admin/login");
    const cases = [
      await browser.post("/admin/login", { key: "test-key-1" }, { csrf: null }),
      await browser.post("/admin/login", { key: "test-key-1" }, { csrf: "A".repeat(43) }),
      await browser.post("/admin/login", { key: "test-key-1" }, { origin: "https://evil.example" }),
      // A browser's Sec-Fetch-Site outranks a matching Origin.
      await browser.fetch("/admin/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: RELAY, "sec-fetch-site": "same-site" },
        body: `key=test-key-1&_csrf=${browser.csrf}`,
      }),
    ];
    // A token from another browser's page is worth nothing with this browser's cookie.
    const other = new ConsoleClient();
    await other.page("/admin/login");
    cases.push(await browser.post("/admin/login", { key: "test-key-1" }, { csrf: other.csrf! }));
    for (const response of cases) {
      expect(response.status).toBe(403);
      expectSecurityHeaders(response);
      expect(await response.text()).toContain('data-code="forbidden"');
    }
    expect(browser.cookies.has("__Host-relay_console")).toBe(false);
  });

  it("refuses a signed-in operator's form without the token, and sign-out too", async () => {
    const browser = new ConsoleClient();
    await browser.signIn();
    const response = await browser.post("/admin/logout", {}, { csrf: null });
    expect(response.status).toBe(403);
    expect(browser.cookies.has("__Host-relay_console")).toBe(true);
  });

  it("answers a POST without a session with 401 before looking at the form", async () => {
    const response = await new ConsoleClient().fetch("/admin/events/x/replay", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: RELAY },
      body: "_csrf=whatever",
    });
    expect(response.status).toBe(401);
    expect(await response.text()).toContain('data-code="unauthorized"');
  });
});

describe("console errors", () => {
  it("are pages with the error code and the security headers", async () => {
    const browser = new ConsoleClient();
    await browser.signIn();
    const { status, html, response } = await browser.page("/admin/no-such-page");
    expect(status).toBe(404);
    expect(html).toContain('data-code="not_found"');
    expectSecurityHeaders(response);
  });

  it("leave the API's JSON errors alone", async () => {
    const response = await new ConsoleClient().fetch("/v1/stats");
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "unauthorized" } });
    expect(env.RELAY_API_KEY).toBe("test-key-1 test-key-2");
  });
});
