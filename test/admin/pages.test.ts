/**
 * The console's pages against a real ledger: deliveries written by the
 * consumer (fake providers, so each answer is chosen), a rejected
 * notification, and many more written through the ledger's own write
 * path for paging. Checks what
 * each page shows, that lists page with cursors, that Replay puts the
 * failed deliveries back on the queue, and that no page shows a whole
 * device token.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { type LedgerNotification, recordDeadLetters, recordRejections } from "../../src/db/ledger-writes";
import { bucketOfJob } from "../../src/delivery/plan";
import type { PushJob } from "../../src/queue/message";
import { ConsoleClient } from "../support/console";
import { fakeProviders, job, queued, registerDevice, runBatch } from "../support/delivery";
import { deviceToken } from "../support/device-tokens";
import { fcmToken, uniqueId } from "../support/ids";
import { api } from "../support/webhook";

const customId = uniqueId("emp");
const [goodToken, badToken] = [fcmToken(), fcmToken()];
let eventId: string;
let rejectedEvent: string;
const browser = new ConsoleClient();

/** A console whose queue keeps what it is given, for replays. */
function withQueue() {
  const jobs: PushJob[] = [];
  const queue = {
    sendBatch: async (messages: Iterable<{ body: PushJob }>) => {
      for (const m of messages) jobs.push(m.body);
    },
  } as unknown as Queue;
  return { jobs, client: new ConsoleClient({ PUSH_QUEUE: queue }) };
}

/** Every `href` on the page, decoded from HTML. */
const links = (html: string) => [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, "&"));

beforeAll(async () => {
  await registerDevice({ provider: "fcm", token: goodToken, custom_id: customId });
  await registerDevice({ provider: "fcm", token: badToken, custom_id: customId });
  const event = job([
    queued({ i: 0, custom_id: customId, path: "/courses/fire-safety?step=2", title: "Fire safety quiz", body: "Two questions left, about 3 minutes." }),
    queued({ i: 1, custom_id: uniqueId("nobody") }),
  ]);
  eventId = event.event_id;
  await runBatch([event], {
    providers: fakeProviders((m) => (m.token === badToken ? { kind: "failed", reason: "INVALID_ARGUMENT" } : { kind: "sent", id: "x" })),
  });
  rejectedEvent = uniqueId("msg_rejected");
  // A second newer than the delivered event: the list puts it first.
  await recordRejections(env.DB, { eventId: rejectedEvent, bucket: bucketOfJob(event) + 1, receivedAt: Date.now() }, [
    {
      index: 0,
      error: "invalid_event: data.notifications[0].title: must be a string",
      notification: { user_id: "li-42", custom_id: null, title: null, body: "b", path: "/x" },
    },
  ]);
  await browser.signIn();
});

function expectNoWholeToken(html: string) {
  for (const token of [goodToken, badToken]) expect(html).not.toContain(token);
}

describe("overview", () => {
  it("shows the counts of the last 24 hours and 7 days and a chart per hour", async () => {
    const { status, html } = await browser.page("/admin");
    expect(status).toBe(200);
    expect(html).toMatch(/data-status="sent"><span class="status s-sent">sent<\/span><b>[1-9]/);
    expect(html).toMatch(/data-status="failed"><span class="status s-failed">failed<\/span><b>[1-9]/);
    expect(html).toMatch(/data-status="rejected"><span class="status s-rejected">rejected<\/span><b>[1-9]/);
    expect(html).toContain("<svg class=\"chart\"");
    expect(html).toMatch(/<rect class="bar-sent"/);
    expect(html).toContain("Last 7 days, by app");
    // Deliveries without a provider are the rejected notifications and the users without a device.
    expect(html).toContain("none (rejected, no device)");
    expect(html).not.toContain("style=");
    expectNoWholeToken(html);
  });

  it("shows what was opened: the event's open rate and the overview's", async () => {
    const before = await browser.page(`/admin/events/${eventId}`);
    expect(before.html).toContain("0 of 1 notifications that reached a phone (0 %)");
    const app = await deviceToken({ sub: customId });
    const reported = await api("/v1/opens", { method: "POST", key: app, json: { event_id: eventId, index: 0 } });
    expect(reported.status).toBe(202);
    const after = await browser.page(`/admin/events/${eventId}`);
    expect(after.html).toContain("1 of 1 notifications that reached a phone (100 %)");
    // "opened" is a fact of the event, not a status to filter the deliveries by.
    expect(links(after.html)).not.toContain(`/admin/events/${eventId}?status=opened`);
    const overview = await browser.page("/admin");
    expect(overview.html).toMatch(/Opened in 24 h: <span>[1-9][\d,]* of [1-9][\d,]* pushes sent/);
  });

  it("has an icon, served from the console's own origin", async () => {
    const { html } = await browser.page("/admin");
    expect(html).toContain('<link rel="icon" type="image/svg+xml" href="/admin/favicon.svg"/>');
    const icon = await browser.fetch("/admin/favicon.svg");
    expect(icon.status).toBe(200);
    expect(icon.headers.get("content-type")).toBe("image/svg+xml");
    expect(await icon.text()).toMatch(/^<svg /);
  });
});

