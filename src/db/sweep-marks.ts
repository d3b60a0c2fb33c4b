/**
 * How far a sweep has looked (migration 0009): it goes on from there, so a
 * missed run loses nothing. A mark moves in the same transaction as the
 * work it records.
 */

/** The mark's time (epoch ms), or null before the sweep's first run. */
export async function readMark(db: D1Database, name: string): Promise<number | null> {
  const row = await db.prepare("SELECT until FROM sweep_marks WHERE name = ?1").bind(name).first<{ until: number }>();
  return row?.until ?? null;
}

/** The statement that moves the mark to `until`, for the caller's batch. */
export function moveMark(db: D1Database, name: string, until: number): D1PreparedStatement {
  return db
    .prepare("INSERT INTO sweep_marks (name, until) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET until = excluded.until")
    .bind(name, until);
}
