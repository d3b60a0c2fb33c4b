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
