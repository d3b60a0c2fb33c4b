import { afterEach, describe, expect, it, vi } from "vitest";
import { request } from "../../src/push/http";

afterEach(() => vi.restoreAllMocks());

const deps = (fetch: typeof globalThis.fetch, timeoutMs = 1_000) => ({ fetch, now: Date.now, timeoutMs });

describe("request", () => {
  it("reads the whole body and clears its timer as soon as the answer is in", async () => {
    const cleared = vi.spyOn(globalThis, "clearTimeout");
    let response: Response | undefined;
    const outcome = await request(
      deps(async () => (response = new Response('{"name":"n"}', { status: 200 }))),
      "https://x.test",
      { method: "POST" },
    );
    expect(outcome).toMatchObject({ kind: "answer", status: 200, body: { name: "n" } });
    expect(response!.bodyUsed).toBe(true);
    expect(cleared).toHaveBeenCalledTimes(1);
  });

  it("keeps a body that is not JSON as text, and an empty one as null", async () => {
    expect(await request(deps(async () => new Response("<html>", { status: 502 })), "https://x.test", {})).toMatchObject({ body: "<html>" });
    expect(await request(deps(async () => new Response(null, { status: 200 })), "https://x.test", {})).toMatchObject({ body: null });
  });

  it("aborts a request that takes too long and says so", async () => {
    let signal: AbortSignal | undefined;
    const hanging = (_: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_, reject) => {
        signal = init?.signal ?? undefined;
        signal?.addEventListener("abort", () => reject(signal!.reason));
      });
    expect(await request(deps(hanging, 20), "https://x.test", {})).toEqual({ kind: "timeout" });
    expect(signal?.aborted).toBe(true);
  });

  it("reports a failed connection as network_error", async () => {
    const failing = async () => {
      throw new TypeError("Network connection lost.");
    };
    expect(await request(deps(failing), "https://x.test", {})).toEqual({ kind: "network_error", error: "Network connection lost." });
  });
});
