/**
 * The console's list queries walk an index from where a page starts: none
 * may scan a table (D1 bills every row read, and the ledger holds millions).
 */
import { describe, expect, it } from "vitest";
import { CONSOLE_SQL } from "../../src/db/console-reads";
import { queryPlan as plan } from "../support/query-plan";

describe("console query plans", () => {
  it.each(Object.entries(CONSOLE_SQL))("%s searches an index", async (_name, sql) => {
    const steps = await plan(sql);
    expect(steps.some((s) => /^SEARCH \w+ USING .*(INDEX|PRIMARY KEY)/.test(s)), steps.join("\n")).toBe(true);
    // The only full scan allowed is of the short list of ids the query was given.
    for (const step of steps) if (/^SCAN /.test(step)) expect(step, steps.join("\n")).toMatch(/^SCAN j VIRTUAL TABLE/);
  });

  it("reads the failures through their partial index", async () => {
    expect((await plan(CONSOLE_SQL.failures)).join("\n")).toContain("USING INDEX deliveries_failures");
  });
});
