/**
 * D1 bills every row read, so the reads that span the ledger (the stats,
 * a user's deliveries, the held events) walk the summaries by a window of
 * buckets (a range of their primary key) and read documents by key: their
 * plans must never scan a table.
 */
import { describe, expect, it } from "vitest";
import { DOC_READS_SQL } from "../../src/db/doc-store";
import { LEDGER_READS_SQL } from "../../src/db/ledger-reads";
import { STATS_SQL } from "../../src/db/stats";
import { queryPlan as plan, unboundedSteps } from "../support/query-plan";

describe("query plans", () => {
  it.each(Object.entries({ ...STATS_SQL, ...LEDGER_READS_SQL, ...DOC_READS_SQL }))("%s reads by key or a bounded range", async (_name, sql) => {
    const steps = await plan(sql);
    expect(steps.some((s) => /USING (COVERING |INTEGER )?(INDEX|PRIMARY KEY)/.test(s)), steps.join("\n")).toBe(true);
    expect(unboundedSteps(steps), steps.join("\n")).toEqual([]);
  });

  it.each([
    ["windows", STATS_SQL.windows],
    ["retry queue", STATS_SQL.retryQueue],
    ["user deliveries", LEDGER_READS_SQL.userDeliveries],
    ["held events", LEDGER_READS_SQL.heldEvents],
    ["an event's documents", DOC_READS_SQL.event],
  ])("%s starts from the summaries of a window of buckets, not from the documents", async (_name, sql) => {
    const steps = await plan(sql);
    // Up from a bucket to a bucket, or to the key below which a page of documents resumes.
    expect(steps[0], steps.join("\n")).toMatch(/^SEARCH l USING PRIMARY KEY \(bucket>\?( AND (bucket<\?|\(bucket,seq\)<\(\?,\?\)))?\)$/);
  });

  it("counts the opens from their hours", async () => {
    expect(await plan(STATS_SQL.opens)).toEqual(["SEARCH opens_by_hour USING INTEGER PRIMARY KEY (rowid>?)"]);
  });

  it("counts the devices in the index's order, without a sort that D1 would bill as a second read", async () => {
    const steps = await plan(STATS_SQL.devices);
    expect(steps.join("\n")).toMatch(/USING COVERING INDEX devices_by_provider/);
    expect(steps.join("\n")).not.toMatch(/TEMP B-TREE/);
  });
});
