/**
 * The room a path leaves in a push (src/push/room.ts) agrees with the real
 * FCM, APNs, Expo and OneSignal builders, exactly near the limit (whatever
 * the device token's length), so the webhook's "can
 * never fit" decision is the send's own measure, not an estimate.
 */
import { describe, expect, it } from "vitest";
import { tapLink } from "../../src/link";
import { MAX_PAYLOAD_BYTES } from "../../src/push/payload";
import { payloadBytesByProvider, pushRoom } from "../../src/push/room";
import { pushMessage } from "../support/push";

describe("pushRoom", () => {
  it.each([
    ["/courses/safety-101", "msg_2f0cdd6f8b8f4c6a9b1e3a2c4d5"],
    ["/cours/é \"quoted\" 学".repeat(20), "msg_x"],
    ["/a".repeat(900), "an-event-id-longer-than-a-collapse-key-allows-so-it-is-hashed-" + "x".repeat(40)],
  ])("is 4,096 minus the largest real push with empty text, or a lower bound of it when that is far from 0 (%#)", (path, eventId) => {
    const now = Date.UTC(2026, 10, 20);
    const url = tapLink("acme", path);
    // The room is measured for the widest index an event carries (room.ts).
    const message = pushMessage({ title: "", body: "", path, url, event_id: eventId, index: 9_999_999, token: "t".repeat(4096) });
    const exact = MAX_PAYLOAD_BYTES - Math.max(...Object.values(payloadBytesByProvider(message, now)));
    const room = pushRoom(eventId, now)(path, url);
    expect(room).toBeLessThanOrEqual(exact);
    expect(room >= 0).toBe(exact >= 0);
    if (6 * (path.length + url.length) > exact) expect(room).toBe(exact);
  });
});
