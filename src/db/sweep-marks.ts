/**
 * How far a sweep has looked (migration 0009): it goes on from there, so a
 * missed run loses nothing. A write behind the mark that the sweep must
 * see moves the mark back, and a sweep that finishes moves the mark on only
 * if nobody moved it since it read it: the move back wins.
 */

/** The mark's time (epoch ms), or null before the sweep's first run. */
export async function readMark(db: D1Database, name: string): Promise<number | null> {
  const row = await db.prepare("SELECT until FROM sweep_marks WHERE name = ?1").bind(name).first<{ until: number }>();
  return row?.until ?? null;
}

/** The statement that moves the mark from `read` (what the sweep read, null for none) to `until`, unless it changed since. */
export function moveMark(db: D1Database, name: string, read: number | null, until: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO sweep_marks (name, until) VALUES (?1, ?3)
       ON CONFLICT (name) DO UPDATE SET until = excluded.until WHERE sweep_marks.until IS ?2`,
    )
    .bind(name, read, until);
}

/**
 * The statement that moves the mark back to `at` if it is past it (or sets
 * it there before the sweep's first run): a sweep that goes by time must
 * look again at something written behind it.
 */
export function pullMarkBack(db: D1Database, name: string, at: number): D1PreparedStatement {
  return db
    .prepare("INSERT INTO sweep_marks (name, until) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET until = MIN(until, excluded.until)")
    .bind(name, at);
}

/** The abandoned sweep's mark: epoch ms of a bucket (the event's time); "abandoned" was the previous ledger's, by update time. */
export const ABANDONED_MARK = "abandoned_buckets";

/** Has the abandoned sweep look again at `bucket` (unix seconds): a write left a delivery open behind its mark (a replay, a conversion). */
export const revisitStatement = (db: D1Database, bucket: number): D1PreparedStatement => pullMarkBack(db, ABANDONED_MARK, bucket * 1000);
