/**
 * SQLite's plan for a statement, one step a line: the tests that keep
 * billed D1 reads bounded assert that no step scans a table.
 */
import { env } from "cloudflare:workers";

/** EXPLAIN QUERY PLAN of `sql`, with each parameter bound to a harmless value (a JSON list parameter to `[]`). */
export async function queryPlan(sql: string): Promise<string[]> {
  const params = [...new Set(sql.match(/\?\d/g) ?? [])].map((p) => (sql.includes(`json_each(${p})`) ? "[]" : 0));
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...params)
    .all<{ detail: string }>();
  return results.map((r) => r.detail);
}

/**
 * The steps of a plan that read more than a bounded part of a table: a
 * full scan (other than of a JSON value, a subquery's own rows or a
 * covering index), or a document table (`ledger_docs`, alias `d`) walked
 * by anything but its whole key. The ledger's summaries may be walked by a
 * range of their primary key: a window of buckets.
 */
export function unboundedSteps(steps: readonly string[]): string[] {
  const coroutines = new Set(steps.flatMap((s) => /^CO-ROUTINE (\w+)$/.exec(s)?.[1] ?? []));
  return steps.filter((step) => {
    const scan = /^SCAN (\w+)(.*)$/.exec(step);
    if (scan) return !(/VIRTUAL TABLE|USING COVERING INDEX/.test(scan[2]!) || coroutines.has(scan[1]!));
    const docs = /^SEARCH (d|ledger_docs) USING PRIMARY KEY \((.*)\)$/.exec(step);
    return docs !== null && docs[2] !== "bucket=? AND seq=?";
  });
}
