/**
 * The conversion of the previous ledger into documents: every field of a
 * delivery and its notification moves, in the event's bucket; what a
 * document already holds only loses its old rows (after the document takes
 * a change only the rows had); nothing is deleted unless the document that
 * holds it was written; pages stay within limits and the budget.
 */
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { claimDeliveries } from "../../src/db/ledger-writes";
import worker from "../../src/index";
import { ABANDONED_MARK } from "../../src/db/sweep-marks";
import { ABANDONED_AFTER_MS, closeAbandoned } from "../../src/maintenance/abandoned";
import { CONVERT_LIMITS, convertLedger, PAGE_SQL } from "../../src/maintenance/convert";
import { DELETE_DELIVERIES_SQL, DELETE_NOTIFICATIONS_SQL } from "../../src/maintenance/convert-guards";
import { racingD1 } from "../support/d1";
import { type LegacyEvent, legacyDelivery, legacyNotification, legacyRows, seedLegacy } from "../support/legacy";
import { ledgerOf } from "../support/ledger";
import { queryPlan } from "../support/query-plan";
import { fcmToken, uniqueId } from "../support/webhook";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A Svix-shaped id (a KSUID) made at `seconds`: its bucket is that second, whenever the webhook took it. */
function ksuid(seconds: number): string {
  const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  // 4 bytes of seconds since the KSUID epoch, then 16 random bytes.
  let value = BigInt(seconds - 1_400_000_000);
  for (const byte of crypto.getRandomValues(new Uint8Array(16))) value = (value << 8n) | BigInt(byte);
  let text = "";
  for (let i = 0; i < 27; i++, value /= 62n) text = BASE62[Number(value % 62n)]! + text;
  return `msg_${text}`;
}

/** An event of the previous ledger accepted at `receivedAt`, one delivery per notification. */
function legacyEvent(receivedAt: number, deliveries: Parameters<typeof legacyDelivery>[0][], eventId = uniqueId("evt")): LegacyEvent {
  return { event_id: eventId, received_at: receivedAt, replayed_at: null, notifications: deliveries.map((d, i) => legacyNotification(i, [legacyDelivery(d)])) };
}

const secondOf = (ms: number) => Math.floor(ms / 1000);

