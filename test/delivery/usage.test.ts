import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { countingD1, newUsage } from "../../src/delivery/usage";
import { fcmToken, uniqueId } from "../support/webhook";
import { newMessageId } from "../../standins/learnink.ts";
import { job, queued, registerDevice, runBatch } from "../support/delivery";

describe("subrequest accounting", () => {
  it("counts each D1 query and batch with the rows it read and wrote, and batches still work through the wrapper", async () => {
    const usage = newUsage();
    const db = countingD1(env.DB, usage);
    expect(await db.prepare("SELECT ?1 AS n").bind(7).first("n")).toBe(7);
    const [a, b] = await db.batch([db.prepare("SELECT 1 AS n"), db.prepare("SELECT ?1 AS n").bind(2)]);
    expect([a!.results, b!.results]).toEqual([[{ n: 1 }], [{ n: 2 }]]);
    expect(usage.d1).toBe(2);
    await db.prepare("INSERT INTO events (event_id, received_at) VALUES (?1, 0)").bind(uniqueId("usage")).run();
    expect(usage.d1).toBe(3);
    // The row and its index entry, as D1 bills them.
    expect(usage.rowsWritten).toBeGreaterThanOrEqual(2);
  });

  it("reports the credential cache's D1 calls and the token mint of a cold isolate, and only the push once warm", async () => {
    const customId = uniqueId("emp");
    await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
    // No providers given: the consumer builds them, counted, as in production; Svix's ids, which say their
    // bucket (an id that does not costs one more query, to find where its event is filed).
    const svixJob = () => job([queued({ custom_id: customId })], { event_id: newMessageId() });
    const cold = await runBatch([svixJob()], {});
    const warm = await runBatch([svixJob()], {});
    expect(cold.report.outcomes).toEqual({ sent: 1 });
    // lookup + claim + record, the push, the token mint, and the cache's D1 read and publish.
    expect(cold.report.subrequests).toBeGreaterThanOrEqual(3 + 1 + 1 + 2);
    expect(warm.report.subrequests).toBe(3 + 1);
    expect(warm.report.d1RowsWritten).toBeGreaterThan(0);
    expect(warm.report.d1RowsRead).toBeGreaterThan(0);
  });
});
