import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("GET /healthz", () => {
  it("answers 200 and names no configuration or secret", async () => {
    const response = await exports.default.fetch("https://relay.test/healthz");
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ status: "ok" });
    for (const secret of ["whsec_", "test-key-1", "acme", "DB", "PUSH_QUEUE"]) expect(text).not.toContain(secret);
  });
});
