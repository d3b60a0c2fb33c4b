import { describe, expect, it } from "vitest";
import { chunkJson, utf8Bytes } from "../../src/db/json-chunks";
import { env } from "cloudflare:workers";
import { withProductionLimits } from "../support/d1-limits";
import { fakeProviders, job, queued, runBatch, seedDevices } from "../support/delivery";
import { fcmToken, uniqueId } from "../support/webhook";

/** 4,000 CJK characters: 4,000 UTF-16 units but 12,000 bytes of UTF-8. */
const CJK_BODY = "研修の時間です。".repeat(500);

describe("JSON parameters are sized in UTF-8 bytes", () => {
  it("splits by encoded size, not by string length", () => {
    const items = Array.from({ length: 100 }, (_, i) => ({ i, body: CJK_BODY }));
    const chunks = chunkJson(items, 100_000);
    for (const chunk of chunks) expect(utf8Bytes(chunk)).toBeLessThanOrEqual(100_000);
    expect(chunks.flatMap((c) => JSON.parse(c) as unknown[])).toEqual(items);
    // Counted in UTF-16 units the same list would have gone in a third as many chunks.
    expect(chunks.length).toBeGreaterThanOrEqual(Math.ceil((items.length * 12_000) / 100_000));
  });

  it("claims and sends a batch of long CJK notifications to users with 10 devices each", async () => {
    const users = Array.from({ length: 200 }, () => uniqueId("cjk"));
    await seedDevices(users.flatMap((custom_id) => Array.from({ length: 10 }, () => ({ token: fcmToken(), provider: "fcm" as const, custom_id, user_id: null }))));
    // Four messages of 50, as the queue hands them over: 200 notifications, 2,000 deliveries, 2.4 MB of text.
    const jobs = [0, 1, 2, 3].map((m) =>
      job(users.slice(m * 50, m * 50 + 50).map((custom_id, i) => queued({ i, custom_id, title: "研修のお知らせ", body: CJK_BODY }))),
    );
    const providers = fakeProviders();
    const { report, acked, ids } = await runBatch(jobs, { providers }, 1, { DB: withProductionLimits(env.DB) });
    expect(acked).toEqual(ids);
    expect(report.outcomes).toEqual({ sent: 2_000 });
    expect(providers.fcm.sent).toHaveLength(2_000);
    // 2.4 MB of text goes into documents of about a megabyte each, every one within D1's 2,000,000 bytes per value.
    const stored = await env.DB.prepare(
      `SELECT COUNT(*) AS docs, MAX(length(d.doc)) AS largest FROM ledger AS l JOIN ledger_docs AS d ON d.bucket = l.bucket AND d.seq = l.seq
       WHERE EXISTS (SELECT 1 FROM json_each(?1) AS e WHERE instr(l.events, json_quote(e.value)) > 0)`,
    )
      .bind(JSON.stringify(jobs.map((j) => j.event_id)))
      .first<{ docs: number; largest: number }>();
    expect(stored!.docs).toBeGreaterThanOrEqual(3);
    expect(stored!.largest).toBeLessThan(2_000_000);
  }, 60_000);
});
