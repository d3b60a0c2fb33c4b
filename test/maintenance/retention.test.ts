import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { markReplayed } from "../../src/db/ledger-writes";
import { bucketOfJob } from "../../src/delivery/plan";
import { EXPIRED_DOCS_SQL, REPLAY_GRACE_MS, RETENTION_DAYS, SWEEP_LIMITS, sweepLedger } from "../../src/maintenance/retention";
import type { PushJob } from "../../src/queue/message";
import { fakeProviders, job, queued, registerDevice, runBatch } from "../support/delivery";
import { legacyDelivery, legacyNotification, legacyRows, seedLegacy } from "../support/legacy";
import { ledgerOf } from "../support/ledger";
import { queryPlan } from "../support/query-plan";
import { capturingQueue, fcmToken, fetchWith, notification, notificationsSent, signedRequest, uniqueId } from "../support/webhook";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;

/** A job of an event that happened at `at` (epoch ms): its bucket says so, whenever it is delivered. */
const eventAt = (at: number, notifications = [queued()]) => job(notifications, { t: Math.floor(at / 1000) });

/** The event's documents, found by its bucket (older than the 31 days an id-only look-up covers). */
const ledger = (event: PushJob) => ledgerOf(event.event_id, bucketOfJob(event));

/** A notifications.sent event through the webhook, with a non-Svix id and an envelope `timestamp` of `at`; resolves with its queued jobs. */
async function webhookAt(at: number): Promise<PushJob[]> {
  const capture = capturingQueue();
  const body = notificationsSent([notification()], { timestamp: new Date(at).toISOString() });
  const response = await fetchWith(signedRequest(body, { id: uniqueId("evt") }), { PUSH_QUEUE: capture.queue });
  expect(response.status).toBe(200);
  return capture.jobs();
}

/** Inserts `count` documents of one notification each in `bucket`, straight into D1 (setup for the volume tests). */
async function bulkDocs(bucket: number, count: number, tag: string): Promise<void> {
  const doc = (x: string) => `json_object('ev', json_array('${tag}-' || ${x}), 'n', json_array(), 'd', json_array())`;
  await env.DB.batch([
    env.DB.prepare(
      `WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < ${count})
       INSERT INTO ledger_docs (bucket, seq, v, w, doc) SELECT ?1, x, 1, 'bulk', ${doc("x")} FROM s`,
    ).bind(bucket),
    env.DB.prepare(
      `INSERT INTO ledger (bucket, seq, lo, hi, events, users, counts, open_at, notifications, created_at, updated_at)
       SELECT bucket, seq, 0, 0, json_array(doc->>'$.ev[0]'), '[]', '{}', NULL, 0, 0, 0 FROM ledger_docs WHERE bucket = ?1`,
    ).bind(bucket),
  ]);
}

const docsIn = async (bucket: number) => (await env.DB.prepare("SELECT COUNT(*) AS n FROM ledger_docs WHERE bucket = ?1").bind(bucket).first<number>("n"))!;

