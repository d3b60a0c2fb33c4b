/**
 * The ledger's retention: events older than the retention period go, with
 * their notifications and deliveries, so the database stays bounded. At a
 * million notifications a day that is a million notification rows and more
 * delivery rows to delete every day, so the sweep runs every hour (the cron
 * in wrangler.toml) and each run works in rounds until nothing is left or
 * its budget is spent; the next run goes on where it stopped. An event
 * with a delivery still open, or replayed lately, waits for a later run.
 */
import { log } from "../log";

export const RETENTION_DAYS = 30;
/**
 * An event replayed within this long is kept past its 30 days: its replay
 * may still be on the queue (a message and its 12 retries are done within
 * about 13 hours, the dead-letter queue's within 5 more), and a replay that
 * found its sent rows gone would send them again.
 */
export const REPLAY_GRACE_MS = 2 * 86_400_000;

/**
 * Events old enough to go: received before ?1, not replayed since ?3, and
 * with no delivery still open (its message will come back to it).
 */
export const EXPIRED_EVENTS_SQL = `
SELECT event_id FROM events
WHERE received_at < ?1 AND (replayed_at IS NULL OR replayed_at < ?3)
  AND NOT EXISTS (SELECT 1 FROM deliveries AS d WHERE d.event_id = events.event_id AND d.status IN ('retrying', 'sending'))
ORDER BY received_at LIMIT ?2`;

export interface SweepLimits {
  /** Events taken per round: their ids travel as one JSON parameter. */
  eventsPerRound: number;
  /** Rows one DELETE removes at most: a few hundred milliseconds of D1 work, far below its 30 s per query. */
  rowsPerStatement: number;
  /**
   * D1 statements one run may make. Each counts as a subrequest (10,000 per
   * invocation on paid plans, 50 on the free plan); 1,000 leave room.
   */
  maxStatements: number;
  /** Wall time one run may take; a cron invocation may run 15 minutes. */
  maxMs: number;
}

export const SWEEP_LIMITS: SweepLimits = {
  eventsPerRound: 500,
  rowsPerStatement: 10_000,
  maxStatements: 1_000,
  maxMs: 5 * 60_000,
};

export interface SweepResult {
  events: number;
  notifications: number;
  deliveries: number;
  statements: number;
  /** False when the budget ran out first: the next run continues. */
  complete: boolean;
}

/** One run's budget, and how to spend a statement of it. */
interface Sweep {
  db: D1Database;
  limits: SweepLimits;
  result: SweepResult;
  withinBudget: () => boolean;
  run: (statement: D1PreparedStatement) => Promise<number>;
}

/** Deletes what is older than RETENTION_DAYS, in rounds, within `limits`. */
export async function sweepLedger(
  db: D1Database,
  now = Date.now(),
  limits: SweepLimits = SWEEP_LIMITS,
  clock: () => number = Date.now,
): Promise<SweepResult> {
  const cutoff = now - RETENTION_DAYS * 86_400_000;
  const started = clock();
  const result: SweepResult = { events: 0, notifications: 0, deliveries: 0, statements: 0, complete: false };
  const sweep: Sweep = {
    db,
    limits,
    result,
    withinBudget: () => result.statements < limits.maxStatements && clock() - started < limits.maxMs,
    run: async (statement) => {
      result.statements++;
      return (await statement.run()).meta.changes;
    },
  };
  while (sweep.withinBudget()) {
    result.statements++;
    const { results } = await db.prepare(EXPIRED_EVENTS_SQL).bind(cutoff, limits.eventsPerRound, now - REPLAY_GRACE_MS).all<{ event_id: string }>();
    if (results.length === 0) {
      result.complete = true;
      break;
    }
    await deleteEvents(JSON.stringify(results.map((r) => r.event_id)), sweep);
  }
  log("retention", { ...result, retention_days: RETENTION_DAYS }, result.complete ? "info" : "warn");
  return result;
}

/** Deletes one round's events: rows first, then the events, so an interrupted run leaves nothing unreachable. */
async function deleteEvents(ids: string, { db, limits, result, withinBudget, run }: Sweep): Promise<void> {
  for (const [table, key] of [["deliveries", "event_id, idx, device_token"], ["notifications", "event_id, idx"]] as const) {
    for (;;) {
      if (!withinBudget()) return;
      const columns = key.split(", ").map((c) => `t.${c}`).join(", ");
      const changes = await run(
        db
          .prepare(`DELETE FROM ${table} WHERE (${key}) IN (SELECT ${columns} FROM json_each(?1) AS j CROSS JOIN ${table} AS t ON t.event_id = j.value LIMIT ?2)`)
          .bind(ids, limits.rowsPerStatement),
      );
      result[table] += changes;
      if (changes < limits.rowsPerStatement) break;
    }
  }
  if (!withinBudget()) return;
  result.events += await run(
    db
      .prepare(
        `DELETE FROM events WHERE event_id IN (SELECT value FROM json_each(?1))
           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.event_id)
           AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.event_id = events.event_id)`,
      )
      .bind(ids),
  );
}
