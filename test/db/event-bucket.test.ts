import { describe, expect, it } from "vitest";
import { eventBucket, ksuidSeconds } from "../../src/db/doc";
import { newMessageId } from "../../standins/learnink.ts";

const DAY = 86_400_000;
/** The example message id of Svix's documentation: a KSUID made on 2021-05-21 at 20:04:03 UTC. */
const SVIX_EXAMPLE = { id: "msg_1srOrx2ZWZBpBUvZwXKQmoEYga2", at: Date.parse("2021-05-21T20:04:03Z") };

describe("an event's bucket: its own time, the same for every delivery of it", () => {
  it("reads the second a Svix message id was made", () => {
    expect(ksuidSeconds(SVIX_EXAMPLE.id, SVIX_EXAMPLE.at + 60_000)).toBe(SVIX_EXAMPLE.at / 1000);
    const now = Date.now();
    expect(ksuidSeconds(newMessageId(now - 5_000), now)).toBe(Math.floor((now - 5_000) / 1000));
  });

  it("takes an id's time only within the retention window before it came, and an hour after", () => {
    expect(ksuidSeconds(SVIX_EXAMPLE.id, SVIX_EXAMPLE.at + 30 * DAY)).toBe(SVIX_EXAMPLE.at / 1000);
    expect(ksuidSeconds(SVIX_EXAMPLE.id, SVIX_EXAMPLE.at + 32 * DAY)).toBeNull();
    expect(ksuidSeconds(SVIX_EXAMPLE.id, SVIX_EXAMPLE.at - 2 * 3_600_000)).toBeNull();
    expect(ksuidSeconds("msg_not-a-ksuid", Date.now())).toBeNull();
    expect(ksuidSeconds("evt_1srOrx2ZWZBpBUvZwXKQmoEYga2", SVIX_EXAMPLE.at)).toBeNull();
  });

  it("falls back to the envelope's timestamp, then to when the webhook came", () => {
    const came = Date.parse("2026-12-07T10:00:00.500Z");
    expect(eventBucket(SVIX_EXAMPLE.id, "2026-12-07T09:59:58Z", came)).toBe(Date.parse("2026-12-07T09:59:58Z") / 1000);
    expect(eventBucket("evt-42", "2026-12-07T09:59:58.900Z", came)).toBe(Date.parse("2026-12-07T09:59:58Z") / 1000);
    expect(eventBucket("evt-42", "2020-01-01T00:00:00Z", came)).toBe(Math.floor(came / 1000));
    expect(eventBucket("evt-42", "yesterday", came)).toBe(Math.floor(came / 1000));
    expect(eventBucket("evt-42", undefined, came)).toBe(Math.floor(came / 1000));
  });

  it("is the same for a repeated delivery of the event, whenever it comes within the window", () => {
    const made = Date.now() - DAY;
    const id = newMessageId(made);
    const first = eventBucket(id, new Date(made).toISOString(), made + 1_000);
    expect(eventBucket(id, new Date(made).toISOString(), made + 5 * 3_600_000)).toBe(first);
    expect(eventBucket(id, new Date(made).toISOString(), made + 10 * DAY)).toBe(first);
  });
});
