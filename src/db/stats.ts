/**
 * Aggregates for GET /v1/stats (and the console's overview), all in one D1
 * round trip. The deliveries come from the ledger's summaries (`counts` of
 * each document, migration 0014) walked by primary key over the window:
 * a document's row, not one per delivery, so a 7-day window at a million
 * notifications a day reads thousands of rows rather than 7 million (a
 * test asserts the query plans). A window takes the documents of the
 * events whose own time (the bucket) is in it.
 * (The alerts come along in the same round trip: a table of a handful of
 * rows, read whole.)
 */
import { type AlertRow, type AlertView, alertsStatement, presentAlert } from "./alerts";
import { countKey } from "./summaries";

export const STAT_WINDOWS = { "1h": 3_600_000, "24h": 86_400_000, "7d": 604_800_000 } as const;
export type StatWindow = keyof typeof STAT_WINDOWS;

/** Shortest first: the last one bounds each scan, the others are sums within it. */
const WINDOWS = (Object.entries(STAT_WINDOWS) as [StatWindow, number][]).sort((a, b) => a[1] - b[1]);

/** How far back open deliveries are looked for: the retry schedule's span and Svix's retries, with room. */
const OPEN_SPAN_MS = 2 * 86_400_000;
const HOUR_MS = 3_600_000;

/** counts[first key][second key] = n */
export type Counts = Record<string, Record<string, number>>;

export interface Stats {
  /** Per window: deliveries by provider ('none' without a device), then status. */
  deliveries: Record<StatWindow, Counts>;
  /** Per window: deliveries by app ('none' without a device), then status. */
  deliveries_by_app: Record<StatWindow, Counts>;
  /** Per window: notifications their users opened (POST /v1/opens), by the hour of the open. */
  opens: Record<StatWindow, number>;
  retry_queue: { deliveries: number; next_attempt_at: number | null };
  /** Devices that may be sent to, by provider, then environment. */
  devices: Counts;
  /** Devices held by the pruning brake, by provider. */
  quarantined: Record<string, number>;
  /** What an operator must act on: misconfigured providers, the pruning brake (alerts.ts). */
  alerts: AlertView[];
}

/** `SUM(column)` over each window, where `inWindow(i)` holds for window i's rows (bound to ?i+1). */
const windowSums = (column: string, inWindow: (param: string) => string) =>
  WINDOWS.map((_, i) => `SUM(CASE WHEN ${inWindow(`?${i + 1}`)} THEN ${column} ELSE 0 END) AS w${i}`).join(", ");
const LONGEST = `?${WINDOWS.length}`;

/** The SQL of each aggregate, exported so a test can check its query plan. */
export const STATS_SQL = {
  // Each window from the bucket bound to its parameter on; one pass over the longest.
  windows: `SELECT c.key AS key, ${windowSums("c.value", (p) => `l.bucket >= ${p}`)}
            FROM ledger AS l, json_each(l.counts) AS c WHERE l.bucket >= ${LONGEST} GROUP BY c.key`,
  // `open_at` is set on a document while one of its deliveries is waiting or in flight: its earliest due time or lease end.
  retryQueue: `SELECT SUM(c.value) AS n, MIN(l.open_at) AS next FROM ledger AS l, json_each(l.counts) AS c
               WHERE l.bucket >= ?1 AND l.open_at IS NOT NULL
                 AND (c.key LIKE '%|sending' OR c.key LIKE '%|retrying' OR c.key LIKE '%|held')`,
  // In the index's own order (provider, environment), so no sort: D1 counts a sorted row as read again.
  devices: `SELECT provider, environment, COUNT(*) - COUNT(quarantined_at) AS n, COUNT(quarantined_at) AS held
            FROM devices GROUP BY provider, environment`,
  // By the hour: a window takes every hour that ends inside it, the one it starts in included.
  opens: `SELECT ${windowSums("n", (p) => `hour > ${p}`)} FROM opens_by_hour WHERE hour > ${LONGEST}`,
} as const;

export async function readStats(db: D1Database, now: number): Promise<Stats> {
  const [windows, queue, devices, alerts, opens] = await db.batch<Record<string, string | number | null>>([
    db.prepare(STATS_SQL.windows).bind(...WINDOWS.map(([, span]) => Math.ceil((now - span) / 1000))),
    db.prepare(STATS_SQL.retryQueue).bind(Math.floor((now - OPEN_SPAN_MS) / 1000)),
    db.prepare(STATS_SQL.devices),
    alertsStatement(db, now),
    db.prepare(STATS_SQL.opens).bind(...WINDOWS.map(([, span]) => now - span - HOUR_MS)),
  ]);
  const queued = queue!.results[0] as { n: number | null; next: number | null } | undefined;
  return {
    ...deliveryCounts(windows!.results as { key: string; [w: string]: number | string }[]),
    opens: Object.fromEntries(WINDOWS.map(([name], i) => [name, Number(opens!.results[0]?.[`w${i}`] ?? 0)])) as Stats["opens"],
    retry_queue: { deliveries: queued?.n ?? 0, next_attempt_at: queued?.next ?? null },
    ...deviceCounts(devices!.results as { provider: string; environment: string; n: number; held: number }[]),
    alerts: (alerts!.results as unknown as AlertRow[]).map(presentAlert),
  };
}

/** The windows' deliveries by provider and by app, then status, from the summed `counts` keys. */
function deliveryCounts(rows: readonly { key: string; [w: string]: number | string }[]): Pick<Stats, "deliveries" | "deliveries_by_app"> {
  const deliveries = Object.fromEntries(WINDOWS.map(([name]) => [name, {}])) as Stats["deliveries"];
  const byApp = Object.fromEntries(WINDOWS.map(([name]) => [name, {}])) as Stats["deliveries_by_app"];
  for (const row of rows) {
    const { provider, app, status } = countKey(row.key);
    WINDOWS.forEach(([name], i) => {
      const n = Number(row[`w${i}`]);
      if (n === 0) return;
      add(deliveries[name], provider, status, n);
      add(byApp[name], app, status, n);
    });
  }
  return { deliveries, deliveries_by_app: byApp };
}

function deviceCounts(rows: readonly { provider: string; environment: string; n: number; held: number }[]): Pick<Stats, "devices" | "quarantined"> {
  const counts: Pick<Stats, "devices" | "quarantined"> = { devices: {}, quarantined: {} };
  for (const row of rows) {
    if (row.held > 0) counts.quarantined[row.provider] = (counts.quarantined[row.provider] ?? 0) + row.held;
    if (row.n > 0) add(counts.devices, row.provider, row.environment, row.n);
  }
  return counts;
}

function add(counts: Counts, first: string, second: string, n: number): void {
  const inner = (counts[first] ??= {});
  inner[second] = (inner[second] ?? 0) + n;
}