describe("events", () => {
  it("lists events newest first with their counts", async () => {
    const { html } = await browser.page("/admin/events");
    expect(html).toContain(`href="/admin/events/${eventId}"`);
    const row = html.slice(html.indexOf(`href="/admin/events/${eventId}"`));
    expect(row.slice(0, row.indexOf("</tr>"))).toMatch(/>2<\/td>.*1 <span class="status s-sent">sent.*1 <span class="status s-failed">failed.*1 <span class="status s-no_device">/s);
    expect(html.indexOf(rejectedEvent)).toBeLessThan(html.indexOf(eventId));
  });

  it("finds an event by its Svix id, or by the id's beginning", async () => {
    const exact = await browser.fetch(`/admin/events?q=${eventId}`);
    expect(exact.status).toBe(303);
    expect(exact.headers.get("location")).toBe(`/admin/events/${eventId}`);
    const { html } = await browser.page(`/admin/events?q=${eventId.slice(0, -3)}`);
    expect(html).toContain(`href="/admin/events/${eventId}"`);
    expect(html).not.toContain(rejectedEvent);
    expect((await browser.page("/admin/events?q=msg_nothing_like_it")).html).toContain("No event id starts with");
  });

  it("shows each notification and device with status, attempts, error, latency and tap path", async () => {
    const { status, html } = await browser.page(`/admin/events/${eventId}`);
    expect(status).toBe(200);
    expect(html).toContain(`<code class="token" title="last 6 characters">…${goodToken.slice(-6)}</code>`);
    expect(html).toContain(`<code class="token" title="last 6 characters">…${badToken.slice(-6)}</code>`);
    expect(html).toContain("<code>INVALID_ARGUMENT</code>");
    expect(html).toContain("<code>/courses/fire-safety?step=2</code>");
    expect(html).toMatch(/\d+ ms<\/td>/);
    expect(html).toContain(`href="/admin/users?by=custom_id&amp;id=${customId}"`);
    expect(html).toContain("Replay 1 failed…");
    expect(html).toContain("<b>Fire safety quiz</b>");
    expect(html).toContain("Two questions left, about 3 minutes.");
    expectNoWholeToken(html);
    const failedOnly = await browser.page(`/admin/events/${eventId}?status=failed`);
    expect(failedOnly.html.match(/<tr data-status=/g)).toHaveLength(1);
  });

  it("answers 404 for an event the ledger does not know, and 400 for a forged cursor", async () => {
    const missing = await browser.page("/admin/events/msg_never_seen");
    expect(missing.status).toBe(404);
    expect(missing.html).toContain('data-code="not_found"');
    const forged = await browser.page(`/admin/events/${eventId}?cursor=not-a-cursor`);
    expect(forged.status).toBe(400);
    expect(forged.html).toContain('data-code="invalid_request"');
  });

  it("replays the failed deliveries with a POST that carries the CSRF token", async () => {
    const { jobs, client } = withQueue();
    for (const [name, value] of browser.cookies) client.cookies.set(name, value);
    client.csrf = browser.csrf;
    expect((await client.post(`/admin/events/${eventId}/replay`, {}, { csrf: null })).status).toBe(403);
    expect(jobs).toHaveLength(0);

    const response = await client.post(`/admin/events/${eventId}/replay`);
    expect(response.status).toBe(303);
    const location = response.headers.get("location")!;
    expect(location).toMatch(new RegExp(`^/admin/events/${eventId}\\?replayed=1&at=\\d+$`));
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ event_id: eventId, retry_failed: true });
    expect(jobs[0]!.notifications.map((n) => n.i)).toEqual([0]);
    // The failed row is not taken up yet: the page refreshes itself until it is.
    const following = (await client.page(location)).html;
    expect(following).toContain("Replayed 1 failed deliveries");
    expect(following).toContain('<meta http-equiv="refresh" content="2"/>');
    // A minute later it stops, whatever the rows say.
    const later = location.replace(/at=\d+/, `at=${Date.now() - 61_000}`);
    expect((await client.page(later)).html).not.toContain('http-equiv="refresh"');
  });
});

