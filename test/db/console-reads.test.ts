/**
 * The console's lists walk the ledger's summaries by a range of their
 * primary key (a window of buckets) and read a document only by its key:
 * none may scan a table (D1 bills every row read, and the documents are
 * the ledger's bulk).
 */
import { describe, expect, it } from "vitest";
import { CONSOLE_SQL } from "../../src/db/console-reads";
import { queryPlan as plan, unboundedSteps } from "../support/query-plan";

describe("console query plans", () => {
  it.each(Object.entries(CONSOLE_SQL))("%s searches by key or a bounded range", async (_name, sql) => {
    const steps = await plan(sql);
    expect(steps.some((s) => /^SEARCH \w+ USING .*(INDEX|PRIMARY KEY)/.test(s)), steps.join("\n")).toBe(true);
    expect(unboundedSteps(steps), steps.join("\n")).toEqual([]);
  });

  it.each(["events", "eventsByPrefix"] as const)("%s walks the summaries from a bucket down to a bucket", async (name) => {
    const steps = await plan(CONSOLE_SQL[name]);
    expect(steps[0], steps.join("\n")).toBe("SEARCH l USING PRIMARY KEY (bucket>? AND bucket<?)");
  });

  it.each(["failures", "recentDocs"] as const)("%s walks the summaries from a key down to a bucket, then reads their documents by key", async (name) => {
    const steps = await plan(CONSOLE_SQL[name]);
    expect(steps, steps.join("\n")).toEqual(["SEARCH l USING PRIMARY KEY (bucket>? AND (bucket,seq)<(?,?))", "SEARCH d USING PRIMARY KEY (bucket=? AND seq=?)"]);
  });
});
