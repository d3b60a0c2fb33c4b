/**
 * The room a path leaves in a push (src/push/room.ts) agrees with the real
 * FCM and APNs builders, exactly near the limit, so the webhook's "can
 * never fit" decision is the send's own measure, not an estimate.
 */
import { describe, expect, it } from "vitest";
import { tapLink } from "../../src/delivery/link";
import { apnsPayload } from "../../src/push/apns/message";
import { fcmRequestBody } from "../../src/push/fcm/message";
import { jsonBytes, MAX_PAYLOAD_BYTES } from "../../src/push/payload";
import { ASSUMED_FCM_TOKEN_LENGTH, pushRoom } from "../../src/push/room";
import { pushMessage } from "../support/push";

describe("pushRoom", () => {
  it.each([
    ["/courses/safety-101", "msg_2f0cdd6f8b8f4c6a9b1e3a2c4d5"],
    ["/cours/é \"quoted\" 学".repeat(20), "msg_x"],
    ["/a".repeat(900), "an-event-id-longer-than-a-collapse-key-allows-so-it-is-hashed-" + "x".repeat(40)],
  ])("is 4,096 minus the larger real push with empty text, or a lower bound of it when that is far from 0 (%#)", (path, eventId) => {
    const now = Date.UTC(2026, 10, 20);
    const url = tapLink("acme", path);
    const message = pushMessage({ title: "", body: "", path, url, event_id: eventId, token: "t".repeat(ASSUMED_FCM_TOKEN_LENGTH) });
    const fcm = jsonBytes(fcmRequestBody(message, "k".repeat(64), now));
    const apns = jsonBytes(apnsPayload(message));
    const exact = MAX_PAYLOAD_BYTES - Math.max(fcm, apns);
    const room = pushRoom(eventId, now)(path, url);
    expect(room).toBeLessThanOrEqual(exact);
    expect(room >= 0).toBe(exact >= 0);
    if (6 * (path.length + url.length) > exact) expect(room).toBe(exact);
  });
});
