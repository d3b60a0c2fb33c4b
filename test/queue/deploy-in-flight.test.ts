/**
 * A deploy in the middle of a fan-out: the previous version left its
 * ledger rows (`events`, `notifications`, `deliveries`) and its messages in
 * flight, in its own format (PushJobs without `t`, a RecordJob without
 * `docs`). The new version delivers each push once, sends nothing the
 * previous one sent, and after the conversion the ledger's documents hold
 * the whole event with the right statuses. The message bodies are literal
 * JSON as the previous release wrote them.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { convertLedger } from "../../src/maintenance/convert";
import type { QueueMessage } from "../../src/queue/message";
import { eventDeliveries, ownProviders, recordingQueue, registerDevice, runBatch } from "../support/delivery";
import { legacyDelivery, legacyNotification, legacyRows, seedLegacy } from "../support/legacy";
import { ledgerOf } from "../support/ledger";
import { pushes } from "../support/standins";
import { fcmToken, uniqueId } from "../support/webhook";

const MINUTE = 60_000;

/** Six employees with a phone each, an event of the previous version for them, its rows and its messages. */
async function fanOutInFlight(now: number) {
  const eventId = uniqueId("msg");
  const receivedAt = now - 10 * MINUTE;
  const people = Array.from({ length: 6 }, (_, i) => ({ i, custom: uniqueId("emp"), user: `li-${i}`, token: fcmToken() }));
  for (const p of people) await registerDevice({ provider: "fcm", token: p.token, custom_id: p.custom });
  const rows = [
    { status: "sent" as const, provider_id: "projects/old/messages/0" },
    { status: "retrying" as const, provider_id: null, error: "UNAVAILABLE", next_attempt_at: now - 1_000 },
    { status: "sending" as const, provider_id: null, claimed_by: "old-claim", claimed_until: now + 5 * MINUTE },
    { status: "failed" as const, provider_id: null, error: "INTERNAL" },
  ];
  // The previous version claimed notifications 0 to 3; 4 and 5 wait in a message it never took.
  await seedLegacy([
    {
      event_id: eventId,
      received_at: receivedAt,
      replayed_at: null,
      notifications: rows.map((row, i) =>
        legacyNotification(i, [legacyDelivery({ device_token: people[i]!.token, ...row, updated_at: now - 5 * MINUTE })], { user_id: people[i]!.user, custom_id: people[i]!.custom }),
      ),
    },
  ]);
  const notification = (p: (typeof people)[number]) =>
    `{"i":${p.i},"title":"Time for your training","body":"Safety 101 is waiting","path":"/courses/safety-101","user_id":"${p.user}","custom_id":"${p.custom}"}`;
  const push = (from: number, to: number) =>
    JSON.parse(`{"v":1,"event_id":"${eventId}","received_at":${receivedAt},"notifications":[${people.slice(from, to).map(notification).join(",")}]}`) as QueueMessage;
  // What the previous version's claim of notification 2 got from FCM, queued to be written later.
  const record = JSON.parse(
    `{"v":1,"kind":"record","outcomes":[{"eventId":"${eventId}","index":2,"token":"${people[2]!.token}","status":"sent","providerId":"projects/old/messages/2","error":null,"nextAttemptAt":null,"latencyMs":300}],` +
      `"options":{"claimId":"old-claim","now":${now - MINUTE},"tokenAnswers":[{"provider":"fcm","app":"default","answered":1,"dead":0}],` +
      `"deadTokens":[],"misconfigured":[],"accepted":[],"environmentFixes":[],"orphans":[],"released":[]}}`,
  ) as QueueMessage;
  return { eventId, people, claimed: push(0, 4), unclaimed: push(4, 6), record };
}

describe("a deploy in the middle of a fan-out", () => {
  it.each(["after", "before"])("delivers the previous version's messages and ledger rows in flight exactly once, converted %s they arrive", async (when) => {
    const now = Date.now();
    const { eventId, people, claimed, unclaimed, record } = await fanOutInFlight(now);
    const providers = await ownProviders();
    const { queue } = recordingQueue();
    const deps = (at: number) => ({ providers, now: () => at });
    if (when === "before") expect((await convertLedger(env.DB, now)).complete).toBe(true);

    // The retry of the claimed message and the untaken one (twice: a duplicate delivery) arrive first.
    const first = await runBatch([claimed, unclaimed, structuredClone(unclaimed)], deps(now), 2, { PUSH_QUEUE: queue });
    expect(first.acked).toEqual(first.ids.slice(1));
    // Notification 2 is still the previous version's, under its lease: its message comes back.
    expect(first.retried.has(first.ids[0]!)).toBe(true);
    // Then the previous version's record, and the claimed message again once the lease is over.
    expect((await runBatch([record], deps(now + MINUTE), 1, { PUSH_QUEUE: queue })).acked).toHaveLength(1);
    const again = await runBatch([claimed], deps(now + 6 * MINUTE), 3, { PUSH_QUEUE: queue });
    expect(again.acked).toEqual(again.ids);

    const arrived = (await pushes({ event_id: eventId })).map((p) => p.token).sort();
    expect(arrived).toEqual([people[1]!.token, people[4]!.token, people[5]!.token].sort());

    const result = await convertLedger(env.DB, now + 7 * MINUTE);
    expect(result.complete).toBe(true);
    expect(await legacyRows(eventId)).toEqual({ events: 0, notifications: 0, deliveries: 0 });
    const ledger = (await ledgerOf(eventId))!;
    expect(ledger.deliveries.map((d) => [d.index, d.token, d.status, d.error])).toEqual([
      [0, people[0]!.token, "sent", null],
      [1, people[1]!.token, "sent", null],
      [2, people[2]!.token, "sent", null],
      [3, people[3]!.token, "failed", "INTERNAL"],
      [4, people[4]!.token, "sent", null],
      [5, people[5]!.token, "sent", null],
    ]);
    expect(ledger.deliveries[2]).toMatchObject({ providerId: "projects/old/messages/2", claimedBy: null });
    expect(ledger.deliveries[0]).toMatchObject({ providerId: "projects/old/messages/0" });
  });

  it("shows the event through GET /v1/events/:id after the conversion", async () => {
    const now = Date.now();
    const { eventId, claimed, unclaimed, record } = await fanOutInFlight(now);
    const providers = await ownProviders();
    const { queue } = recordingQueue();
    await runBatch([record], { providers, now: () => now }, 1, { PUSH_QUEUE: queue });
    await runBatch([claimed, unclaimed], { providers, now: () => now }, 2, { PUSH_QUEUE: queue });
    await convertLedger(env.DB, now + MINUTE);
    expect((await eventDeliveries(eventId))!.summary).toEqual({ sent: 5, failed: 1 });
  });
});
