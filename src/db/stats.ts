/**
 * Aggregates for GET /v1/stats, each one indexed query, all in one D1
 * round trip.
 */
export const STAT_WINDOWS = { "1h": 3_600_000, "24h": 86_400_000, "7d": 604_800_000 } as const;
export type StatWindow = keyof typeof STAT_WINDOWS;

export interface Stats {
  deliveries: Record<StatWindow, Record<string, Record<string, number>>>;
  retry_queue: { deliveries: number; next_attempt_at: number | null };
  devices: Record<string, Record<string, number>>;
}

export async function readStats(db: D1Database, now: number): Promise<Stats> {
  const windows = Object.entries(STAT_WINDOWS) as [StatWindow, number][];
  const statements = windows.map(([, span]) =>
    db
      .prepare(
        `SELECT COALESCE(provider, 'none') AS k1, status AS k2, COUNT(*) AS n
         FROM deliveries WHERE updated_at >= ?1 GROUP BY 1, 2`,
      )
      .bind(now - span),
  );
  statements.push(
    db.prepare(
      `SELECT COUNT(*) AS n, MIN(next_attempt_at) AS next FROM deliveries
       WHERE status IN ('retrying', 'sending')`,
    ),
    db.prepare("SELECT provider AS k1, environment AS k2, COUNT(*) AS n FROM devices GROUP BY 1, 2"),
  );
  const results = await db.batch<{ k1: string; k2: string; n: number; next?: number | null }>(statements);
  const nest = (rows: { k1: string; k2: string; n: number }[]) => {
    const out: Record<string, Record<string, number>> = {};
    for (const { k1, k2, n } of rows) (out[k1] ??= {})[k2] = n;
    return out;
  };
  const deliveries = Object.fromEntries(windows.map(([name], i) => [name, nest(results[i]!.results)])) as Stats["deliveries"];
  const queue = results[windows.length]!.results[0];
  return {
    deliveries,
    retry_queue: { deliveries: queue?.n ?? 0, next_attempt_at: queue?.next ?? null },
    devices: nest(results[windows.length + 1]!.results),
  };
}
