import { describe, expect, it } from "vitest";
import { isTimeZone, parseQuietHours, quietUntil } from "../../src/delivery/quiet-hours";

const at = (iso: string) => Date.parse(iso);

describe("parseQuietHours", () => {
  it.each([
    ["", null],
    ["  ", null],
    ["21:00-07:30", { start: 21 * 60, end: 7 * 60 + 30 }],
    ["09:00 - 17:00", { start: 9 * 60, end: 17 * 60 }],
  ])("%j", (text, window) => {
    expect(parseQuietHours(text)).toEqual(window);
  });

  it.each(["21:00", "25:00-07:00", "21-07", "21:00-07:00-08:00", "07:00-07:00", "9:00-17:00"])("refuses %j", (text) => {
    expect(() => parseQuietHours(text)).toThrow(/QUIET_HOURS/);
  });
});

describe("quietUntil", () => {
  const night = parseQuietHours("21:00-07:30")!;
  const day = parseQuietHours("09:00-17:00")!;
  it.each([
    { name: "inside a window that wraps midnight, before midnight", window: night, zone: "UTC", now: "2026-12-07T22:15:00Z", until: "2026-12-08T07:30:00Z" },
    { name: "inside it after midnight", window: night, zone: "UTC", now: "2026-12-08T03:00:20Z", until: "2026-12-08T07:30:00Z" },
    { name: "the start is inside", window: night, zone: "UTC", now: "2026-12-07T21:00:00Z", until: "2026-12-08T07:30:00Z" },
    { name: "the end is outside", window: night, zone: "UTC", now: "2026-12-08T07:30:00Z", until: null },
    { name: "outside", window: night, zone: "UTC", now: "2026-12-07T12:00:00Z", until: null },
    { name: "on the device's own clock: 22:00 in Nairobi is 19:00 UTC", window: night, zone: "Africa/Nairobi", now: "2026-12-07T19:00:00Z", until: "2026-12-08T04:30:00Z" },
    { name: "the same instant is daytime in New York", window: night, zone: "America/New_York", now: "2026-12-07T19:00:00Z", until: null },
    { name: "a window inside one day", window: day, zone: "UTC", now: "2026-12-07T16:59:59Z", until: "2026-12-07T17:00:00Z" },
    { name: "across the autumn clock change (New York, 1 Nov 2026)", window: night, zone: "America/New_York", now: "2026-11-01T02:00:00Z", until: "2026-11-01T12:30:00Z" },
    { name: "across the spring clock change (New York, 8 Mar 2026)", window: night, zone: "America/New_York", now: "2026-03-08T03:00:00Z", until: "2026-03-08T11:30:00Z" },
  ])("$name", ({ window, zone, now, until }) => {
    const result = quietUntil(window, zone, at(now));
    expect(result === null ? null : new Date(result).toISOString()).toBe(until === null ? null : new Date(at(until)).toISOString());
  });

  it("knows the zones Intl knows", () => {
    expect(isTimeZone("Africa/Nairobi")).toBe(true);
    expect(isTimeZone("Mars/Olympus_Mons")).toBe(false);
  });
});