describe("user", () => {
  it("shows a user's devices, shortened, and recent deliveries", async () => {
    const { status, html } = await browser.page(`/admin/users?by=custom_id&id=${customId}`);
    expect(status).toBe(200);
    expect(html.match(/<tr data-quarantined="no">/g)).toHaveLength(2);
    expect(html).toContain(`…${goodToken.slice(-6)}`);
    expect(html.match(/<tr data-status=/g)).toHaveLength(2);
    expect(html).toContain(`href="/admin/events/${eventId}"`);
    expectNoWholeToken(html);
  });

  it("looks a user up by LearnInk's user_id too", async () => {
    const { html } = await browser.page("/admin/users?by=user_id&id=li-42");
    expect(html).toContain("No registered device");
    expect(html).toContain(`href="/admin/events/${rejectedEvent}"`);
    expect(html).toContain('<span class="status s-rejected">rejected</span>');
  });

  it("lists the recipients of the latest events before any search", async () => {
    const { status, html } = await browser.page("/admin/users");
    expect(status).toBe(200);
    expect(html).toContain("Recipients of the latest events");
    expect(html).toContain(`href="/admin/users?by=custom_id&amp;id=${customId}"`);
  });

  it("refuses another kind of id", async () => {
    const { status, html } = await browser.page("/admin/users?by=email&id=x");
    expect(status).toBe(400);
    expect(html).toContain('data-code="invalid_request"');
  });
});

describe("failures", () => {
  it("lists failed and rejected deliveries in one table, with a Replay button where something failed", async () => {
    const { html } = await browser.page("/admin/failures");
    const rowOf = (event: string) => {
      const from = html.slice(html.indexOf(`data-event="${event}">`));
      return from.slice(0, from.indexOf("</tr>"));
    };
    expect(rowOf(eventId)).toContain(`action="/admin/events/${eventId}/replay"`);
    expect(rowOf(rejectedEvent)).toContain("data.notifications[0].title: must be a string");
    expect(rowOf(rejectedEvent)).not.toContain("/replay");
    expect(html).not.toContain("<section data-event=");
    expect(html.match(/<table class="failures">/g)).toHaveLength(1);
    expectNoWholeToken(html);
  });
});

describe("alarms", () => {
  it("shows each alarm on the overview with what to check", async () => {
    const now = Date.now();
    await env.DB.prepare(
      `INSERT INTO alerts (kind, provider, app, reason, since, last_seen_at, count, last_event_id)
       VALUES ('provider_misconfigured', 'fcm', 'default', 'SENDER_ID_MISMATCH', ?1, ?1, 12, ?2)`,
    )
      .bind(now - 60_000, eventId)
      .run();
    const { html } = await browser.page("/admin");
    const alarm = html.slice(html.indexOf('data-kind="provider_misconfigured"'));
    expect(alarm.slice(0, alarm.indexOf("</div>"))).toMatch(/fcm · default.*SENDER_ID_MISMATCH.*12 answers.*What to check:.*another Firebase project/s);
    expect(alarm).toContain(`href="/admin/events/${eventId}"`);
    expect(html).not.toContain('data-kind="none"');
    await env.DB.prepare("DELETE FROM alerts").run();
    expect((await browser.page("/admin")).html).toContain('data-kind="none"');
  });
});

