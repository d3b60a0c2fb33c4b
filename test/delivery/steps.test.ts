/**
 * The consumer's decisions, as tables: which claimed rows are ours, how
 * long each message waits, how many sends an invocation may start.
 */
import { describe, expect, it } from "vitest";
import type { DeviceRow } from "../../src/db/devices";
import type { ClaimedRow } from "../../src/db/ledger-writes";
import { CREDENTIAL_SUBREQUESTS, SUBREQUESTS_PER_SEND, sendGate } from "../../src/delivery/budget";
import { DEFERRED_RETRY_SECONDS, heldRetryDelay, messageDelay, waitsOf } from "../../src/delivery/delays";
import { planDeliveries, uniqueWorks } from "../../src/delivery/plan";
import { DEFERRED, splitStarted, triage } from "../../src/delivery/triage";
import type { PushJob } from "../../src/queue/message";

const NOW = 1_000_000;
const CLAIM = "this-claim";
const device = (token: string): DeviceRow => ({
  token, provider: "fcm", app: "default", custom_id: null, user_id: "u", platform: null, environment: "production",
  created_at: 0, updated_at: 0, quarantined_at: null, quarantine_reason: null,
});
const job = (event_id: string, indexes: number[]): PushJob => ({
  v: 1, event_id, received_at: 0,
  notifications: indexes.map((i) => ({ i, title: "t", body: "b", path: "/p", user_id: "u", custom_id: null })),
});
const row = (overrides: Partial<ClaimedRow>): ClaimedRow => ({
  eventId: "e", index: 0, token: "t1", status: "sending", claimedBy: CLAIM, claimedUntil: NOW + 60_000,
  nextAttemptAt: null, attempts: 1, error: null, ...overrides,
});

describe("triage", () => {
  const { works, replayed } = uniqueWorks([job("e", [0])]);
  const plan = planDeliveries(works, replayed, () => [device("t1")]);

  it.each([
    { name: "a row this claim took is ours to send", row: row({}), bucket: "mine" },
    { name: "a row another invocation holds waits for it", row: row({ claimedBy: "other" }), bucket: "elsewhere" },
    { name: "a retrying row the claim left alone is not due", row: row({ status: "retrying", claimedBy: null }), bucket: "notDue" },
    { name: "a retrying row for a device that is gone is orphaned", row: row({ token: "gone", status: "retrying" }), bucket: "orphans" },
    { name: "a sending row past its lease for a device that is gone is orphaned", row: row({ token: "gone", claimedBy: "dead", claimedUntil: NOW - 1 }), bucket: "orphans" },
    { name: "a gone device's row still under another's lease is held elsewhere", row: row({ token: "gone", claimedBy: "other" }), bucket: "elsewhere" },
    { name: "a no-device placeholder", row: row({ token: "", status: "no_device", claimedBy: null }), bucket: "noDevice" },
    { name: "a final row asks for nothing", row: row({ status: "sent", claimedBy: null }), bucket: null },
  ])("$name", ({ row: claimed, bucket }) => {
    const sorted = triage([claimed], plan.targets, CLAIM, NOW);
    const found = Object.entries(sorted).filter(([, rows]) => rows.length > 0).map(([name]) => name);
    expect(found).toEqual(bucket === null ? [] : [bucket]);
  });

  it("splits the claimed rows into sent and never started", () => {
    const { mine } = triage([row({}), row({ token: "t2" })], planDeliveries(works, replayed, () => [device("t1"), device("t2")]).targets, CLAIM, NOW);
    mine[0]!.result = { kind: "sent", id: "x" };
    const { sent, released } = splitStarted(mine);
    expect(sent.map((a) => a.device.token)).toEqual(["t1"]);
    expect(released).toEqual([{ eventId: "e", index: 0, token: "t2" }]);
    expect(mine[1]!.result).toBe(DEFERRED);
  });
});

describe("message delays", () => {
  const message = job("e", [0, 1]);
  const key = (index: number) => `${index}\u0000e`;
  it.each([
    { name: "everything final: acked", waiting: {}, attempts: 1, delay: 0 },
    { name: "the longest outcome wait of its notifications", waiting: { outcomes: new Map([[key(0), 30], [key(1), 90]]) }, attempts: 1, delay: 90 },
    { name: "another event's wait is not its own", waiting: { outcomes: new Map([["0\u0000other", 500]]) }, attempts: 1, delay: 0 },
    { name: "a row never started comes back at once", waiting: { released: [{ eventId: "e", index: 1, token: "t" }] }, attempts: 1, delay: DEFERRED_RETRY_SECONDS },
    { name: "a row not due waits until it is", waiting: { notDue: [row({ index: 1, status: "retrying", nextAttemptAt: NOW + 42_500 })] }, attempts: 1, delay: 43 },
    { name: "a held row: 10 s at first", waiting: { elsewhere: [row({ claimedBy: "other", claimedUntil: NOW + 900_000 })] }, attempts: 1, delay: 10 },
    { name: "a held row: doubling with attempts", waiting: { elsewhere: [row({ claimedBy: "other", claimedUntil: NOW + 900_000 })] }, attempts: 4, delay: 80 },
    { name: "a held row: never past its lease", waiting: { elsewhere: [row({ claimedBy: "other", claimedUntil: NOW + 5_000 })] }, attempts: 12, delay: 6 },
  ])("$name", ({ waiting, attempts, delay }) => {
    const waits = waitsOf({ outcomes: new Map(), released: [], notDue: [], elsewhere: [], now: NOW, ...waiting });
    expect(messageDelay(message, attempts, waits)).toBe(delay);
  });

  it("outlives a dead holder's 15-minute lease within 7 looks", () => {
    const looks = [1, 2, 3, 4, 5, 6, 7].map((attempts) => heldRetryDelay(900, attempts));
    expect(looks).toEqual([10, 20, 40, 80, 160, 320, 640]);
    expect(looks.reduce((a, b) => a + b, 0)).toBeGreaterThan(900);
  });
});

describe("send budget", () => {
  it.each([
    { name: "paid plan: far more than a batch", subrequests: 10_000, spent: 2, deadlineIn: 1_000, starts: Math.floor((10_000 - 2 - 1 - CREDENTIAL_SUBREQUESTS) / SUBREQUESTS_PER_SEND) },
    { name: "free plan: 50 subrequests leave room for 9 sends", subrequests: 50, spent: 2, deadlineIn: 1_000, starts: 9 },
    { name: "nothing starts past the deadline", subrequests: 10_000, spent: 2, deadlineIn: 0, starts: 0 },
  ])("$name", ({ subrequests, spent, deadlineIn, starts }) => {
    const gate = sendGate({ subrequests, spent, deadline: NOW + deadlineIn, now: () => NOW });
    let started = 0;
    while (started < 100_000 && gate()) started++;
    expect(started).toBe(starts);
  });
});
