import { describe, expect, it } from "vitest";
import { parseRetryAfter } from "../../src/push/retry-after";

const NOW = Date.UTC(2026, 10, 20, 9, 0, 0);

describe("parseRetryAfter", () => {
  it.each([
    { value: null, expected: undefined },
    { value: "0", expected: 0 },
    { value: " 17 ", expected: 17 },
    { value: new Date(NOW + 30_500).toUTCString(), expected: 30 },
    { value: new Date(NOW - 60_000).toUTCString(), expected: 0 },
    { value: "soon", expected: undefined },
    { value: "-5", expected: undefined },
  ])("$value -> $expected", ({ value, expected }) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });
});