describe("converting the previous ledger", () => {
  it("moves an event into a document of its bucket with every field, and deletes its rows", async () => {
    const now = Date.now();
    const at = now - 2 * DAY;
    const [t0, t1, t2, t3] = [fcmToken(), fcmToken(), fcmToken(), fcmToken()];
    const event = legacyEvent(at, [
      { device_token: t0, status: "sent", provider_id: "projects/p/messages/1", latency_ms: 95, created_at: at, updated_at: at + 1 },
      { device_token: t1, status: "retrying", attempts: 2, provider_id: null, error: "UNAVAILABLE", detail: "The service is unavailable", next_attempt_at: now + HOUR },
      { device_token: t2, status: "sending", provider_id: null, claimed_by: "old-claim", claimed_until: now + 10 * 60_000 },
      { device_token: t3, status: "failed", provider_id: null, error: "INTERNAL" },
      { device_token: "", provider: null, app: null, status: "no_device", attempts: 0, provider_id: null, latency_ms: null },
    ]);
    event.notifications[0]!.opened_at = at + 5_000;
    await seedLegacy([event]);

    const result = await convertLedger(env.DB, now);
    expect(result).toMatchObject({ complete: true });
    expect(await legacyRows(event.event_id)).toEqual({ events: 0, notifications: 0, deliveries: 0 });
    const ledger = (await ledgerOf(event.event_id, secondOf(at)))!;
    expect(ledger.documents.map((d) => d.bucket)).toEqual([secondOf(at)]);
    expect(ledger.deliveries).toEqual([
      { index: 0, token: t0, provider: "fcm", status: "sent", attempts: 1, providerId: "projects/p/messages/1", error: null, nextAttemptAt: null, claimedBy: null, claimedUntil: null, openedAt: at + 5_000, updatedAt: at + 1 },
      expect.objectContaining({ index: 1, token: t1, status: "retrying", attempts: 2, error: "UNAVAILABLE", nextAttemptAt: now + HOUR }),
      expect.objectContaining({ index: 2, token: t2, status: "sending", claimedBy: "old-claim", claimedUntil: now + 10 * 60_000 }),
      expect.objectContaining({ index: 3, token: t3, status: "failed", error: "INTERNAL" }),
      expect.objectContaining({ index: 4, token: "", provider: null, status: "no_device" }),
    ]);
    const { doc } = ledger.documents[0]!;
    const source = event.notifications[1]!;
    expect(doc.n[1]).toMatchObject({ r: at, u: source.user_id, ti: source.title, b: source.body, pa: source.path });
    expect(doc.d.find((d) => d.t === t1)).toMatchObject({ dt: "The service is unavailable", c: expect.any(Number) });
    expect(doc.d.find((d) => d.t === t0)).toMatchObject({ l: 95, c: at });
  });

  it("puts an event with a Svix id in the bucket of its id's own second", async () => {
    const made = secondOf(Date.now()) - 3 * 86_400;
    const event = legacyEvent(Date.now() - DAY, [{ device_token: fcmToken() }], ksuid(made));
    await seedLegacy([event]);
    await convertLedger(env.DB);
    expect((await ledgerOf(event.event_id))!.documents.map((d) => d.bucket)).toEqual([made]);
  });

  it("only deletes the rows of a notification a document holds, after the document takes what changed on the rows since", async () => {
    const now = Date.now();
    const token = fcmToken();
    const event = legacyEvent(now - HOUR, [
      { device_token: token, status: "sending", provider_id: null, claimed_by: "old-claim", claimed_until: now + 10 * 60_000, updated_at: now - 60_000 },
      { device_token: fcmToken() },
    ]);
    await seedLegacy([event]);
    // A claim of the new version took notification 0 into a document (its lease is the previous version's: left alone).
    const n0 = event.notifications[0]!;
    const notification = { eventId: event.event_id, index: 0, bucket: secondOf(event.received_at), receivedAt: event.received_at, userId: n0.user_id!, customId: null, title: n0.title!, body: n0.body!, path: n0.path! };
    const target = { eventId: event.event_id, index: 0, token, provider: "fcm", app: "default" };
    await claimDeliveries(env.DB, { notifications: [notification], fresh: [target], replay: [], withDevices: [] }, { claimId: "new-claim", now, leaseUntil: now + 60_000 });
    // Then the previous version's record landed on the row only.
    await env.DB.prepare("UPDATE deliveries SET status = 'sent', provider_id = 'late', claimed_by = NULL, claimed_until = NULL, updated_at = ?2 WHERE device_token = ?1")
      .bind(token, now)
      .run();

    await convertLedger(env.DB, now);
    expect(await legacyRows(event.event_id)).toEqual({ events: 0, notifications: 0, deliveries: 0 });
    const ledger = (await ledgerOf(event.event_id))!;
    expect(ledger.deliveries.map((d) => [d.index, d.status, d.providerId])).toEqual([
      [0, "sent", "late"],
      [1, "sent", expect.any(String)],
    ]);
    expect(ledger.documents).toHaveLength(2);
  });

  it("deletes nothing when its insert loses a race, and decides again", async () => {
    const now = Date.now();
    const event = legacyEvent(now - HOUR, [{ device_token: fcmToken() }, { device_token: fcmToken() }]);
    await seedLegacy([event]);
    const n0 = event.notifications[0]!;
    const notification = { eventId: event.event_id, index: 0, bucket: secondOf(event.received_at), receivedAt: event.received_at, userId: n0.user_id!, customId: null, title: n0.title!, body: n0.body!, path: n0.path! };
    // A claim of notification 0 writes its document between the conversion's read and its write.
    const db = racingD1(env.DB, (sql) => sql.includes("INSERT INTO ledger_docs"), () =>
      claimDeliveries(env.DB, { notifications: [notification], fresh: [], replay: [], withDevices: [] }, { claimId: "racer", now, leaseUntil: now + 60_000 }),
    );

    await convertLedger(db, now);
    expect(await legacyRows(event.event_id)).toEqual({ events: 0, notifications: 0, deliveries: 0 });
    const ledger = (await ledgerOf(event.event_id))!;
    expect(ledger.deliveries.map((d) => [d.index, d.status])).toEqual([
      [0, "sent"],
      [1, "sent"],
    ]);
    expect(ledger.documents).toHaveLength(2);
  });

  it("moves a fan-out larger than a page across pages, no document holding more than a page", async () => {
    const event = legacyEvent(Date.now() - 3 * HOUR, Array.from({ length: 450 }, () => ({ device_token: fcmToken() })));
    await seedLegacy([event]);
    const result = await convertLedger(env.DB);
    expect(result.complete).toBe(true);
    const ledger = (await ledgerOf(event.event_id))!;
    expect(ledger.documents.map((d) => d.doc.n.length)).toEqual([200, 200, 50]);
    expect(new Set(ledger.deliveries.map((d) => d.index)).size).toBe(450);
    expect(await legacyRows(event.event_id)).toEqual({ events: 0, notifications: 0, deliveries: 0 });
  });

  it("takes the newest events first, stops at its budget, and the next run goes on", async () => {
    const now = Date.now();
    const events = [1, 2, 3, 4].map((k) => legacyEvent(now - k * HOUR, [{ device_token: fcmToken() }]));
    await seedLegacy(events);
    // One page of two notifications: the budget of one page (its read, and three tries of two calls).
    const first = await convertLedger(env.DB, now, { ...CONVERT_LIMITS, notificationsPerPage: 2, maxCalls: 7 });
    expect(first.complete).toBe(false);
    expect((await Promise.all(events.map((e) => legacyRows(e.event_id)))).map((r) => r.events)).toEqual([0, 0, 1, 1]);
    expect((await convertLedger(env.DB, now)).complete).toBe(true);
    for (const e of events) expect(await ledgerOf(e.event_id)).not.toBeNull();
  });

  it("goes through every event with pages of one notification, and drops an event row that has none", async () => {
    const now = Date.now();
    const events = [1, 2, 3].map((k) => legacyEvent(now - k * 60_000, [{ device_token: fcmToken() }]));
    const empty = { ...legacyEvent(now - 90_000, []), notifications: [] };
    await seedLegacy([...events, empty]);
    expect((await convertLedger(env.DB, now, { ...CONVERT_LIMITS, notificationsPerPage: 1 })).complete).toBe(true);
    for (const e of [...events, empty]) expect(await legacyRows(e.event_id)).toEqual({ events: 0, notifications: 0, deliveries: 0 });
    for (const e of events) expect((await ledgerOf(e.event_id))!.summary).toEqual({ sent: 1 });
  });

  it("brings the abandoned sweep back to a converted delivery left open behind its mark", async () => {
    const now = Date.now();
    await env.DB.prepare("INSERT OR REPLACE INTO sweep_marks (name, until) VALUES (?1, ?2)").bind(ABANDONED_MARK, now - ABANDONED_AFTER_MS).run();
    const lost = legacyEvent(now - 10 * DAY, [{ device_token: fcmToken(), status: "retrying", provider_id: null, next_attempt_at: now - 3 * DAY, updated_at: now - 3 * DAY }]);
    await seedLegacy([lost]);
    await convertLedger(env.DB, now);
    expect(await closeAbandoned(env.DB, now)).toBeGreaterThanOrEqual(1);
    expect((await ledgerOf(lost.event_id))!.deliveries[0]).toMatchObject({ status: "failed", error: "abandoned" });
  });

  it("runs in the hourly scheduled handler", async () => {
    const event = legacyEvent(Date.now() - DAY, [{ device_token: fcmToken() }]);
    await seedLegacy([event]);
    await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: "17 * * * *" }), env);
    expect(await legacyRows(event.event_id)).toEqual({ events: 0, notifications: 0, deliveries: 0 });
    expect((await ledgerOf(event.event_id))!.summary).toEqual({ sent: 1 });
  });

  it.each([
    ["a page", PAGE_SQL],
    ["the deliveries' delete", DELETE_DELIVERIES_SQL],
    ["the notifications' delete", DELETE_NOTIFICATIONS_SQL],
  ])("reads %s through the keys, never a whole table of the previous ledger", async (_name, sql) => {
    const steps = await queryPlan(sql);
    // A scan is of a JSON list or of a subquery's rows, never of a table.
    const subqueries = steps.flatMap((s) => s.match(/^CO-ROUTINE (\w+)/)?.slice(1) ?? []);
    for (const step of steps) {
      const [, scanned, how] = step.match(/^SCAN (\w+)(.*)$/) ?? [];
      if (scanned) expect(subqueries.includes(scanned) || how!.includes("VIRTUAL TABLE"), step).toBe(true);
    }
  });
});
