/**
 * Aggregates for GET /v1/stats (and the console's overview), all in one D1
 * round trip. Every query is answered from an index alone (a test asserts
 * the query plans), because D1 bills each row read: a 7-day window over a
 * million-a-day ledger is 7 million index entries, about $0.007 a call.
 * (The alerts come along in the same round trip: a table of a handful of
 * rows, read whole.)
 */
import { type AlertRow, type AlertView, alertsStatement, presentAlert } from "./alerts";

export const STAT_WINDOWS = { "1h": 3_600_000, "24h": 86_400_000, "7d": 604_800_000 } as const;
export type StatWindow = keyof typeof STAT_WINDOWS;

/** How far back open rows are looked for: twice the retry schedule's span. */
const OPEN_ROWS_SPAN_MS = 2 * 86_400_000;

/** counts[first key][second key] = n */
export type Counts = Record<string, Record<string, number>>;

export interface Stats {
  /** Per window: deliveries by provider ('none' without a device), then status. */
  deliveries: Record<StatWindow, Counts>;
  /** Per window: deliveries by app ('none' without a device), then status. */
  deliveries_by_app: Record<StatWindow, Counts>;
  /** Per window: notifications their users opened (POST /v1/opens), by the time of the open. */
  opens: Record<StatWindow, number>;
  retry_queue: { deliveries: number; next_attempt_at: number | null };
  /** Devices that may be sent to, by provider, then environment. */
  devices: Counts;
  /** Devices held by the pruning brake, by provider. */
  quarantined: Record<string, number>;
  /** What an operator must act on: misconfigured providers, the pruning brake (alerts.ts). */
  alerts: AlertView[];
}

/** The SQL of each aggregate, exported so a test can check its query plan. */
export const STATS_SQL = {
  window: `SELECT COALESCE(provider, 'none') AS provider, COALESCE(app, 'none') AS app, status, COUNT(*) AS n
           FROM deliveries WHERE updated_at >= ?1 GROUP BY 1, 2, 3`,
  // Open rows were all updated within the retry schedule's span (about 13 hours, then the
  // dead-letter queue closes them): the time index finds them without an index of their own.
  retryQueue: `SELECT COUNT(*) AS n, MIN(next_attempt_at) AS next FROM deliveries
               WHERE updated_at >= ?1 AND status IN ('retrying', 'sending')`,
  devices: `SELECT provider, environment, quarantined_at IS NOT NULL AS quarantined, COUNT(*) AS n
            FROM devices GROUP BY 1, 2, 3`,
  // The partial index of opened notifications (migration 0012), by the time of the open.
  opens: `SELECT COUNT(*) AS n FROM notifications WHERE opened_at >= ?1`,
} as const;

export async function readStats(db: D1Database, now: number): Promise<Stats> {
  const windows = Object.entries(STAT_WINDOWS) as [StatWindow, number][];
  const statements = windows.map(([, span]) => db.prepare(STATS_SQL.window).bind(now - span));
  statements.push(db.prepare(STATS_SQL.retryQueue).bind(now - OPEN_ROWS_SPAN_MS), db.prepare(STATS_SQL.devices), alertsStatement(db, now));
  statements.push(...windows.map(([, span]) => db.prepare(STATS_SQL.opens).bind(now - span)));
  const results = await db.batch<Record<string, string | number | null>>(statements);

  const stats: Stats = {
    deliveries: {} as Stats["deliveries"],
    deliveries_by_app: {} as Stats["deliveries_by_app"],
    opens: Object.fromEntries(windows.map(([name], i) => [name, Number(results[windows.length + 3 + i]!.results[0]?.n ?? 0)])) as Stats["opens"],
    retry_queue: { deliveries: 0, next_attempt_at: null },
    devices: {},
    quarantined: {},
    alerts: (results[windows.length + 2]!.results as unknown as AlertRow[]).map(presentAlert),
  };
  windows.forEach(([name], i) => {
    const byProvider: Counts = {};
    const byApp: Counts = {};
    for (const row of results[i]!.results as { provider: string; app: string; status: string; n: number }[]) {
      add(byProvider, row.provider, row.status, row.n);
      add(byApp, row.app, row.status, row.n);
    }
    stats.deliveries[name] = byProvider;
    stats.deliveries_by_app[name] = byApp;
  });
  const queue = results[windows.length]!.results[0] as { n: number; next: number | null } | undefined;
  stats.retry_queue = { deliveries: queue?.n ?? 0, next_attempt_at: queue?.next ?? null };
  for (const row of results[windows.length + 1]!.results as { provider: string; environment: string; quarantined: number; n: number }[]) {
    if (row.quarantined) stats.quarantined[row.provider] = (stats.quarantined[row.provider] ?? 0) + row.n;
    else add(stats.devices, row.provider, row.environment, row.n);
  }
  return stats;
}

function add(counts: Counts, first: string, second: string, n: number): void {
  const inner = (counts[first] ??= {});
  inner[second] = (inner[second] ?? 0) + n;
}
