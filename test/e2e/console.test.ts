/**
 * The operations console in a real browser (Chromium through
 * playwright-core) against the relay as `npm start` runs it: a fresh
 * checkout, wrangler dev with the real wrangler.toml, local D1 and Queue,
 * stand-in FCM and APNs. Each page is saved to `screenshots/`.
 */
import { join } from "node:path";
import { type Browser, type BrowserContext, type Page, request as httpClient } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, screenshot } from "./support/browser.js";
import { type Relay, freePort, freshCheckout, removeDir, startRelay } from "./support/local-run.js";

/** The admin key a fresh checkout runs with (.dev.vars.example). */
const ADMIN_KEY = "local-dev-key";

let checkout: string;
let relay: Relay;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  checkout = await freshCheckout();
  relay = startRelay(checkout, { port: await freePort(), standinsPort: await freePort(), persistTo: join(checkout, "state") });
  [browser] = await Promise.all([launchBrowser(), relay.ready]);
  context = await browser.newContext({ baseURL: relay.url, viewport: { width: 1100, height: 800 } });
  page = await context.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await relay?.stop();
  if (checkout) await removeDir(checkout);
}, 30_000);

describe("the console in Chromium", () => {
  it("is announced by npm start", () => {
    expect(relay.output()).toContain(`console ${relay.url}/admin (sign in with the admin key ${ADMIN_KEY})`);
  });

  it("signs in with the admin key", async () => {
    await page.goto("/admin/events");
    expect(new URL(page.url()).pathname).toBe("/admin/login");
    await screenshot(page, "sign-in");
    await page.getByLabel("Admin key").fill("not-the-key");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("not an admin key");

    await page.getByLabel("Admin key").fill(ADMIN_KEY);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL("**/admin/events");
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === "__Host-relay_console")).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict" });
  });

  it("runs no script and breaks no CSP rule", async () => {
    const violations: string[] = [];
    page.on("console", (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    await page.goto("/admin");
    await screenshot(page, "overview");
    expect(await page.locator("script").count()).toBe(0);
    expect(violations).toEqual([]);
  });

  it("refuses a request without the session, and a form with a wrong CSRF token", async () => {
    const stranger = await httpClient.newContext({ baseURL: relay.url });
    const anonymous = await stranger.post("/admin/events/msg_x/replay", { form: { _csrf: "x".repeat(43) }, maxRedirects: 0 });
    expect(anonymous.status()).toBe(401);
    expect(await anonymous.text()).toContain('data-code="unauthorized"');
    const page404 = await stranger.get("/admin/failures", { maxRedirects: 0 });
    expect(page404.status()).toBe(303);
    await stranger.dispose();

    // The signed-in browser's own cookies, with a token that is not its own.
    const forged = await context.request.post("/admin/logout", {
      form: { _csrf: "A".repeat(43) },
      headers: { origin: relay.url },
      maxRedirects: 0,
    });
    expect(forged.status()).toBe(403);
    expect(await forged.text()).toContain('data-code="forbidden"');
    await page.goto("/admin");
    expect(new URL(page.url()).pathname).toBe("/admin");
  });

  it("signs out", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL("**/admin/login");
    await page.goto("/admin");
    expect(new URL(page.url()).pathname).toBe("/admin/login");
  });
});
