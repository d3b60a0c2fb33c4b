/**
 * The operations console in a real browser (Chromium through
 * playwright-core) against the relay as `npm start` runs it: a fresh
 * checkout, wrangler dev with the real wrangler.toml, local D1 and Queue,
 * stand-in FCM and APNs. Devices are registered through the API, signed
 * webhooks sent, push failures scripted at the stand-in; then an operator
 * signs in, finds the event and reads its notifications' text, replays its
 * failure and sees it sent without reloading, looks the user up, reads
 * Failures as one table, restores a device the pruning brake quarantined
 * after a burst of dead-token answers, does the same on a phone's width,
 * and the console refuses what it must. Each page is saved to
 * `screenshots/`.
 */
import { join } from "node:path";
import { type Browser, type BrowserContext, type Locator, type Page, request as httpClient } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localValue, readLocalEnv } from "../../scripts/lib/local-env.ts";
import { StandinClient } from "../../standins/client.ts";
import { learnInkEvent, newMessageId, svixHeaders } from "../../standins/learnink.ts";
import { chromiumExecutable, launchBrowser, screenshot } from "./support/browser.js";
import { type Relay, api, freePort, freshCheckout, removeDir, startRelay } from "./support/local-run.js";

let checkout: string;
let relay: Relay;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** The admin key and webhook secret a fresh checkout runs with (.dev.vars.example). */
let adminKey: string;
let secret: string;

const run = Date.now().toString(36);
const user = `emp-console-${run}`;
// Told apart by their last 6 characters, as the console shows them.
const tokens = {
  phone: `console-${run}:APA91b-end-to-end-phone1`,
  tablet: `console-${run}:APA91b-end-to-end-tablet`,
  other: `console-${run}:APA91b-end-to-end-other1`,
  watch: `console-${run}:APA91b-end-to-end-watch1`,
};
const events = { replayed: newMessageId(), failing: newMessageId(), burst: newMessageId(), onPhone: newMessageId() };
/** 10 users with 10 devices each, whose tokens the stand-in declares dead all at once: the pruning brake holds them (it needs 100 answers). */
const burst = { prefix: `console-${run}-burst`, users: 10, devicesEach: 10 };
const burstUser = (u: number) => `${user}-burst-${u}`;

async function sendWebhook(id: string, notifications: { custom_id: string; title: unknown; path: string }[]) {
  const body = JSON.stringify(
    learnInkEvent("notifications.sent", {
      notifications: notifications.map((n) => ({ ...n, body: "Your course is waiting", user_id: `li-${n.custom_id}`, phone_number: "+15555550123" })),
    }),
  );
  const response = await fetch(`${relay.url}/webhooks/learnink`, { method: "POST", headers: svixHeaders(secret, id, body), body });
  expect(response.status, await response.text()).toBe(200);
}

