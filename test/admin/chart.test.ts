/**
 * The overview's chart: the axis maximum and the hourly buckets it draws,
 * as pure functions with table tests; and the SVG it renders.
 */
import { describe, expect, it } from "vitest";
import { HourlyChart, hourBuckets, niceMax } from "../../src/admin/chart";

const HOUR = 3_600_000;

describe("niceMax", () => {
  it.each([
    [0, 1],
    [1, 1],
    [3, 5],
    [5, 5],
    [7, 10],
    [11, 20],
    [180, 200],
    [201, 500],
    [9_999, 10_000],
  ])("%d → %d", (value, max) => {
    expect(niceMax(value)).toBe(max);
  });
});

describe("hourBuckets", () => {
  const now = Date.UTC(2026, 10, 25, 10, 30);
  const hour = Math.floor(now / HOUR);

  it("has the 24 hours up to the current one, oldest first, and drops rows outside them", () => {
    const buckets = hourBuckets(
      [
        { hour, status: "sent", n: 5 },
        { hour, status: "failed", n: 1 },
        { hour: hour - 23, status: "sent", n: 2 },
        { hour: hour - 24, status: "sent", n: 99 },
        { hour: hour + 1, status: "sent", n: 99 },
      ],
      now,
    );
    expect(buckets).toHaveLength(24);
    expect(buckets[0]!.hour).toBe(hour - 23);
    expect(buckets[23]!.hour).toBe(hour);
    expect(Object.fromEntries(buckets[23]!.counts)).toEqual({ sent: 5, failed: 1 });
    expect(Object.fromEntries(buckets[0]!.counts)).toEqual({ sent: 2 });
    expect(buckets.slice(1, 23).every((b) => b.counts.size === 0)).toBe(true);
  });
});

describe("HourlyChart", () => {
  it("stacks each hour's statuses up to its total, with a tooltip per hour and no inline style", async () => {
    const now = Date.UTC(2026, 10, 25, 10, 30);
    const hour = Math.floor(now / HOUR);
    const rows = [
      { hour, status: "sent", n: 3 },
      { hour, status: "failed", n: 2 },
    ] as const;
    const svg = await HourlyChart({ rows, now }).toString();
    expect(svg).toContain("<title>10:00 UTC: 3 sent, 2 failed</title>");
    const heights = [...svg.matchAll(/<rect class="bar-(\w+)" x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"/g)].map((m) => [m[1], Number(m[3])]);
    expect(heights.map(([status]) => status)).toEqual(["sent", "failed"]);
    // The axis goes to 5: the two bars fill the plot's height exactly.
    expect(heights[0]![1] as number).toBeCloseTo((176 * 3) / 5, 5);
    expect(heights[1]![1] as number).toBeCloseTo((176 * 2) / 5, 5);
    expect(svg).not.toContain("style=");
  });
});
