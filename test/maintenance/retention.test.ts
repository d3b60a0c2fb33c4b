import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { REPLAY_GRACE_MS, RETENTION_DAYS, SWEEP_LIMITS, sweepLedger } from "../../src/maintenance/retention";
import { eventDeliveries, fakeProviders, job, queued, registerDevice, replayJobs, runBatch } from "../support/delivery";
import { fcmToken, uniqueId } from "../support/webhook";

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;

/** Moves an event's acceptance back to `at` (epoch ms), as if it had come then. */
const receivedAt = (eventId: string, at: number) =>
  env.DB.prepare("UPDATE events SET received_at = ?1 WHERE event_id = ?2").bind(at, eventId).run();

/** Rows of `table` that belong to the events listed (storage is shared by the tests of a file). */
async function count(table: string, eventIds: string): Promise<number> {
  return (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE event_id LIKE ?1`).bind(eventIds).first<{ n: number }>())!.n;
}

describe("ledger retention", () => {
  it(`deletes events older than ${RETENTION_DAYS} days with their notifications and deliveries, and keeps the rest`, async () => {
    const old = job([queued({ i: 0 }), queued({ i: 1 })]);
    const recent = job([queued()]);
    await runBatch([old, recent], { providers: fakeProviders() });
    await env.DB.prepare("UPDATE events SET received_at = ?1 WHERE event_id = ?2")
      .bind(Date.now() - (RETENTION_DAYS + 1) * DAY, old.event_id)
      .run();

    const result = await sweepLedger(env.DB);
    expect(result).toMatchObject({ events: 1, notifications: 2, deliveries: 2, complete: true });
    expect(await eventDeliveries(old.event_id)).toBeNull();
    expect((await eventDeliveries(recent.event_id))!.summary).toEqual({ no_device: 1 });
  });

  it(`keeps exactly ${RETENTION_DAYS} days: ${RETENTION_DAYS - 1} days 23 hours kept, ${RETENTION_DAYS} days 1 minute gone`, async () => {
    const now = Date.now();
    const [kept, gone] = [job([queued()]), job([queued()])];
    await runBatch([kept, gone], { providers: fakeProviders() });
    await receivedAt(kept.event_id, now - (RETENTION_DAYS - 1) * DAY - 23 * HOUR);
    await receivedAt(gone.event_id, now - RETENTION_DAYS * DAY - MINUTE);

    await sweepLedger(env.DB, now);
    expect(await eventDeliveries(kept.event_id)).not.toBeNull();
    expect(await eventDeliveries(gone.event_id)).toBeNull();
  });

  it("keeps an old event while a delivery of it is open, or while its replay may be on the queue", async () => {
    const now = Date.now();
    const customId = uniqueId("emp");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
    const retrying = job([queued({ custom_id: customId })]);
    await runBatch([retrying], { providers: fakeProviders(() => ({ kind: "retry", reason: "UNAVAILABLE" })) });
    const replayed = job([queued({ custom_id: customId })]);
    await runBatch([replayed], { providers: fakeProviders(() => ({ kind: "failed", reason: "INTERNAL" })) });
    const replay = await replayJobs(replayed.event_id);
    for (const event of [retrying, replayed]) await receivedAt(event.event_id, now - (RETENTION_DAYS + 1) * DAY);

    await sweepLedger(env.DB, now);
    expect((await eventDeliveries(retrying.event_id))!.summary).toEqual({ retrying: 1 });
    expect((await eventDeliveries(replayed.event_id))!.summary).toEqual({ failed: 1 });

    // The replay arrives: the device gets it once, the event goes once its grace is over.
    const providers = fakeProviders();
    await runBatch(replay, { providers });
    expect(providers.fcm.sent).toHaveLength(1);
    await sweepLedger(env.DB, now + REPLAY_GRACE_MS - MINUTE);
    expect((await eventDeliveries(replayed.event_id))!.summary).toEqual({ sent: 1 });
    await sweepLedger(env.DB, now + REPLAY_GRACE_MS + MINUTE);
    expect(await eventDeliveries(replayed.event_id)).toBeNull();
  });

  it("sweeps a million old delivery rows in one run, in rounds, within its statement budget", async () => {
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
    expect(await count("deliveries", "bulk-%")).toBe(1_000_000);

    const result = await sweepLedger(env.DB);
    expect(result).toMatchObject({ events, notifications: events * perEvent, deliveries: events * perEvent, complete: true });
    expect(result.statements).toBeLessThan(SWEEP_LIMITS.maxStatements);
    for (const table of ["events", "notifications", "deliveries"]) expect(await count(table, "bulk-%")).toBe(0);
  }, 120_000);

  it("stops at its budget and leaves nothing half-deleted that the next run cannot find", async () => {
    const old = Date.now() - (RETENTION_DAYS + 2) * DAY;
    const jobs = [job([queued({ i: 0 }), queued({ i: 1 })]), job([queued({ i: 0 })]), job([queued({ i: 0 })])].map((j, k) => ({
      ...j,
      event_id: `budget-${k}-${j.event_id}`,
      received_at: old,
    }));
    await runBatch(jobs, { providers: fakeProviders() });

    const limits = { ...SWEEP_LIMITS, eventsPerRound: 1, rowsPerStatement: 1, maxStatements: 4 };
    const first = await sweepLedger(env.DB, Date.now(), limits);
    expect(first.complete).toBe(false);
    const second = await sweepLedger(env.DB, Date.now());
    expect(second.complete).toBe(true);
    expect(first.events + second.events).toBe(3);
    for (const table of ["events", "notifications", "deliveries"]) expect(await count(table, "budget-%")).toBe(0);
  });
});