/** Waits until no delivery of the event is sending or retrying (and `until` holds); returns its summary. */
async function settled(eventId: string, until: (summary: Record<string, number>) => boolean = () => true): Promise<Record<string, number>> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { status, body } = await api(relay, adminKey, `/v1/events/${eventId}`);
    const summary = status === 200 ? (body as { summary: Record<string, number> }).summary : {};
    if (status === 200 && !summary.sending && !summary.retrying && until(summary)) return summary;
    if (Date.now() > deadline) throw new Error(`event ${eventId} did not settle: ${status} ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function register(custom_id: string, token: string) {
  expect((await api(relay, adminKey, "/v1/devices", { method: "PUT", json: { custom_id, provider: "fcm", token } })).status).toBe(201);
}

/** The next push to `token` is refused as our payload's fault (INVALID_ARGUMENT): a final failure. */
const failNextPush = (token: string) => new StandinClient(relay.standinsUrl).script(token, [{ preset: "invalid_argument" }]);

/** Registers the burst's devices and sends them one event, all of whose pushes FCM answers UNREGISTERED. */
async function deadTokenBurst() {
  for (let u = 0; u < burst.users; u++) {
    for (let d = 0; d < burst.devicesEach; d++) await register(burstUser(u), `${burst.prefix}-${u}-${d}:APA91b-end-to-end-d${u}${d}`);
  }
  await new StandinClient(relay.standinsUrl).failRate({ rate: 1, preset: "unregistered", token_prefix: burst.prefix });
  const notifications = Array.from({ length: burst.users }, (_, u) => ({ custom_id: burstUser(u), title: "Reminder", path: "/courses/reminder" }));
  await sendWebhook(events.burst, notifications);
}

/** How wide the page lays out (wider than the phone: it scrolls sideways, or a mobile browser zooms out). */
const layoutWidth = (p: Page) => p.evaluate<number>("document.documentElement.scrollWidth");

const PHONE = { width: 390, height: 844 };

/** A signed-in page at a phone's width. */
async function phonePage(): Promise<Page> {
  const phone = await browser.newContext({ baseURL: relay.url, viewport: PHONE, isMobile: true, hasTouch: true });
  await phone.addCookies(await context.cookies());
  return phone.newPage();
}

/** Every row's cells start where the header's do: one grid, not a table per group. */
async function expectAlignedColumns(table: Locator) {
  const starts = (row: Locator) => row.locator("th, td").evaluateAll((cells) => cells.map((cell) => Math.round(cell.getBoundingClientRect().left)));
  const header = await starts(table.locator("thead tr"));
  for (const row of await table.locator("tbody tr").all()) expect(await starts(row)).toEqual(header);
}

/** The table's right-hand column can be scrolled into view inside its own scroll box. */
async function expectLastColumnReachable(p: Page) {
  const scroller = p.locator(".scroll").last();
  const [scrollWidth, clientWidth] = await scroller.evaluate((box) => [box.scrollWidth, box.clientWidth]);
  expect(scrollWidth).toBeGreaterThan(clientWidth);
  const last = scroller.locator("thead th").last();
  await last.scrollIntoViewIfNeeded();
  const box = (await last.boundingBox())!;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width + 1);
}

beforeAll(async () => {
  // Before anything starts: with no browser, the suite fails with that alone.
  const executable = await chromiumExecutable();
  checkout = await freshCheckout();
  const local = readLocalEnv(checkout);
  adminKey = localValue(local, "RELAY_API_KEY")!.split(/\s+/)[0]!;
  secret = localValue(local, "LEARNINK_WEBHOOK_SECRET")!.split(/\s+/)[0]!;
  relay = startRelay(checkout, { port: await freePort(), standinsPort: await freePort(), persistTo: join(checkout, "state") });
  // Both settle before a failure is thrown, so that afterAll closes a browser that started beside a relay that did not.
  const [launched, started] = await Promise.allSettled([launchBrowser(executable), relay.ready]);
  if (launched.status === "fulfilled") browser = launched.value;
  for (const outcome of [started, launched]) if (outcome.status === "rejected") throw outcome.reason;
  context = await browser.newContext({ baseURL: relay.url, viewport: { width: 1100, height: 800 } });
  page = await context.newPage();

  await register(user, tokens.phone);
  await register(user, tokens.tablet);
  await register(`${user}-b`, tokens.other);
  await register(`${user}-c`, tokens.watch);
  await failNextPush(tokens.tablet);
  await failNextPush(tokens.other);
  await failNextPush(tokens.watch);
  await sendWebhook(events.replayed, [
    { custom_id: user, title: "Fire safety quiz", path: "/courses/fire-safety?step=2" },
    { custom_id: `nobody-${run}`, title: "Fire safety quiz", path: "/courses/fire-safety" },
  ]);
  await sendWebhook(events.failing, [
    { custom_id: `${user}-b`, title: "Welcome", path: "/courses/welcome" },
    // Not a valid notification: recorded as rejected, and the other one is still sent.
    { custom_id: `${user}-b`, title: true, path: "/courses/welcome" },
  ]);
  expect(await settled(events.replayed)).toEqual({ sent: 1, failed: 1, no_device: 1 });
  expect(await settled(events.failing)).toEqual({ failed: 1, rejected: 1 });
  await sendWebhook(events.onPhone, [{ custom_id: `${user}-c`, title: "Badge earned", path: "/badges/first-aid" }]);
  expect(await settled(events.onPhone)).toEqual({ failed: 1 });
  await deadTokenBurst();
  expect(await settled(events.burst, (s) => s.invalid_token === 100)).toEqual({ invalid_token: 100 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await relay?.stop();
  if (checkout) await removeDir(checkout);
}, 30_000);

describe("the console in Chromium", () => {
  it("is announced by npm start", () => {
    expect(relay.output()).toContain(`console ${relay.url}/admin (sign in with the admin key ${adminKey})`);
  });

  it("signs in with the admin key", async () => {
    await page.goto("/admin/events");
    expect(new URL(page.url()).pathname).toBe("/admin/login");
    await screenshot(page, "sign-in");
    await page.getByLabel("Admin key").fill("not-the-key");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("not an admin key");

    await page.getByLabel("Admin key").fill(adminKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL("**/admin/events");
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === "__Host-relay_console")).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict" });
  });

  it("finds the event by its Svix id and shows its failed delivery", async () => {
    await expect.poll(() => page.locator("tbody tr").count()).toBeGreaterThanOrEqual(2);
    await screenshot(page, "events");
    await page.getByRole("searchbox").fill(events.replayed);
    await page.getByRole("button", { name: "Find" }).click();
    await page.waitForURL(`**/admin/events/${events.replayed}`);
    const failed = page.locator('tr[data-status="failed"]');
    await expect.poll(() => failed.count()).toBe(1);
    expect(await failed.textContent()).toContain(`…${tokens.tablet.slice(-6)}`);
    expect(await failed.textContent()).toContain("INVALID_ARGUMENT");
    expect(await page.locator('tr[data-status="sent"]').textContent()).toContain("/courses/fire-safety?step=2");
    // The notification's own text, as the phone showed it.
    expect(await failed.locator("td.text").first().innerText()).toBe("Fire safety quiz\nYour course is waiting");
    await screenshot(page, "event");
  });

  it("replays the failure after a confirmation, and shows it sent", async () => {
    await page.getByText("Replay 1 failed…").click();
    await page.getByRole("button", { name: "Replay now" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("Replayed 1 failed deliveries");
    expect(await settled(events.replayed, (summary) => !summary.failed)).toEqual({ sent: 2, no_device: 1 });
    // No reload: the page follows the replay by itself.
    await expect.poll(() => page.locator('tr[data-status="sent"]').count(), { timeout: 20_000 }).toBe(2);
    expect(await page.locator('tr[data-status="failed"]').count()).toBe(0);
    await expect.poll(() => page.locator('meta[http-equiv="refresh"]').count(), { timeout: 10_000 }).toBe(0);
    await screenshot(page, "event-replayed");
  });

  it("looks the user up: devices, shortened, and deliveries", async () => {
    await page.getByRole("link", { name: "Users" }).click();
    await page.getByLabel("user id").fill(user);
    await page.getByRole("button", { name: "Look up" }).click();
    await page.waitForURL("**/admin/users?**");
    expect(await page.locator('tr[data-quarantined="no"]').count()).toBe(2);
    expect(await page.locator("tr[data-status]").count()).toBe(2);
    await screenshot(page, "user");
  });

  it("lists what failed in one table whose columns line up, with Replay", async () => {
    await page.getByRole("link", { name: "Failures" }).click();
    const rows = page.locator(`tr[data-event="${events.failing}"]`);
    expect(await rows.and(page.locator('[data-status="failed"]')).count()).toBe(1);
    expect(await rows.getByText("Replay…").count()).toBe(1);
    expect(await rows.and(page.locator('[data-status="rejected"]')).textContent()).toContain("must be a string");
    expect(await page.locator(`tr[data-event="${events.replayed}"]`).count()).toBe(0);
    const table = page.locator("table.failures");
    expect(await table.count()).toBe(1);
    expect(await table.locator("tbody tr").count()).toBe(3);
    await expectAlignedColumns(table);
    await screenshot(page, "failures");
  });

  it("restores a device the pruning brake quarantined", async () => {
    await page.goto("/admin");
    const alarm = page.locator('.alarm[data-kind="pruning_brake"]');
    expect(await alarm.textContent()).toContain("100 devices quarantined");
    await alarm.getByRole("link", { name: /quarantined devices/ }).click();
    await page.waitForURL("**/admin/failures#quarantine");
    const held = page.locator('tr[data-quarantined="yes"]');
    expect(await held.count()).toBe(20);
    expect(await page.getByRole("link", { name: "Older →" }).count()).toBeGreaterThan(0);
    await screenshot(page, "quarantine");

    const first = held.first();
    const device = (await first.locator("code.token").textContent())!;
    await first.getByText("Restore…").click();
    await first.getByRole("button", { name: "Restore", exact: true }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("Restored");
    expect(await page.locator('tr[data-quarantined="yes"] code.token', { hasText: device }).count()).toBe(0);
    const { body } = await api(relay, adminKey, "/v1/quarantine?limit=1000");
    expect((body as { devices: unknown[] }).devices).toHaveLength(99);
  });

  it("shows the overview, with no script, no CSP violation, and no whole token", async () => {
    const violations: string[] = [];
    page.on("console", (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    await page.goto("/admin");
    expect(await page.locator('.card[data-status="sent"] b').textContent()).toBe("2");
    expect(await page.locator('.card[data-status="rejected"] b').textContent()).toBe("1");
    expect(await page.locator('.card[data-status="quarantined"] b').textContent()).toBe("99");
    expect(await page.locator(".chart rect.bar-sent").count()).toBeGreaterThan(0);
    await screenshot(page, "overview");
    for (const path of ["/admin", `/admin/events/${events.replayed}`, `/admin/users?by=custom_id&id=${user}`, "/admin/failures", `/admin/users?by=custom_id&id=${burstUser(0)}`]) {
      await page.goto(path);
      expect(await page.locator("script").count()).toBe(0);
      const html = await page.content();
      // Whole tokens appear only in the hidden fields of Restore and Confirm removal, never on screen.
      const visible = await page.locator("body").innerText();
      for (const token of Object.values(tokens)) expect(html, path).not.toContain(token);
      expect(visible).not.toMatch(new RegExp(`${burst.prefix}-\\d+-\\d+:`));
      expect(html).not.toContain("5555550123");
    }
    expect(violations).toEqual([]);
  });

  it("reads on a phone: the page does not scroll sideways, a wide table does, and ids stay whole", async () => {
    const small = await phonePage();
    for (const [path, name] of [["/admin", "overview-phone"], [`/admin/events/${events.replayed}`, "event-phone"], ["/admin/failures", "failures-phone"]] as const) {
      await small.goto(path);
      expect(await layoutWidth(small), path).toBeLessThanOrEqual(PHONE.width);
      await screenshot(small, name);
    }
    for (const path of [`/admin/events/${events.replayed}`, "/admin/failures"]) {
      await small.goto(path);
      await expectLastColumnReachable(small);
      // "emp-console-…" on one line, not broken after its hyphen.
      const user = small.locator("tbody tr td a[href^='/admin/users']").first();
      expect(await user.evaluate((element) => element.getClientRects().length), path).toBe(1);
    }
    await small.context().close();
  });

  it("shows the notification's text on a phone, and follows a replay there", async () => {
    const small = await phonePage();
    await small.goto(`/admin/events/${events.onPhone}`);
    const failed = small.locator('tr[data-status="failed"]');
    expect(await failed.locator("td.text").first().innerText()).toBe("Badge earned\nYour course is waiting");
    expect(await failed.locator("td.text").first().isVisible()).toBe(true);
    await small.getByText("Replay 1 failed…").click();
    await small.getByRole("button", { name: "Replay now" }).click();
    await expect.poll(() => small.getByRole("status").textContent()).toContain("Replayed 1 failed deliveries");
    await expect.poll(() => small.locator('tr[data-status="sent"]').count(), { timeout: 20_000 }).toBe(1);
    expect(await small.locator('tr[data-status="failed"]').count()).toBe(0);
    await screenshot(small, "event-replayed-phone");
    await small.goto("/admin/failures");
    expect(await small.locator("table.failures").count()).toBe(1);
    await expectAlignedColumns(small.locator("table.failures"));
    await small.context().close();
  });

  it("refuses a request without the session, and a form with a wrong CSRF token", async () => {
    const stranger = await httpClient.newContext({ baseURL: relay.url });
    const anonymous = await stranger.post(`/admin/events/${events.failing}/replay`, { form: { _csrf: "x".repeat(43) }, maxRedirects: 0 });
    expect(anonymous.status()).toBe(401);
    expect(await anonymous.text()).toContain('data-code="unauthorized"');
    expect((await stranger.get("/admin/failures", { maxRedirects: 0 })).status()).toBe(303);
    await stranger.dispose();

    // The signed-in browser's own cookies, with a token that is not its own.
    const forged = await context.request.post(`/admin/events/${events.failing}/replay`, {
      form: { _csrf: "A".repeat(43) },
      headers: { origin: relay.url },
      maxRedirects: 0,
    });
    expect(forged.status()).toBe(403);
    expect(await forged.text()).toContain('data-code="forbidden"');
    expect(await settled(events.failing)).toEqual({ failed: 1, rejected: 1 });
  });

  it("signs out", async () => {
    await page.goto("/admin");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL("**/admin/login");
    await page.goto("/admin");
    expect(new URL(page.url()).pathname).toBe("/admin/login");
  });
});
