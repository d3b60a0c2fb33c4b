/**
 * Every route but the webhook reads at most 64 KB of body, the console's
 * unauthenticated sign-in included: beyond it, 413 before the body is
 * parsed, whether the length is declared or the body streams in.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../src/http/body-limit";
import { API_KEY, RELAY, errorOf } from "../support/webhook";

const oversized = "x".repeat(MAX_BODY_BYTES + 1);

/** A body with no declared length: it has to be counted as it arrives. */
function streamed(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.slice(i, i + 8192));
      controller.close();
    },
  });
}

describe("64 KB body limit", () => {
  it.each([
    ["PUT", "/v1/devices", "application/json"],
    ["POST", "/v1/device-tokens", "application/json"],
    ["POST", "/v1/quarantine/restore", "application/json"],
    ["POST", "/admin/login", "application/x-www-form-urlencoded"],
  ])("%s %s answers 413 payload_too_large", async (method, path, type) => {
    for (const body of [oversized, streamed(oversized)]) {
      const response = await exports.default.fetch(`${RELAY}${path}`, {
        method,
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": type, origin: RELAY },
        body,
        redirect: "manual",
      });
      expect(response.status).toBe(413);
      // Refused before any route (the console's included) reads it: the answer is the API's JSON error.
      expect((await errorOf(response)).code).toBe("payload_too_large");
    }
  });

  it("leaves a body at the limit to the route", async () => {
    const response = await exports.default.fetch(`${RELAY}/v1/devices`, {
      method: "PUT",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: " ".repeat(MAX_BODY_BYTES - 2) + "{}",
    });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe("invalid_request");
  });
});
