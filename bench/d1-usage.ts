/**
 * What D1 holds and does, seen from outside the Worker: the database's
 * size, the rows each table gained during a run (every table, found
 * through SQLite's own catalogue), and what deleting a run's events costs,
 * as the retention sweep will delete them.
 */
import type { D1 } from "./harness.ts";

/** RETENTION_DAYS of src/maintenance/retention.ts (the Worker's modules do not load in Node). */
export const LEDGER_RETENTION_DAYS = 30;

/** The database's size in bytes, as D1 reports it after a query. */
export async function databaseBytes(db: D1): Promise<number> {
  return (await db.prepare("SELECT 1").run()).meta.size_after ?? 0;
}

/** The application's tables (not SQLite's, D1's or the migrations' own). */
async function tables(db: D1): Promise<string[]> {
  const { results } = await db
    .prepare(
      `SELECT name FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%' ORDER BY name`,
    )
    .all<{ name: string }>();
  return results.map((r) => r.name);
}

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Rows per table now. */
export async function tableRows(db: D1): Promise<Record<string, number>> {
  const rows: Record<string, number> = {};
  for (const table of await tables(db)) {
    rows[table] = (await db.prepare(`SELECT COUNT(*) AS n FROM ${quoted(table)}`).first<{ n: number }>())?.n ?? 0;
  }
  return rows;
}

/** What each table gained between two `tableRows` readings (tables that did not change are left out). */
export function tableGrowth(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const growth: Record<string, number> = {};
  for (const [table, n] of Object.entries(after)) if (n !== (before[table] ?? 0)) growth[table] = n - (before[table] ?? 0);
  return growth;
}

export interface Retirement {
  /** The tables swept. */
  tables: string[];
  rows_read: number;
  rows_written: number;
}

/**
 * Deletes the ledger documents of these events' seconds as the retention
 * sweep will once they are 30 days old: by a range of the primary key
 * (`bucket`, the event's time), both rows of each document, in one batch,
 * with what D1 reports for it. Finding the range is the bench's own look-up,
 * not counted.
 */
export async function retireEvents(db: D1, eventIds: readonly string[]): Promise<Retirement> {
  const tables = ["ledger_docs", "ledger"];
  const range = await db
    .prepare(
      `SELECT MIN(l.bucket) AS lo, MAX(l.bucket) AS hi FROM json_each(?1) AS e
       JOIN ledger AS l ON instr(l.events, json_quote(e.value)) > 0`,
    )
    .bind(JSON.stringify(eventIds))
    .first<{ lo: number | null; hi: number | null }>();
  if (range?.lo == null || range.hi == null) return { tables, rows_read: 0, rows_written: 0 };
  const results = await db.batch(tables.map((table) => db.prepare(`DELETE FROM ${table} WHERE bucket BETWEEN ?1 AND ?2`).bind(range.lo, range.hi)));
  return {
    tables,
    rows_read: results.reduce((sum, r) => sum + (r.meta.rows_read ?? 0), 0),
    rows_written: results.reduce((sum, r) => sum + (r.meta.rows_written ?? 0), 0),
  };
}