describe("quarantine", () => {
  async function quarantine(token: string) {
    await env.DB.prepare("UPDATE devices SET quarantined_at = ?2, quarantine_reason = 'UNREGISTERED' WHERE token = ?1")
      .bind(token, Date.now() - 3_600_000)
      .run();
  }
  const held = (token: string) =>
    env.DB.prepare("SELECT quarantined_at FROM devices WHERE token = ?1").bind(token).first<{ quarantined_at: number | null }>();
  /** The sealed reference the forms in `token`'s row carry (the page shows the token shortened only). */
  const refOf = (html: string, token: string) => {
    const row = html.split("<tr ").find((r) => r.includes(`…${token.slice(-6)}`))!;
    return /name="device" value="([^"]+)"/.exec(row)![1]!;
  };

  it("lists quarantined devices on Failures and the user's page, with Restore and Confirm removal", async () => {
    // Ends of their own, so each shortened token tells its row apart.
    const [kept, gone] = [fcmToken().replace(/.{6}$/, "Kept01"), fcmToken().replace(/.{6}$/, "Gone02")];
    const owner = uniqueId("emp-held");
    await registerDevice({ provider: "fcm", token: kept, custom_id: owner });
    await registerDevice({ provider: "fcm", token: gone, custom_id: owner });
    await quarantine(kept);
    await quarantine(gone);

    const failures = await browser.page("/admin/failures");
    expect(failures.html.match(/<tr data-quarantined="yes">/g)!.length).toBeGreaterThanOrEqual(2);
    expect(failures.html).toContain(`…${kept.slice(-6)}`);
    expect(failures.html).toContain('action="/admin/devices/restore"');
    expect(failures.html).toContain('action="/admin/devices/confirm-removal"');
    // The full token is nowhere in the page source: not on screen, not in the forms' hidden fields.
    expect(failures.html).not.toContain(kept);
    expect(failures.html).not.toContain(gone);

    const user = await browser.page(`/admin/users?by=custom_id&id=${owner}`);
    expect(user.html.match(/<tr data-quarantined="no">/g)).toBeNull();
    expect(user.html).toContain("UNREGISTERED");
    expect(user.html).not.toContain(kept);
    const [keptRef, goneRef] = [refOf(user.html, kept), refOf(user.html, gone)];

    const back = `/admin/users?by=custom_id&id=${owner}`;
    expect((await browser.post("/admin/devices/restore", { device: keptRef, next: back }, { csrf: null })).status).toBe(403);
    expect((await held(kept))!.quarantined_at).not.toBeNull();
    // A raw token, or a reference that was edited, names no device.
    expect((await browser.post("/admin/devices/restore", { device: kept, next: back })).status).toBe(400);
    expect((await browser.post("/admin/devices/restore", { token: kept, next: back })).status).toBe(400);
    expect((await held(kept))!.quarantined_at).not.toBeNull();

    const restored = await browser.post("/admin/devices/restore", { device: keptRef, next: back });
    expect(restored.status).toBe(303);
    expect(restored.headers.get("location")).toBe(`${back}&done=restored`);
    expect((await held(kept))!.quarantined_at).toBeNull();
    expect((await browser.page(restored.headers.get("location")!)).html).toContain("Restored: the device is sent to again.");

    const removed = await browser.post("/admin/devices/confirm-removal", { device: goneRef, next: "/admin/failures#quarantine" });
    expect(removed.headers.get("location")).toBe("/admin/failures?done=removed#quarantine");
    expect(await held(gone)).toBeNull();

    // Nothing quarantined with that token any more: a second answer is a 404 page.
    const again = await browser.post("/admin/devices/confirm-removal", { device: goneRef, next: back });
    expect(again.status).toBe(404);
    // Only console pages are places to go back to.
    await quarantine(kept);
    const elsewhere = await browser.post("/admin/devices/restore", { device: keptRef, next: "https://evil.example/" });
    expect(elsewhere.headers.get("location")).toBe("/admin?done=restored");
  });
});

