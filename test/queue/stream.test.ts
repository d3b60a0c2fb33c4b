/**
 * A stream of single reminders through the real queue, with the consumer
 * settings of wrangler.toml (batches of up to 50 messages): each push
 * arrives once, and the events share ledger documents instead of writing
 * one each.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { registerDevice } from "../support/delivery";
import { pushes } from "../support/standins";
import { eventually, fcmToken, notification, notificationsSent, postWebhook, uniqueId } from "../support/webhook";

const EVENTS = 200;

describe("a stream of single-notification events", () => {
  it("pushes each of 200 events once, the events sharing ledger documents", async () => {
    const users = Array.from({ length: EVENTS }, () => ({
      customId: uniqueId("stream"),
      eventId: uniqueId("msg_stream"),
      // FCM only: test files run in parallel, each with a D1 of its own, so each mints its own APNs
      // token for the one test key, and the APNs stand-in answers TooManyProviderTokenUpdates as APNs
      // would; the bench streams FCM and APNs together.
      provider: "fcm" as const,
      token: fcmToken(),
    }));
    for (const u of users) await registerDevice({ provider: u.provider, token: u.token, custom_id: u.customId });

    // 16 at a time, as a busy LearnInk would send them.
    for (let k = 0; k < EVENTS; k += 16) {
      const answers = await Promise.all(
        users.slice(k, k + 16).map((u) => postWebhook(notificationsSent([notification({ custom_id: u.customId })]), { id: u.eventId })),
      );
      expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
    }

    const arrived = await eventually(
      async () => (await pushes()).filter((p) => p.event_id?.startsWith("msg_stream")),
      (found) => users.every((u) => found.some((p) => p.event_id === u.eventId)),
      60_000,
    );
    // Every copy that could still come has come: a batch waits at most a second, a held claim ten.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const mine = (await pushes()).filter((p) => users.some((u) => u.eventId === p.event_id));
    expect(arrived.length).toBeGreaterThanOrEqual(EVENTS);
    expect(mine.map((p) => `${p.event_id} ${p.token}`).sort()).toEqual(users.map((u) => `${u.eventId} ${u.token}`).sort());

    // The ledger wrote documents per batch, not per event.
    const documents = await env.DB.prepare(
      `SELECT COUNT(*) AS n FROM ledger AS l
       WHERE EXISTS (SELECT 1 FROM json_each(?1) AS e WHERE instr(l.events, json_quote(e.value)) > 0)`,
    )
      .bind(JSON.stringify(users.map((u) => u.eventId)))
      .first<number>("n");
    expect(documents).toBeGreaterThan(0);
    expect(documents!).toBeLessThan(EVENTS / 4);
  }, 90_000);
});