describe("ledger retention", () => {
  it(`deletes documents of events older than ${RETENTION_DAYS} days, and keeps the rest`, async () => {
    const now = Date.now();
    const old = eventAt(now - (RETENTION_DAYS + 1) * DAY, [queued({ i: 0 }), queued({ i: 1 })]);
    const recent = eventAt(now - DAY);
    await runBatch([old, recent], { providers: fakeProviders() });
    expect((await ledger(old))!.summary).toEqual({ no_device: 2 });

    const result = await sweepLedger(env.DB, now);
    expect(result.documents).toBeGreaterThanOrEqual(1);
    expect(result.complete).toBe(true);
    expect(await ledger(old)).toBeNull();
    expect((await ledger(recent))!.summary).toEqual({ no_device: 1 });
    // The summary row goes with its document.
    const orphans = await env.DB.prepare("SELECT COUNT(*) AS n FROM ledger AS l WHERE NOT EXISTS (SELECT 1 FROM ledger_docs AS d WHERE d.bucket = l.bucket AND d.seq = l.seq)").first<number>("n");
    expect(orphans).toBe(0);
  });

  it(`keeps exactly ${RETENTION_DAYS} days by the event's time: ${RETENTION_DAYS - 1} days 23 hours kept, ${RETENTION_DAYS} days 1 minute gone`, async () => {
    const now = Date.now();
    // Through the write path, with the bucket a message carries...
    const [kept, gone] = [eventAt(now - (RETENTION_DAYS - 1) * DAY - 23 * HOUR), eventAt(now - RETENTION_DAYS * DAY - MINUTE)];
    // ...and through the webhook, from the envelope's timestamp (no Svix id to say it).
    const [keptHook] = await webhookAt(now - (RETENTION_DAYS - 1) * DAY - 23 * HOUR);
    const [goneHook] = await webhookAt(now - RETENTION_DAYS * DAY - MINUTE);
    expect(bucketOfJob(goneHook!)).toBe(Math.floor((now - RETENTION_DAYS * DAY - MINUTE) / 1000));
    await runBatch([kept, gone, keptHook!, goneHook!], { providers: fakeProviders() });

    await sweepLedger(env.DB, now);
    expect(await ledger(kept)).not.toBeNull();
    expect(await ledger(keptHook!)).not.toBeNull();
    expect(await ledger(gone)).toBeNull();
    expect(await ledger(goneHook!)).toBeNull();
  });

  it("keeps an old document while a delivery of it is open, or while its event's replay may be on the queue", async () => {
    const now = Date.now();
    const customId = uniqueId("emp");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
    const old = now - (RETENTION_DAYS + 1) * DAY;
    const retrying = eventAt(old, [queued({ custom_id: customId })]);
    await runBatch([retrying], { providers: fakeProviders(() => ({ kind: "retry", reason: "UNAVAILABLE" })) });
    const replayed = eventAt(old, [queued({ custom_id: customId })]);
    await runBatch([replayed], { providers: fakeProviders(() => ({ kind: "failed", reason: "INTERNAL" })) });
    await markReplayed(env.DB, replayed.event_id, bucketOfJob(replayed), now);

    await sweepLedger(env.DB, now);
    expect((await ledger(retrying))!.summary).toEqual({ retrying: 1 });
    expect((await ledger(replayed))!.summary).toEqual({ failed: 1 });

    // The replay arrives: the device gets it once; the document goes once the grace is over, with the replay's note.
    const providers = fakeProviders();
    await runBatch([{ ...replayed, retry_failed: true }], { providers });
    expect(providers.fcm.sent).toHaveLength(1);
    await sweepLedger(env.DB, now + REPLAY_GRACE_MS - MINUTE);
    expect((await ledger(replayed))!.summary).toEqual({ sent: 1 });
    const notes = () => env.DB.prepare("SELECT COUNT(*) AS n FROM replays WHERE event_id = ?1").bind(replayed.event_id).first<number>("n");
    expect(await notes()).toBe(1);
    await sweepLedger(env.DB, now + REPLAY_GRACE_MS + MINUTE);
    expect(await ledger(replayed)).toBeNull();
    expect(await notes()).toBe(0);
  });

  it("deletes the opens counted in hours before the window", async () => {
    const now = Date.now();
    const hour = (at: number) => at - (at % HOUR);
    const [outside, inside] = [hour(now - RETENTION_DAYS * DAY) - HOUR, hour(now - RETENTION_DAYS * DAY) + HOUR];
    await env.DB.prepare("INSERT INTO opens_by_hour (hour, n) VALUES (?1, 3), (?2, 4)").bind(outside, inside).run();
    await sweepLedger(env.DB, now);
    const { results } = await env.DB.prepare("SELECT hour FROM opens_by_hour WHERE hour IN (?1, ?2)").bind(outside, inside).all<{ hour: number }>();
    expect(results.map((r) => r.hour)).toEqual([inside]);
  });

  it("sweeps thousands of old documents in one run, in rounds, within its budget", async () => {
    const bucket = Math.floor((Date.now() - (RETENTION_DAYS + 3) * DAY) / 1000);
    await bulkDocs(bucket, 5_000, "bulk");
    const result = await sweepLedger(env.DB);
    expect(result.documents).toBeGreaterThanOrEqual(5_000);
    expect(result.complete).toBe(true);
    expect(result.calls).toBeLessThan(SWEEP_LIMITS.maxCalls);
    expect(await docsIn(bucket)).toBe(0);
  });

  it("finds expired documents through the primary key, never a scan of the ledger", async () => {
    const steps = await queryPlan(EXPIRED_DOCS_SQL);
    expect(steps).toContainEqual(expect.stringMatching(/^SEARCH l USING PRIMARY KEY \(\(bucket,seq\)>\(\?,\?\) AND bucket<\?\)/));
    // Only `replays` (two days of replays) is read whole.
    for (const step of steps) if (/^SCAN /.test(step)) expect(step).toBe("SCAN r");
  });

  it("stops at its budget and leaves nothing half-deleted that the next run cannot find", async () => {
    const bucket = Math.floor((Date.now() - (RETENTION_DAYS + 4) * DAY) / 1000);
    await bulkDocs(bucket, 3, "budget");
    const first = await sweepLedger(env.DB, Date.now(), { ...SWEEP_LIMITS, docsPerRound: 1, maxCalls: 4 });
    expect(first.complete).toBe(false);
    expect(await docsIn(bucket)).toBe(1);
    const second = await sweepLedger(env.DB);
    expect(second.complete).toBe(true);
    expect(await docsIn(bucket)).toBe(0);
  });
});

