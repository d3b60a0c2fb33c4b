import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RETENTION_DAYS, sweepLedger } from "../src/maintenance/retention";
import { eventDeliveries, fakeProviders, job, queued, runBatch } from "./support/delivery";

describe("ledger retention", () => {
  it(`deletes rows untouched for ${RETENTION_DAYS} days and keeps the rest`, async () => {
    const old = job([queued({ i: 0 }), queued({ i: 1 })]);
    const recent = job([queued()]);
    await runBatch([old, recent], { providers: fakeProviders() });
    await env.DB.prepare("UPDATE deliveries SET updated_at = ?1 WHERE event_id = ?2")
      .bind(Date.now() - (RETENTION_DAYS + 1) * 86_400_000, old.event_id)
      .run();
    expect(await sweepLedger(env.DB)).toBeGreaterThanOrEqual(2);
    expect(await eventDeliveries(old.event_id)).toBeNull();
    expect((await eventDeliveries(recent.event_id))!.summary).toEqual({ no_device: 1 });
  });
});
