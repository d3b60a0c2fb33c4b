/**
 * Retention of the previous ledger (tables `events`, `notifications`,
 * `deliveries`; src/db/legacy.ts) while it has rows: nothing writes them
 * any more, the conversion (convert.ts) moves them into documents newest
 * first, and this deletes the oldest as before, by the time the webhook
 * accepted the event, so the two meet in the middle and no event past its
 * 30 days is converted only to be deleted. Once the tables are empty, a run
 * costs one indexed look-up.
 */
import type { Budget } from "./budget";

/**
 * Events old enough to go: received before ?1, not replayed since ?3, and
 * with no delivery still open (its message will come back to it).
 */
export const EXPIRED_EVENTS_SQL = `
SELECT event_id FROM events
WHERE received_at < ?1 AND (replayed_at IS NULL OR replayed_at < ?3)
  AND NOT EXISTS (SELECT 1 FROM deliveries AS d WHERE d.event_id = events.event_id AND d.status IN ('retrying', 'sending'))
ORDER BY received_at LIMIT ?2`;

/** Deletes the listed events (?1, a JSON array of ids) that have no row left. */
export const DELETE_EMPTY_EVENTS_SQL = `
DELETE FROM events WHERE event_id IN (SELECT value FROM json_each(?1))
  AND NOT EXISTS (SELECT 1 FROM deliveries AS d WHERE d.event_id = events.event_id)
  AND NOT EXISTS (SELECT 1 FROM notifications AS n WHERE n.event_id = events.event_id)`;

export interface LegacyLimits {
  /** Events taken per round: their ids travel as one JSON parameter. */
  eventsPerRound: number;
  /** Rows one DELETE removes at most: a few hundred milliseconds of D1 work, far below its 30 s per query. */
  rowsPerStatement: number;
}

export interface LegacyDeleted {
  events: number;
  notifications: number;
  deliveries: number;
  /** False when the budget ran out first: the next run continues. */
  complete: boolean;
}

/** Deletes the previous ledger's events received before `cutoff` (epoch ms), in rounds, within the budget. */
export async function sweepLegacy(db: D1Database, window: { cutoff: number; replayedSince: number }, limits: LegacyLimits, budget: Budget): Promise<LegacyDeleted> {
  const deleted: LegacyDeleted = { events: 0, notifications: 0, deliveries: 0, complete: false };
  while (budget.allows()) {
    const ids = await budget.all<{ event_id: string }>(db.prepare(EXPIRED_EVENTS_SQL).bind(window.cutoff, limits.eventsPerRound, window.replayedSince));
    if (ids.length === 0) {
      deleted.complete = true;
      break;
    }
    await deleteEvents(db, JSON.stringify(ids.map((r) => r.event_id)), limits, budget, deleted);
  }
  return deleted;
}

/** Deletes one round's events: rows first, then the events, so an interrupted run leaves nothing unreachable. */
async function deleteEvents(db: D1Database, ids: string, limits: LegacyLimits, budget: Budget, deleted: LegacyDeleted): Promise<void> {
  for (const [table, key] of [["deliveries", "event_id, idx, device_token"], ["notifications", "event_id, idx"]] as const) {
    const columns = key.split(", ").map((c) => `t.${c}`).join(", ");
    const sql = `DELETE FROM ${table} WHERE (${key}) IN (SELECT ${columns} FROM json_each(?1) AS j CROSS JOIN ${table} AS t ON t.event_id = j.value LIMIT ?2)`;
    for (;;) {
      if (!budget.allows()) return;
      const changes = await budget.run(db.prepare(sql).bind(ids, limits.rowsPerStatement));
      deleted[table] += changes;
      if (changes < limits.rowsPerStatement) break;
    }
  }
  if (!budget.allows()) return;
  deleted.events += await budget.run(db.prepare(DELETE_EMPTY_EVENTS_SQL).bind(ids));
}
