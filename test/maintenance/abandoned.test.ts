/**
 * The hourly sweep closes deliveries nobody will come back for (their queue
 * message was lost after the dead-letter consumer's last retry) as failed,
 * so a replay can send them; it leaves everything else alone, reads only
 * its slice of buckets on the primary key, writes checked by version, and
 * goes on from where it stopped, so missed runs leave nothing open.
 */
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bucketOfJob } from "../../src/delivery/plan";
import worker from "../../src/index";
import { ABANDONED_MARK } from "../../src/db/sweep-marks";
import { ABANDONED_AFTER_MS, closeAbandoned, OPEN_DOCS_SQL } from "../../src/maintenance/abandoned";
import type { PushJob } from "../../src/queue/message";
import { racingD1 } from "../support/d1";
import { fakeProviders, job, queued, registerDevice, runBatch } from "../support/delivery";
import { ledgerOf } from "../support/ledger";
import { queryPlan } from "../support/query-plan";
import { fcmToken, uniqueId } from "../support/webhook";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The sweep starts afresh (each test plays a relay whose sweep never ran). */
const forgetMark = () => env.DB.prepare("DELETE FROM sweep_marks WHERE name = ?1").bind(ABANDONED_MARK).run();

/** An event of `eventAt` whose one delivery the provider asked to retry at `at`, and whose message then vanished. */
async function retryingSince(at: number, eventAt = at): Promise<PushJob> {
  const customId = uniqueId("emp");
  await registerDevice({ provider: "fcm", token: fcmToken(), custom_id: customId });
  const event = job([queued({ custom_id: customId })], { t: Math.floor(eventAt / 1000) });
  await runBatch([event], { providers: fakeProviders(() => ({ kind: "retry", reason: "UNAVAILABLE" })), now: () => at });
  return event;
}

const only = async (event: PushJob) => (await ledgerOf(event.event_id, bucketOfJob(event)))!.deliveries[0];

describe("abandoned deliveries", () => {
  it("closes open deliveries untouched for two days as failed abandoned, and only those", async () => {
    await forgetMark();
    const now = Date.now();
    const lost = await retryingSince(now - ABANDONED_AFTER_MS - HOUR);
    const waiting = await retryingSince(now - ABANDONED_AFTER_MS + HOUR);
    // A replay of an old event, retrying since an hour ago: someone is coming back for it.
    const replayed = await retryingSince(now - HOUR, now - 10 * DAY);
    const sentLongAgo = job([queued()], { t: Math.floor((now - 3 * DAY) / 1000) });
    await runBatch([sentLongAgo], { providers: fakeProviders(), now: () => now - ABANDONED_AFTER_MS - HOUR });

    expect(await closeAbandoned(env.DB, now)).toBe(1);
    expect(await only(lost)).toMatchObject({ status: "failed", error: "abandoned", nextAttemptAt: null });
    expect(await only(waiting)).toMatchObject({ status: "retrying" });
    expect(await only(replayed)).toMatchObject({ status: "retrying" });
    expect((await ledgerOf(sentLongAgo.event_id, bucketOfJob(sentLongAgo)))!.summary).toEqual({ no_device: 1 });
  });

  it("reaches documents of any age, and a delivery that crossed the threshold while runs were missed", async () => {
    await forgetMark();
    const now = Date.now();
    const ancient = await retryingSince(now - 20 * DAY);
    expect(await closeAbandoned(env.DB, now)).toBeGreaterThanOrEqual(1);
    expect(await only(ancient)).toMatchObject({ status: "failed", error: "abandoned" });

    // Open for 47 hours at this run; the next five hourly runs are missed.
    const missed = await retryingSince(now - ABANDONED_AFTER_MS + HOUR);
    expect(await closeAbandoned(env.DB, now)).toBe(0);
    expect(await closeAbandoned(env.DB, now + 5 * HOUR)).toBeGreaterThanOrEqual(1);
    expect(await only(missed)).toMatchObject({ status: "failed", error: "abandoned" });
  });

  it("comes back to an old document whose delivery was touched lately, and closes it once that is two days old", async () => {
    await forgetMark();
    const now = Date.now();
    const replayed = await retryingSince(now - HOUR, now - 5 * DAY);
    await closeAbandoned(env.DB, now);
    expect(await only(replayed)).toMatchObject({ status: "retrying" });
    // Many runs later the mark has not passed it: nobody came back, and it is closed.
    for (let run = 1; run <= 3; run++) await closeAbandoned(env.DB, now + run * HOUR);
    expect(await closeAbandoned(env.DB, now + ABANDONED_AFTER_MS)).toBeGreaterThanOrEqual(1);
    expect(await only(replayed)).toMatchObject({ status: "failed", error: "abandoned" });
  });

  it("reads again and closes again when another invocation wrote the document first", async () => {
    await forgetMark();
    const now = Date.now();
    const lost = await retryingSince(now - ABANDONED_AFTER_MS - HOUR);
    const bucket = bucketOfJob(lost);
    // Another write lands between the sweep's read and its write (a version bump that changes nothing else).
    const db = racingD1(env.DB, (sql) => sql.includes("UPDATE ledger_docs"), () =>
      env.DB.prepare("UPDATE ledger_docs SET v = v + 1 WHERE bucket = ?1").bind(bucket).run(),
    );
    expect(await closeAbandoned(db, now)).toBe(1);
    const [stored] = (await ledgerOf(lost.event_id, bucket))!.documents;
    // Written by the claim, its outcome, the race, and the sweep on its second try.
    expect(stored!.v).toBe(4);
    expect(await only(lost)).toMatchObject({ status: "failed", error: "abandoned" });
  });

  it("runs in the hourly scheduled handler", async () => {
    await forgetMark();
    const lost = await retryingSince(Date.now() - ABANDONED_AFTER_MS - 3 * HOUR);
    await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: "17 * * * *" }), env);
    expect(await only(lost)).toMatchObject({ status: "failed", error: "abandoned" });
  });

  it("reads only its slice of buckets, on the primary key", async () => {
    const steps = await queryPlan(OPEN_DOCS_SQL);
    expect(steps).toContainEqual(expect.stringMatching(/SEARCH l USING PRIMARY KEY \(bucket>\? AND bucket<\?\)/));
    for (const step of steps) expect(step).not.toMatch(/^SCAN /);
  });
});
