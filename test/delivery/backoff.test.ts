import { describe, expect, it } from "vitest";
import { QUEUE_MAX_DELAY_SECONDS, retryDelaySeconds } from "../../src/delivery/backoff";

const low = () => 0;
const high = () => 1;

describe("retryDelaySeconds", () => {
  it.each([
    { why: "first retry, no Retry-After: half to all of 30 s", attempts: 1, retryAfter: undefined, random: low, expected: 15 },
    { why: "the jitter's top", attempts: 1, retryAfter: undefined, random: high, expected: 30 },
    { why: "doubles per attempt", attempts: 4, retryAfter: undefined, random: high, expected: 240 },
    { why: "stops growing at 3 h", attempts: 12, retryAfter: undefined, random: high, expected: 10_800 },
    { why: "attempts below 1 count as the first", attempts: 0, retryAfter: undefined, random: low, expected: 15 },
    { why: "Retry-After: 1 does not shorten the backoff", attempts: 1, retryAfter: 1, random: low, expected: 15 },
    { why: "Retry-After: 0 neither", attempts: 5, retryAfter: 0, random: low, expected: 240 },
    { why: "a longer Retry-After wins", attempts: 1, retryAfter: 120, random: high, expected: 120 },
    { why: "a fractional Retry-After is rounded up", attempts: 1, retryAfter: 40.2, random: low, expected: 41 },
    { why: "the backoff wins once it has grown past Retry-After", attempts: 6, retryAfter: 120, random: low, expected: 480 },
    { why: "capped at the queue's 24 h", attempts: 1, retryAfter: 200_000, random: low, expected: QUEUE_MAX_DELAY_SECONDS },
  ])("$why", ({ attempts, retryAfter, random, expected }) => {
    expect(retryDelaySeconds(attempts, retryAfter, random)).toBe(expected);
  });

  it("spends 12 retries over hours, not seconds, when the provider keeps saying Retry-After: 1", () => {
    let total = 0;
    for (let attempts = 1; attempts <= 12; attempts++) total += retryDelaySeconds(attempts, 1, low);
    // The shortest possible schedule (every jitter at its low end): about 7 hours.
    expect(total).toBeGreaterThan(6 * 3600);
  });
});
