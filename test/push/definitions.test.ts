/**
 * Every provider request inside the provider's own definition. The
 * builders' output `satisfies` the types the providers publish (FCM's
 * `Schema$SendMessageRequest` from `@googleapis/fcm`, Expo's
 * `ExpoPushMessage` from `expo-server-sdk`, OneSignal's `Notification` from
 * `@onesignal/node-onesignal`; type-only imports of dev dependencies), and
 * stays within the documented limits where no type can say it: 4,096
 * bytes of payload, OneSignal's `data` at most 2,048 bytes, and text that
 * is never cut to nothing, up to the longest path the webhook accepts.
 * APNs publishes no types: its payload is held to Apple's documented keys.
 */
import type { fcm_v1 } from "@googleapis/fcm";
import type { Notification as OneSignalNotification } from "@onesignal/node-onesignal";
import type { ExpoPushMessage } from "expo-server-sdk";
import { describe, expect, it } from "vitest";
import { tapLink } from "../../src/link";
import { apnsHeaders, apnsPayload } from "../../src/push/apns/message";
import { expoMessage, expoPayloadBytes } from "../../src/push/expo/message";
import { fcmPayloadBytes, fcmRequestBody } from "../../src/push/fcm/message";
import { ONESIGNAL_MAX_DATA_BYTES, oneSignalBody, oneSignalDataBytes, oneSignalPayloadBytes } from "../../src/push/onesignal/message";
import { jsonBytes, MAX_PAYLOAD_BYTES } from "../../src/push/payload";
import { pathFit } from "../../src/push/room";
import { pushMessage } from "../support/push";

const EVENT = "msg_2f0cdd6f8b8f4c6a9b1e3a2c4d5e6f7a8b9c";
const NOW = Date.UTC(2026, 10, 20, 9);
const KEY = "6f1c2e54-9b7d-4c3a-8e21-5d0f7a9b3c64";

/** The longest `/` + unit… path the webhook accepts, by its own measure. */
function longestPath(unit: string): string {
  const fits = pathFit(EVENT, NOW);
  let path = "/";
  while (fits(path + unit, tapLink("acme", path + unit)) === null) path += unit;
  return path;
}

/** Every provider's request for one message, typed as the providers publish them. */
function requests(path: string, text: { title: string; body: string }) {
  const message = pushMessage({ ...text, path, url: tapLink("acme", path), event_id: EVENT, token: "t".repeat(4_000) });
  return {
    fcm: fcmRequestBody(message, "k".repeat(64), NOW, "reminders") satisfies fcm_v1.Schema$SendMessageRequest,
    expo: expoMessage(message, "reminders") satisfies ExpoPushMessage,
    onesignal: oneSignalBody("app-id", ["emp-1"], message, KEY) satisfies OneSignalNotification,
    apns: apnsPayload(message),
  };
}

const LONG_TEXT = [
  ["ASCII", { title: "T".repeat(5_000), body: "B".repeat(5_000) }],
  ["JSON escapes", { title: '"\\'.repeat(3_000), body: "\u0001".repeat(3_000) }],
  ["emoji clusters", { title: "👨‍👩‍👧".repeat(800), body: "🎓".repeat(3_000) }],
  ["one huge cluster", { title: "e" + "\u0301".repeat(3_000), body: "a" + "\u0308".repeat(3_000) }],
] as const;

describe("provider requests at the longest path the webhook accepts", () => {
  it.each(["a", "学", '"', "%20"])("keep every payload within its limit and some text, for paths of %j", (unit) => {
    const path = longestPath(unit);
    for (const [label, text] of LONG_TEXT) {
      const { fcm, expo, onesignal, apns } = requests(path, text);
      expect(fcmPayloadBytes(fcm), label).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
      expect(jsonBytes(apns), label).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
      expect(expoPayloadBytes(expo), label).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
      expect(oneSignalPayloadBytes(onesignal), label).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
      expect(oneSignalDataBytes(onesignal.data), label).toBeLessThanOrEqual(ONESIGNAL_MAX_DATA_BYTES);
      // Never an alert without text: the title keeps at least its first character.
      for (const title of [fcm.message.notification.title, expo.title, onesignal.headings?.en ?? onesignal.contents.en, apns.aps.alert.title]) {
        expect(title.length, label).toBeGreaterThan(1);
      }
      expect(onesignal.contents.en.length, label).toBeGreaterThan(0);
    }
  });

  it("carries the path once in OneSignal's data (the app builds the link from it)", () => {
    // The path that made OneSignal's data 3,532 bytes when it was carried twice.
    const { onesignal } = requests(longestPath("a"), { title: "t", body: "b" });
    expect(Object.keys(onesignal.data).sort()).toEqual(["event_id", "path"]);
    expect(oneSignalDataBytes(onesignal.data)).toBeLessThanOrEqual(ONESIGNAL_MAX_DATA_BYTES);
  });

  it("refuses a path one character longer, saying why", () => {
    for (const unit of ["a", "学"]) {
      const path = longestPath(unit) + unit;
      expect(pathFit(EVENT, NOW)(path, tapLink("acme", path))).toMatch(/^is too long: /);
    }
  });
});

describe("provider requests: what each provider asks for", () => {
  it("FCM: apns-push-type alert for iOS, the app's Android channel when set, no channel field when not", () => {
    const message = pushMessage();
    const withChannel = fcmRequestBody(message, "k", NOW, "reminders");
    expect(withChannel.message.apns.headers["apns-push-type"]).toBe("alert");
    expect(withChannel.message.android.notification.channel_id).toBe("reminders");
    expect("channel_id" in fcmRequestBody(message, "k", NOW).message.android.notification).toBe(false);
  });

  it("OneSignal: a notification without a body shows its title as the content (OneSignal refuses an empty contents)", () => {
    const body = oneSignalBody("app-id", ["emp-1"], pushMessage({ title: "Reminder", body: "" }), KEY);
    expect(body.contents.en).toBe("Reminder");
    expect(body.headings).toBeUndefined();
    expect(oneSignalBody("app-id", ["emp-1"], pushMessage({ title: "T", body: "B" }), KEY)).toMatchObject({ headings: { en: "T" }, contents: { en: "B" } });
  });

  it("Expo: channelId when set, absent when not", () => {
    expect(expoMessage(pushMessage(), "reminders").channelId).toBe("reminders");
    expect("channelId" in expoMessage(pushMessage())).toBe(false);
  });

  it("APNs: only Apple's documented aps keys, and the documented headers", () => {
    const payload = apnsPayload(pushMessage());
    expect(Object.keys(payload.aps).sort()).toEqual(["alert", "sound"]);
    expect(Object.keys(payload.aps.alert).sort()).toEqual(["body", "title"]);
    const headers = apnsHeaders("jwt", "com.example.app", "k", NOW);
    expect(headers).toMatchObject({ "apns-push-type": "alert", "apns-priority": "10", "apns-topic": "com.example.app" });
    expect(headers["apns-collapse-id"]!.length).toBeLessThanOrEqual(64);
  });
});
