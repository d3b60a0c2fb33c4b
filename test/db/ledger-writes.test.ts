import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { readEvent } from "../../src/db/ledger-reads";
import { recordRejections } from "../../src/db/ledger-writes";
import { bucketOfJob } from "../../src/delivery/plan";
import { eventDeliveries, fakeProviders, job, queued, registerDevice, runBatch } from "../support/delivery";
import { fcmToken, uniqueId } from "../support/ids";

describe("ledger: an event replayed after its rejected notifications were fixed", () => {
  it("sends what is valid now, and leaves no rejected placeholder or empty notification behind", async () => {
    const customId = uniqueId("fixed");
    const token = fcmToken();
    await registerDevice({ provider: "fcm", token, custom_id: customId });
    const event = job([queued({ i: 0, custom_id: customId }), queued({ i: 1, user_id: uniqueId("nobody") })]);
    // First delivery: both notifications failed validation (a schema change LearnInk later fixed).
    const at = { eventId: event.event_id, bucket: bucketOfJob(event), receivedAt: event.received_at };
    await recordRejections(env.DB, at, [0, 1].map((index) => ({
      index,
      error: `data.notifications[${index}].title: is required: a string`,
      notification: { user_id: event.notifications[index]!.user_id, custom_id: null, title: null, body: null, path: null },
    })));
    expect((await eventDeliveries(event.event_id))!.summary).toEqual({ rejected: 2 });

    // The replay from LearnInk's dashboard: same svix-id, valid notifications.
    const providers = fakeProviders();
    await runBatch([event], { providers });
    expect(providers.fcm.sent.map((m) => m.token)).toEqual([token]);
    expect((await eventDeliveries(event.event_id))!.summary).toEqual({ sent: 1, no_device: 1 });
    const stored = (await readEvent(env.DB, event.event_id, Date.now())).entries.map(({ notification: n }) => ({ i: n.i, c: n.c, ti: n.ti, pa: n.pa }));
    expect(stored.sort((a, b) => a.i - b.i)).toEqual([
      { i: 0, c: customId, ti: event.notifications[0]!.title, pa: event.notifications[0]!.path },
      { i: 1, c: null, ti: event.notifications[1]!.title, pa: event.notifications[1]!.path },
    ]);
  });
});
