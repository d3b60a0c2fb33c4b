/**
 * D1 bills every row read, so the queries that run over the whole ledger
 * must be answered from an index: their plans must never scan a table.
 */
import { describe, expect, it } from "vitest";
import { STATS_SQL } from "../../src/db/stats";
import { queryPlan as plan } from "../support/query-plan";

describe("query plans", () => {
  it.each(Object.entries(STATS_SQL))("stats: %s reads only an index", async (_name, sql) => {
    const steps = await plan(sql);
    expect(steps.some((s) => /USING (COVERING )?INDEX/.test(s))).toBe(true);
    // A full scan reads every row: only a scan through a covering index is allowed.
    for (const step of steps) if (/^SCAN /.test(step)) expect(step).toMatch(/USING COVERING INDEX/);
  });
});
