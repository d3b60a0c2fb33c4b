import { describe, expect, it } from "vitest";
import { collapseKey, MAX_COLLAPSE_KEY_BYTES } from "../../src/push/collapse-key";

describe("collapseKey", () => {
  it("is the event id and index when short", async () => {
    expect(await collapseKey("msg_2abc", 3)).toBe("msg_2abc:3");
  });

  it("is the same for every send of a notification and differs between notifications", async () => {
    expect(await collapseKey("msg_x", 0)).toBe(await collapseKey("msg_x", 0));
    expect(await collapseKey("msg_x", 0)).not.toBe(await collapseKey("msg_x", 1));
  });

  it("keeps a key of exactly 64 bytes", async () => {
    const eventId = "m".repeat(MAX_COLLAPSE_KEY_BYTES - 2);
    expect(await collapseKey(eventId, 7)).toBe(`${eventId}:7`);
  });

  it("hashes a longer key into 64 hex characters, stable and distinct per index", async () => {
    const eventId = "m".repeat(MAX_COLLAPSE_KEY_BYTES - 1);
    const key = await collapseKey(eventId, 7);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(await collapseKey(eventId, 7)).toBe(key);
    expect(await collapseKey(eventId, 8)).not.toBe(key);
  });

  it("hashes keys that are not plain ASCII (headers cannot carry them)", async () => {
    expect(await collapseKey("msg_é", 0)).toMatch(/^[0-9a-f]{64}$/);
    expect(await collapseKey("msg 1", 0)).toMatch(/^[0-9a-f]{64}$/);
  });
});
