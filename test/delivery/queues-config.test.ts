/**
 * The queue settings in wrangler.toml (read by wrangler, in the global
 * setup): the Worker tells its two queues apart by the names in its vars,
 * so they must be the queues its consumers read, and the retry settings
 * must fit the numbers the code counts on.
 */
import { describe, expect, inject, it } from "vitest";
import { LEASE_MS } from "../../src/delivery/consumer";
import { DEAD_LETTER_MAX_RETRIES } from "../../src/delivery/dead-letter";
import { PUSH_MAX_RETRIES } from "../../src/delivery/delays";
import { MAX_DELIVERY_ATTEMPTS } from "../../src/delivery/outcomes";
import { recordRetryDelaySeconds } from "../../src/delivery/record-later";
import type {} from "../setup/provided";

const { vars, producers, consumers } = inject("wranglerQueues");
const pushConsumer = consumers.find((c) => c.queue === vars.PUSH_QUEUE_NAME);
const deadLetterConsumer = consumers.find((c) => c.queue === vars.DEAD_LETTER_QUEUE);

describe("wrangler.toml queues", () => {
  it("PUSH_QUEUE_NAME is the queue PUSH_QUEUE sends to and a consumer reads", () => {
    expect(vars.PUSH_QUEUE_NAME).toBeTruthy();
    expect(producers.find((p) => p.binding === "PUSH_QUEUE")?.queue).toBe(vars.PUSH_QUEUE_NAME);
    expect(pushConsumer).toBeDefined();
  });

  it("DEAD_LETTER_QUEUE is the push consumer's dead_letter_queue and the other consumer's queue", () => {
    expect(vars.DEAD_LETTER_QUEUE).toBeTruthy();
    expect(vars.DEAD_LETTER_QUEUE).not.toBe(vars.PUSH_QUEUE_NAME);
    expect(pushConsumer?.dead_letter_queue).toBe(vars.DEAD_LETTER_QUEUE);
    expect(deadLetterConsumer).toBeDefined();
    expect(consumers.map((c) => c.queue).sort()).toEqual([vars.PUSH_QUEUE_NAME, vars.DEAD_LETTER_QUEUE].sort());
  });

  it("the dead-letter consumer retries as often as its code counts on, with a delay, and has no queue after it", () => {
    expect(deadLetterConsumer?.max_retries).toBe(DEAD_LETTER_MAX_RETRIES);
    expect(deadLetterConsumer?.retry_delay).toBeGreaterThan(0);
    expect(deadLetterConsumer?.dead_letter_queue).toBeUndefined();
  });

  it("the push consumer retries as often as its code counts on: a delivery gets the first attempt and every retry", () => {
    expect(pushConsumer?.max_retries).toBe(PUSH_MAX_RETRIES);
    expect(MAX_DELIVERY_ATTEMPTS).toBe(PUSH_MAX_RETRIES + 1);
  });

  it("a record message's retries on the push queue end inside the claim's lease", () => {
    const retries = pushConsumer?.max_retries ?? 3;
    const total = Array.from({ length: retries }, (_, i) => recordRetryDelaySeconds(i + 1)).reduce((a, b) => a + b, 0);
    expect(total * 1000).toBeLessThan(LEASE_MS);
  });
});
