import { describe, expect, it } from "vitest";
import { apnsPayload } from "../../src/push/apns/message";
import { expoMessage, expoPayloadBytes } from "../../src/push/expo/message";
import { fcmPayloadBytes, fcmRequestBody } from "../../src/push/fcm/message";
import { oneSignalBody, oneSignalPayloadBytes } from "../../src/push/onesignal/message";
import { fitPayload, jsonBytes, MAX_PAYLOAD_BYTES, shortenToBytes, type VisibleText } from "../../src/push/payload";
import { pushMessage } from "../support/push";

const extras = { path: "/courses/safety-101", url: "https://m.learn.ink/acme/courses/safety-101?webview=true", event_id: "msg_1" };
const build = (text: VisibleText) => ({ aps: { alert: text, sound: "default" }, ...extras });
const graphemes = (s: string) => Array.from(new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(s), (g) => g.segment);

/** The shortened text is whole characters of the original, then "…". */
function expectCleanCut(original: string, cut: string) {
  expect(cut.endsWith("…")).toBe(true);
  const kept = cut.slice(0, -1);
  expect(original.startsWith(kept)).toBe(true);
  expect(kept.isWellFormed()).toBe(true);
  // The cut falls on a character boundary of the original.
  const pieces = graphemes(original);
  let length = 0;
  const boundaries = new Set([0, ...pieces.map((p) => (length += p.length))]);
  expect(boundaries.has(kept.length) || boundaries.has(original.slice(0, kept.length + 1).trimEnd().length)).toBe(true);
}

describe("fitPayload", () => {
  it("leaves a payload that fits alone", () => {
    const text = { title: "Hello", body: "World" };
    expect(fitPayload(text, build)).toBe(text);
  });

  it("shortens a long body to the longest text that fits, title untouched", () => {
    const text = { title: "Reminder", body: "x".repeat(10_000) };
    const fitted = fitPayload(text, build);
    expect(fitted.title).toBe("Reminder");
    expectCleanCut(text.body, fitted.body);
    expect(jsonBytes(build(fitted))).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    // One more character would not fit.
    expect(jsonBytes(build({ title: "Reminder", body: "x".repeat(fitted.body.length) + "…" }))).toBeGreaterThan(MAX_PAYLOAD_BYTES);
  });

  it.each([
    { name: "accented Latin (2 bytes)", unit: "é" },
    { name: "CJK (3 bytes)", unit: "日本語" },
    { name: "emoji (4 bytes, surrogate pairs)", unit: "😀" },
    { name: "emoji clusters (ZWJ family, flags, skin tones)", unit: "👨‍👩‍👧🇫🇷👍🏽" },
    { name: "combining marks", unit: "e\u0301" },
    { name: "characters JSON escapes", unit: '"\\\n' },
  ])("cuts $name on a character boundary", ({ unit }) => {
    const body = `Start ${unit.repeat(3000)}`;
    const fitted = fitPayload({ title: "Title", body }, build);
    expectCleanCut(body, fitted.body);
    expect(jsonBytes(build(fitted))).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(jsonBytes(build(fitted))).toBeGreaterThan(MAX_PAYLOAD_BYTES - 40);
  });

  it("keeps emoji clusters whole", () => {
    const family = "👨‍👩‍👧";
    const fitted = fitPayload({ title: "", body: family.repeat(1000) }, build);
    const kept = fitted.body.slice(0, -1);
    expect(kept.length % family.length).toBe(0);
    expect(kept.replaceAll(family, "")).toBe("");
  });

  it("shortens the title once the body is gone", () => {
    const longExtras = { ...extras, path: `/${"p".repeat(3500)}` };
    const builder = (text: VisibleText) => ({ aps: { alert: text, sound: "default" }, ...longExtras });
    const fitted = fitPayload({ title: "T".repeat(1000), body: "B".repeat(1000) }, builder);
    expect(fitted.body).toBe("");
    expectCleanCut("T".repeat(1000), fitted.title);
    expect(jsonBytes(builder(fitted))).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  });

  it("never touches path, url or event_id, even when nothing fits", () => {
    const hugePath = `/${"p".repeat(5000)}`;
    const builder = (text: VisibleText) => ({ aps: { alert: text }, ...extras, path: hugePath });
    expect(fitPayload({ title: "Title", body: "Body" }, builder)).toEqual({ title: "", body: "" });
  });
});

describe("provider payloads stay within 4,096 bytes", () => {
  const message = pushMessage({ title: "🎓".repeat(600), body: "Ünïcödé ✓ ".repeat(1000) });

  it("APNs: the whole JSON body", () => {
    const payload = apnsPayload(message);
    expect(jsonBytes(payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(payload.aps.alert.title).toBe(message.title);
    expectCleanCut(message.body, payload.aps.alert.body);
    expect([payload.path, payload.url, payload.event_id]).toEqual([message.path, message.url, message.event_id]);
  });

  it("FCM: the delivered payload and the APNs payload FCM builds from it (not the token)", () => {
    for (const token of ["t".repeat(160), "t".repeat(4_096)]) {
      const body = fcmRequestBody({ ...message, token }, "msg_2abc:3", Date.UTC(2026, 10, 20));
      const { notification, data } = body.message;
      expect(jsonBytes({ notification, data })).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
      expect(fcmPayloadBytes(body)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
      expect(fcmPayloadBytes(body)).toBeGreaterThan(MAX_PAYLOAD_BYTES - 40);
      expectCleanCut(message.body, notification.body);
      expect(data).toEqual({ path: message.path, url: message.url, event_id: message.event_id, index: String(message.index) });
    }
  });

  it("Expo and OneSignal: what they forward, with their allowance", () => {
    const expo = expoMessage(message);
    expect(expoPayloadBytes(expo)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expectCleanCut(message.body, expo.body);
    const onesignal = oneSignalBody("app", ["u"], message, "key");
    expect(oneSignalPayloadBytes(onesignal)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expectCleanCut(message.body, onesignal.contents.en);
  });
});

describe("shortenToBytes (the webhook's cut of over-long text)", () => {
  it("leaves text within the limit alone", () => {
    expect(shortenToBytes("Ünïcödé", 16)).toBe("Ünïcödé");
  });

  it("cuts on a character boundary to at most the limit, ended with …", () => {
    const text = "👨‍👩‍👧 Ünïcödé 学 ".repeat(2_000);
    const cut = shortenToBytes(text, MAX_PAYLOAD_BYTES);
    expect(new TextEncoder().encode(cut).length).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(new TextEncoder().encode(cut).length).toBeGreaterThan(MAX_PAYLOAD_BYTES - 40);
    expectCleanCut(text, cut);
  });

  it.each([
    ["a long body", { title: "Reminder", body: "Ünïcödé ✓ 学 ".repeat(5_000) }],
    ["a long title and body", { title: "🎓 Title ".repeat(3_000), body: "B".repeat(50_000) }],
    ["text JSON escapes", { title: "\"q\" ".repeat(2_000), body: "\u0001\\".repeat(9_000) }],
  ])("gives the push exactly what the full text would (%s)", (_label, text) => {
    const message = pushMessage(text);
    const cut = pushMessage({ title: shortenToBytes(text.title, MAX_PAYLOAD_BYTES), body: shortenToBytes(text.body, MAX_PAYLOAD_BYTES) });
    expect(apnsPayload(cut)).toEqual(apnsPayload(message));
    expect(fcmRequestBody(cut, "k", 0)).toEqual(fcmRequestBody(message, "k", 0));
  });
});
