/**
 * The ledger's retention: exactly RETENTION_DAYS of documents by their
 * bucket (the event's own time), so the database stays bounded. At a
 * million notifications a day that is thousands of documents to delete
 * every day, so the sweep runs every hour (the cron in wrangler.toml) and
 * each run works in rounds until nothing is left or its budget is spent;
 * the next run goes on where it stopped. A document with a delivery still
 * open, or holding an event replayed lately, waits for a later run.
 *
 * The same run trims the small tables beside the documents (`replays`,
 * `opens_by_hour`) and the previous ledger, until it is empty
 * (legacy-retention.ts).
 */
import { log } from "../log";
import { Budget, CALLS_PER_RUN, SWEEP_MS } from "./budget";
import { type LegacyLimits, sweepLegacy } from "./legacy-retention";

export const RETENTION_DAYS = 30;
/**
 * An event replayed within this long is kept past its 30 days: its replay
 * may still be on the queue (a message and its 12 retries are done within
 * about 13 hours, the dead-letter queue's within 5 more), and a replay that
 * found its sent deliveries gone would send them again.
 */
export const REPLAY_GRACE_MS = 2 * 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * A document old enough to go (`l` its `ledger` row): its bucket before ?1
 * (unix seconds), no delivery open (its message will come back to it), and
 * none of its events replayed since ?2 (epoch ms). `replays` holds two
 * days of replays: the look-up per document stays small.
 */
const expired = (l: string) =>
  `${l}.bucket < ?1 AND ${l}.open_at IS NULL
   AND NOT EXISTS (SELECT 1 FROM replays AS r WHERE r.bucket = ${l}.bucket AND r.replayed_at >= ?2 AND instr(${l}.events, json_quote(r.event_id)) > 0)`;

/** The next expired documents after (?3, ?4), in key order: a range of the primary key. */
export const EXPIRED_DOCS_SQL = `
SELECT l.bucket, l.seq FROM ledger AS l
WHERE ${expired("l")} AND (l.bucket, l.seq) > (?3, ?4)
ORDER BY l.bucket, l.seq LIMIT ?5`;

/** Deletes the listed documents (?3) still expired, then the summary rows whose document is gone: a document never outlives its row. */
const DELETE_DOCS_SQL = [
  `DELETE FROM ledger_docs WHERE (bucket, seq) IN (
     SELECT l.bucket, l.seq FROM json_each(?3) AS j JOIN ledger AS l ON l.bucket = j.value->>'b' AND l.seq = j.value->>'s' WHERE ${expired("l")})`,
  `DELETE FROM ledger WHERE (bucket, seq) IN (SELECT j.value->>'b', j.value->>'s' FROM json_each(?1) AS j)
     AND NOT EXISTS (SELECT 1 FROM ledger_docs AS d WHERE d.bucket = ledger.bucket AND d.seq = ledger.seq)`,
] as const;

export interface SweepLimits extends LegacyLimits {
  /**
   * Documents deleted per round: a thousand rows with their documents (a
   * few hundred KB each at most), well under a second of D1 work, far from
   * its 30 s per query.
   */
  docsPerRound: number;
  /** D1 calls one run may make (budget.ts). */
  maxCalls: number;
  maxMs: number;
}

export const SWEEP_LIMITS: SweepLimits = {
  docsPerRound: 500,
  eventsPerRound: 500,
  rowsPerStatement: 10_000,
  maxCalls: CALLS_PER_RUN.retention,
  maxMs: SWEEP_MS,
};

export interface SweepResult {
  documents: number;
  replays: number;
  openHours: number;
  /** Rows of the previous ledger. */
  events: number;
  notifications: number;
  deliveries: number;
  calls: number;
  /** False when the budget ran out first: the next run continues. */
  complete: boolean;
}

/** Deletes what is older than RETENTION_DAYS, in rounds, within `limits`. */
export async function sweepLedger(db: D1Database, now = Date.now(), limits: SweepLimits = SWEEP_LIMITS, clock: () => number = Date.now): Promise<SweepResult> {
  const budget = new Budget(limits.maxCalls, limits.maxMs, clock);
  const window = { cutoff: now - RETENTION_DAYS * 86_400_000, replayedSince: now - REPLAY_GRACE_MS };
  const docs = await deleteDocuments(db, window, limits.docsPerRound, budget);
  const small = budget.allows() ? await trimSmallTables(db, window, budget) : null;
  const legacy = await sweepLegacy(db, window, limits, budget);
  const result: SweepResult = {
    documents: docs.deleted,
    replays: small?.replays ?? 0,
    openHours: small?.openHours ?? 0,
    events: legacy.events,
    notifications: legacy.notifications,
    deliveries: legacy.deliveries,
    calls: budget.calls,
    complete: docs.complete && small !== null && legacy.complete,
  };
  log("retention", { ...result, retention_days: RETENTION_DAYS }, result.complete ? "info" : "warn");
  return result;
}

interface Window {
  /** Epoch ms: what is older goes. */
  cutoff: number;
  /** Epoch ms: events replayed since are kept. */
  replayedSince: number;
}

/** Deletes expired documents a round at a time, each round one read and one transaction. */
async function deleteDocuments(db: D1Database, window: Window, perRound: number, budget: Budget): Promise<{ deleted: number; complete: boolean }> {
  // bucket * 1000 < cutoff, for whole seconds.
  const before = Math.ceil(window.cutoff / 1000);
  let after = { b: -1, s: 0 };
  let deleted = 0;
  while (budget.allows(2)) {
    const rows = await budget.all<{ bucket: number; seq: number }>(db.prepare(EXPIRED_DOCS_SQL).bind(before, window.replayedSince, after.b, after.s, perRound));
    if (rows.length === 0) return { deleted, complete: true };
    const list = JSON.stringify(rows.map((r) => ({ b: r.bucket, s: r.seq })));
    const [docs] = await budget.batch(db, [
      db.prepare(DELETE_DOCS_SQL[0]).bind(before, window.replayedSince, list),
      db.prepare(DELETE_DOCS_SQL[1]).bind(list),
    ]);
    deleted += docs!.meta.changes ?? 0;
    const last = rows.at(-1)!;
    after = { b: last.bucket, s: last.seq };
    if (rows.length < perRound) return { deleted, complete: true };
  }
  return { deleted, complete: false };
}

/**
 * Replays past their grace (the table holds a few days of replays, read
 * whole) and opens counted in hours wholly before the window (720 rows).
 */
async function trimSmallTables(db: D1Database, window: Window, budget: Budget): Promise<{ replays: number; openHours: number }> {
  const [replays, hours] = await budget.batch(db, [
    db.prepare("DELETE FROM replays WHERE replayed_at < ?1").bind(window.replayedSince),
    db.prepare("DELETE FROM opens_by_hour WHERE hour <= ?1").bind(window.cutoff - HOUR_MS),
  ]);
  return { replays: replays!.meta.changes ?? 0, openHours: hours!.meta.changes ?? 0 };
}