describe("retention of the previous ledger, until it is empty", () => {
  it("deletes its events older than 30 days by acceptance, with their rows, and keeps open or replayed ones", async () => {
    const now = Date.now();
    const old = now - (RETENTION_DAYS + 1) * DAY;
    const event = (tag: string, status: "sent" | "retrying", replayedAt: number | null = null) => ({
      event_id: uniqueId(tag),
      received_at: old,
      replayed_at: replayedAt,
      notifications: [legacyNotification(0, [legacyDelivery({ device_token: fcmToken(), status, updated_at: old })])],
    });
    const [gone, open, replayed] = [event("gone", "sent"), event("open", "retrying"), event("replayed", "sent", now - DAY)];
    const recent = { ...event("recent", "sent"), received_at: now - DAY };
    await seedLegacy([gone, open, replayed, recent]);

    const result = await sweepLedger(env.DB, now);
    expect(result).toMatchObject({ complete: true });
    expect(result.events).toBeGreaterThanOrEqual(1);
    expect(await legacyRows(gone.event_id)).toEqual({ events: 0, notifications: 0, deliveries: 0 });
    for (const kept of [open, replayed, recent]) expect(await legacyRows(kept.event_id)).toEqual({ events: 1, notifications: 1, deliveries: 1 });
  });

  it("sweeps a million old delivery rows in one run, in rounds, within its budget", async () => {
    const events = 2_000;
    const perEvent = 500;
    const old = Date.now() - (RETENTION_DAYS + 2) * DAY;
    // 2,000 events of 500 notifications, one delivery each: 1,000,000 rows, generated inside
    // SQLite. (The sizes are inlined: D1 binds JavaScript numbers as REAL, and x / 500.0 is no index.)
    await env.DB.batch([
      env.DB.prepare(
        `WITH RECURSIVE e(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM e WHERE x < ${events - 1})
         INSERT INTO events (event_id, received_at) SELECT 'bulk-' || x, ?1 FROM e`,
      ).bind(old),
      env.DB.prepare(
        `WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < ${events * perEvent - 1})
         INSERT INTO notifications (event_id, idx, user_id, title, body, path, created_at)
         SELECT 'bulk-' || (x / ${perEvent}), x % ${perEvent}, 'u' || x, 't', 'b', '/p', ?1 FROM n`,
      ).bind(old),
      env.DB.prepare(
        `INSERT INTO deliveries (event_id, idx, device_token, provider, app, status, attempts, created_at, updated_at)
         SELECT event_id, idx, 'tok' || idx, 'fcm', 'default', 'sent', 1, ?1, ?1 FROM notifications WHERE event_id LIKE 'bulk-%'`,
      ).bind(old),
    ]);

    const result = await sweepLedger(env.DB);
    expect(result).toMatchObject({ events, notifications: events * perEvent, deliveries: events * perEvent, complete: true });
    expect(result.calls).toBeLessThan(SWEEP_LIMITS.maxCalls);
    const left = await env.DB.prepare("SELECT COUNT(*) AS n FROM deliveries WHERE event_id LIKE 'bulk-%'").first<number>("n");
    expect(left).toBe(0);
  }, 120_000);
});
