/**
 * The hourly sweep closes deliveries nobody will come back for (their queue
 * message was lost after the dead-letter consumer's last retry) as failed,
 * so a replay can send them; it leaves everything else alone, reads only
 * its window of the time index, and goes on from where it stopped, so
 * missed runs leave nothing open.
 */
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CLOSE_OPEN_ROWS_SQL } from "../../src/db/ledger-writes";
import worker from "../../src/index";
import { ABANDONED_AFTER_MS, closeAbandoned } from "../../src/maintenance/abandoned";
import { eventDeliveries, fakeProviders, job, queued, registerDevice, runBatch } from "../support/delivery";
import { fcmToken, uniqueId } from "../support/webhook";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The sweep starts afresh (each test plays a relay whose sweep never ran). */
const forgetMark = () => env.DB.prepare("DELETE FROM sweep_marks WHERE name = 'abandoned'").run();

/** An event whose one delivery the provider asked to retry at `at`, and whose message then vanished. */
async function retryingSince(at: number) {
  const customId = uniqueId("emp");
  await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
  const event = job([queued({ custom_id: customId })]);
  await runBatch([event], { providers: fakeProviders(() => ({ kind: "retry", reason: "UNAVAILABLE" })), now: () => at });
  return event;
}

describe("abandoned deliveries", () => {
  it("closes open rows untouched for two days as failed abandoned, and only those", async () => {
    await forgetMark();
    const now = Date.now();
    const lost = await retryingSince(now - ABANDONED_AFTER_MS - HOUR);
    const waiting = await retryingSince(now - ABANDONED_AFTER_MS + HOUR);
    const sentLongAgo = job([queued()]);
    await runBatch([sentLongAgo], { providers: fakeProviders(), now: () => now - ABANDONED_AFTER_MS - HOUR });

    expect(await closeAbandoned(env.DB, now)).toBe(1);
    expect((await eventDeliveries(lost.event_id))!.deliveries[0]).toMatchObject({ status: "failed", error: "abandoned" });
    expect((await eventDeliveries(waiting.event_id))!.deliveries[0]).toMatchObject({ status: "retrying" });
    expect((await eventDeliveries(sentLongAgo.event_id))!.summary).toEqual({ no_device: 1 });
  });

  it("reaches rows of any age, and a row that crossed the threshold while runs were missed", async () => {
    await forgetMark();
    const now = Date.now();
    const ancient = await retryingSince(now - 20 * DAY);
    expect(await closeAbandoned(env.DB, now)).toBeGreaterThanOrEqual(1);
    expect((await eventDeliveries(ancient.event_id))!.deliveries[0]).toMatchObject({ status: "failed", error: "abandoned" });

    // Open for 47 hours at this run; the next five hourly runs are missed.
    const missed = await retryingSince(now - ABANDONED_AFTER_MS + HOUR);
    expect(await closeAbandoned(env.DB, now)).toBe(0);
    expect(await closeAbandoned(env.DB, now + 5 * HOUR)).toBeGreaterThanOrEqual(1);
    expect((await eventDeliveries(missed.event_id))!.deliveries[0]).toMatchObject({ status: "failed", error: "abandoned" });
  });

  it("runs in the hourly scheduled handler", async () => {
    await forgetMark();
    const lost = await retryingSince(Date.now() - ABANDONED_AFTER_MS - 3 * HOUR);
    await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: "17 * * * *" }), env);
    expect((await eventDeliveries(lost.event_id))!.deliveries[0]).toMatchObject({ status: "failed", error: "abandoned" });
  });

  it("reads only its window of the time index", async () => {
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${CLOSE_OPEN_ROWS_SQL}`).bind(0, 1, "abandoned", 2).all<{ detail: string }>();
    const steps = results.map((r) => r.detail);
    expect(steps).toContainEqual(expect.stringMatching(/USING (COVERING )?INDEX deliveries_by_updated \(updated_at>\? AND updated_at<\?\)/));
    for (const step of steps) expect(step).not.toMatch(/^SCAN deliveries$/);
  });
});