describe("paging", () => {
  it("walks every event exactly once, newest first, with the Older links", async () => {
    const base = Math.floor(Date.now() / 1000) - 86_400;
    const ids = Array.from({ length: 45 }, (_, i) => `msg_page_${String(i).padStart(2, "0")}`);
    // Two by two they share a second, and one claim writes them into one document: the cursor's tie-break on the id is exercised.
    const bucket = (id: string) => base - Math.floor(Number(id.slice(9)) / 2);
    const jobs = ids.map((id) => job([queued({ user_id: uniqueId("nobody") })], { event_id: id, t: bucket(id), received_at: bucket(id) * 1000 }));
    await runBatch(jobs, { providers: fakeProviders() });
    const seen: string[] = [];
    let path: string | undefined = "/admin/events";
    while (path) {
      const { status, html } = await browser.page(path);
      expect(status).toBe(200);
      seen.push(...[...html.matchAll(/href="\/admin\/events\/(msg_page_\d+)"/g)].map((m) => m[1]!));
      path = links(html).find((href) => href.startsWith("/admin/events?cursor="));
    }
    expect(seen).toEqual([...ids].sort((a, b) => Math.floor(Number(a.slice(9)) / 2) - Math.floor(Number(b.slice(9)) / 2) || b.localeCompare(a)));
    // An event counted from the document it shares with another.
    const { html } = await browser.page("/admin/events?q=msg_page_0");
    const row = html.slice(html.indexOf('href="/admin/events/msg_page_07"'));
    expect(row.slice(0, row.indexOf("</tr>"))).toMatch(/>1<\/td>.*1 <span class="status s-no_device">/s);
  });

  it("walks every delivery of a user exactly once, newest first", async () => {
    // 120 notifications for one user over 7 seconds, several events to a second and two notifications to an event: pages end inside a second.
    const user = uniqueId("emp-many");
    const base = Math.floor(Date.now() / 1000) - 7_200;
    const events = Array.from({ length: 60 }, (_, i) => ({ id: uniqueId("msg_u"), bucket: base - (i % 7) }));
    const notifications = events.flatMap(({ id, bucket }) =>
      [0, 1].map((index): LedgerNotification => ({ eventId: id, index, bucket, receivedAt: bucket * 1000, userId: uniqueId("usr"), customId: user, title: "t", body: "b", path: "/p" })),
    );
    await recordDeadLetters(env.DB, notifications, Date.now());
    const seen: string[] = [];
    let path: string | undefined = `/admin/users?by=custom_id&id=${user}`;
    while (path) {
      const { html } = await browser.page(path);
      seen.push(...[...html.matchAll(/<tr data-status="failed" data-event="(msg_u[^"]+)"><td>.*?<td class="num">(\d+)<\/td>/g)].map((m) => `${m[1]}#${m[2]}`));
      path = links(html).find((href) => href.startsWith("/admin/users?") && href.includes("cursor="));
    }
    const bucketOf = new Map(events.map((e) => [e.id, e.bucket]));
    const expected = notifications.map((n) => `${n.eventId}#${n.index}`);
    expect(seen).toEqual(expected.sort((a, b) => bucketOf.get(b.split("#")[0]!)! - bucketOf.get(a.split("#")[0]!)! || (a < b ? -1 : 1)));
  });

  it("walks every failure exactly once", async () => {
    // Notifications that never reached the consumer, dead-lettered: each is recorded failed, in 7 seconds an hour ago.
    const base = Math.floor(Date.now() / 1000) - 3_600;
    const failures = Array.from({ length: 120 }, (_, i): LedgerNotification => {
      const bucket = base - (i % 7);
      return { eventId: uniqueId("msg_f"), index: 0, bucket, receivedAt: bucket * 1000, userId: uniqueId("usr"), customId: null, title: "t", body: "b", path: "/p" };
    });
    await recordDeadLetters(env.DB, failures, Date.now());
    const seen: string[] = [];
    let path: string | undefined = "/admin/failures";
    let pages = 0;
    while (path) {
      const { html } = await browser.page(path);
      pages++;
      seen.push(...[...html.matchAll(/<tr data-status="failed" data-event="(msg_f[^"]+)">/g)].map((m) => m[1]!));
      path = links(html).find((href) => href.startsWith("/admin/failures?cursor="));
    }
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(seen.sort()).toEqual(failures.map((f) => f.eventId).sort());
  });
});
