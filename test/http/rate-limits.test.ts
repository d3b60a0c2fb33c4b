/**
 * The API's rate limits, through the Rate Limiting bindings that
 * wrangler.toml declares (simulated by Miniflare): device writes per user and
 * per client address, failed authentications per address, each answering
 * 429 `rate_limited` with `Retry-After`, and the failure limit recovering
 * once its period is over.
 */
import { describe, expect, it } from "vitest";
import { runPool } from "../../src/pool";
import { RATE_LIMITS } from "../../src/http/rate-limit-config";
import { clientAddress } from "../../src/http/rate-limits";
import { REGISTER_KEY, deviceToken } from "../support/device-tokens";
import { API_KEY, api, fcmToken, uniqueId } from "../support/webhook";

/** A random private address (RFC 1918), so no other test shares its counters. */
const freshAddress = () => `10.${[...crypto.getRandomValues(new Uint8Array(3))].join(".")}`;

const from = (address: string, key: string | null, init: { method?: string; json?: unknown } = {}) => (path: string) =>
  api(path, { ...init, key, headers: { "cf-connecting-ip": address } });

async function codeOf(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

describe("clientAddress", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::9", "2001:db8:1:2::/64"],
    ["2001:DB8::1", "2001:db8:0:0::/64"],
    ["2001:db8:0:0:ffff::1%eth0", "2001:db8:0:0::/64"],
    ["::ffff:198.51.100.4", "198.51.100.4"],
    [null, null],
  ])("keys %s as %s", (header, expected) => {
    const headers: Record<string, string> = header === null ? {} : { "cf-connecting-ip": header };
    expect(clientAddress(new Request("https://relay.test/", { headers }))).toBe(expected);
  });
});

describe("rate limits", () => {
  const perUser = RATE_LIMITS.REGISTRATIONS_PER_USER;
  const perClient = RATE_LIMITS.REGISTRATIONS_PER_CLIENT;
  const failures = RATE_LIMITS.AUTH_FAILURES_PER_CLIENT;

  it(`allow ${perUser.limit} device writes per user a minute, for device tokens and register keys, not admin keys`, async () => {
    const user = uniqueId("emp");
    const address = freshAddress();
    const asUser = await deviceToken({ sub: user });
    const register = (key: string) => from(address, key, { method: "PUT", json: { custom_id: user, provider: "fcm", token: fcmToken() } })("/v1/devices");
    for (let i = 0; i < perUser.limit - 1; i++) expect((await register(asUser)).status).toBe(201);
    // The register key speaks for the same user: it counts too.
    expect((await register(REGISTER_KEY)).status).toBe(201);

    for (const key of [asUser, REGISTER_KEY]) {
      const refused = await register(key);
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toBe(String(perUser.period));
      expect(await codeOf(refused)).toBe("rate_limited");
    }
    const removal = await from(address, asUser, { method: "DELETE" })(`/v1/devices/${uniqueId("gone")}`);
    expect(removal.status).toBe(429);

    // The operator's key is not limited; another user from the same address is not either.
    expect((await register(API_KEY)).status).toBe(201);
    const other = await from(address, await deviceToken({ sub: uniqueId("emp") }), { method: "PUT", json: { provider: "fcm", token: fcmToken() } })("/v1/devices");
    expect(other.status).toBe(201);
  });

  it(`allow ${perClient.limit} device writes a minute from one address (an IPv6 /64 is one address), for device tokens`, async () => {
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:${Math.floor(Math.random() * 0xffff).toString(16)}`;
    const unknownToken = () => uniqueId("gone").toLowerCase();
    const remove = async (address: string) =>
      from(address, await deviceToken({ sub: uniqueId("emp") }), { method: "DELETE" })(`/v1/devices/${unknownToken()}`);
    // Miniflare counts in windows aligned to the clock: all of the limit must land in one, so start
    // early in a window and send 20 at a time (a loaded machine takes seconds for 300 one by one).
    const periodMs = perClient.period * 1000;
    if (periodMs - (Date.now() % periodMs) < 15_000) await new Promise((resolve) => setTimeout(resolve, periodMs - (Date.now() % periodMs) + 50));
    const statuses: number[] = [];
    await runPool(Array.from({ length: perClient.limit }, (_, i) => i), 20, async (i) => {
      // Different addresses of the same /64.
      statuses.push((await remove(`${prefix}::${(i + 1).toString(16)}`)).status);
    });
    expect(statuses.filter((status) => status !== 404)).toEqual([]);
    const refused = await remove(`${prefix}:1:2:3:4`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe(String(perClient.period));
    expect(await codeOf(refused)).toBe("rate_limited");

    // Another /64 is another client; the company backend's register key is counted per user, not per address.
    expect((await remove(`2001:db8:ffff:${Math.floor(Math.random() * 0xffff).toString(16)}::1`)).status).toBe(404);
    expect((await from(`${prefix}::1`, REGISTER_KEY, { method: "DELETE" })(`/v1/devices/${unknownToken()}`)).status).toBe(404);
  }, 60_000);

  it(`refuse an address after ${failures.limit} failed authentications in ${failures.period} s, any credential, until the period is over`, async () => {
    const address = freshAddress();
    const neighbour = freshAddress();
    const stats = (key: string | null, at = address) => from(at, key)("/v1/stats");
    // Miniflare counts in windows aligned to the clock: start early in one, so the failures all land in it.
    const periodMs = failures.period * 1000;
    if (periodMs - (Date.now() % periodMs) < 4000) await new Promise((resolve) => setTimeout(resolve, periodMs - (Date.now() % periodMs) + 50));

    // Valid credentials beyond their scope (403) are not failures.
    for (let i = 0; i < failures.limit + 2; i++) expect((await stats(REGISTER_KEY)).status).toBe(403);
    for (let i = 0; i < failures.limit; i++) {
      const response = await stats(i % 2 === 0 ? "wrong-key" : await deviceToken({ sub: "x" }, { secret: "a-secret-the-relay-does-not-know-0123456789" }));
      expect(response.status).toBe(401);
    }
    const limited = await stats("wrong-key");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe(String(failures.period));
    expect(await codeOf(limited)).toBe("rate_limited");
    const started = Date.now();

    // Now even the right key is refused from that address, before it is checked; other addresses are not.
    const blocked = await stats(API_KEY);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(blocked.headers.get("retry-after"))).toBeLessThanOrEqual(failures.period);
    expect((await stats(API_KEY, neighbour)).status).toBe(200);

    // Once the period is over, the address is back to normal.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + periodMs - Date.now()) + 100));
    expect((await stats(API_KEY)).status).toBe(200);
    expect((await stats("wrong-key")).status).toBe(401);
  }, 30_000);
});
