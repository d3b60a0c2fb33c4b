import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { type Credential, CredentialCache, createIsolateMemory } from "../../src/push/credential-cache";
import { clock, MINUTE } from "../support/push";

let n = 0;
const uniqueName = () => `test:${crypto.randomUUID()}`;

/** A mint that counts its calls and returns distinct values living `life` ms. */
function minter(time: { now: () => number }, life = 50 * MINUTE) {
  const mint = vi.fn(async (): Promise<Credential> => {
    const issuedAt = time.now();
    return { value: `token-${++n}`, issuedAt, expiresAt: issuedAt + life };
  });
  return mint;
}

/** Another isolate: the same D1, its own memory. */
const isolate = (now: () => number) => new CredentialCache(env.DB, now, createIsolateMemory());

async function storedValue(name: string): Promise<string | null> {
  return env.DB.prepare("SELECT value FROM credentials WHERE name = ?1").bind(name).first<string>("value");
}

describe("CredentialCache", () => {
  it("mints once, then serves from memory until the credential is stale", async () => {
    const time = clock();
    const cache = isolate(time.now);
    const mint = minter(time);
    const name = uniqueName();
    const first = await cache.get(name, mint);
    time.advance(49 * MINUTE);
    expect((await cache.get(name, mint)).value).toBe(first.value);
    expect(mint).toHaveBeenCalledTimes(1);
    time.advance(MINUTE);
    expect((await cache.get(name, mint)).value).not.toBe(first.value);
    expect(mint).toHaveBeenCalledTimes(2);
  });

  it("shares through D1: a second isolate uses the first one's credential without minting", async () => {
    const time = clock();
    const name = uniqueName();
    const first = await isolate(time.now).get(name, minter(time));
    const secondMint = minter(time);
    expect((await isolate(time.now).get(name, secondMint)).value).toBe(first.value);
    expect(secondMint).not.toHaveBeenCalled();
    expect(await storedValue(name)).toBe(first.value);
  });

  it("replaces a stale shared credential", async () => {
    const time = clock();
    const name = uniqueName();
    const old = await isolate(time.now).get(name, minter(time));
    time.advance(50 * MINUTE);
    const fresh = await isolate(time.now).get(name, minter(time));
    expect(fresh.value).not.toBe(old.value);
    expect(await storedValue(name)).toBe(fresh.value);
  });

  it("makes concurrent callers in one isolate share a single lookup", async () => {
    const time = clock();
    const cache = isolate(time.now);
    const mint = minter(time);
    const name = uniqueName();
    const values = await Promise.all(Array.from({ length: 6 }, () => cache.get(name, mint)));
    expect(mint).toHaveBeenCalledTimes(1);
    expect(new Set(values.map((c) => c.value)).size).toBe(1);
  });

  it("leaves two racing isolates using the winner's credential", async () => {
    const time = clock();
    const name = uniqueName();
    // Both isolates find nothing in D1 and mint; neither publishes before both have minted.
    let release!: () => void;
    const bothMinted = new Promise<void>((resolve) => (release = resolve));
    let minted = 0;
    const slowMint = (value: string) => async (): Promise<Credential> => {
      if (++minted === 2) release();
      await bothMinted;
      return { value, issuedAt: time.now(), expiresAt: time.now() + 50 * MINUTE };
    };
    const [a, b] = await Promise.all([
      isolate(time.now).get(name, slowMint("from-a")),
      isolate(time.now).get(name, slowMint("from-b")),
    ]);
    expect(minted).toBe(2);
    expect(a.value).toBe(b.value);
    expect(await storedValue(name)).toBe(a.value);
  });

  it("drops a rejected credential everywhere and mints a new one", async () => {
    const time = clock();
    const name = uniqueName();
    const cache = isolate(time.now);
    const mint = minter(time);
    const rejected = await cache.get(name, mint);
    const renewed = await cache.get(name, mint, rejected.value);
    expect(renewed.value).not.toBe(rejected.value);
    expect(mint).toHaveBeenCalledTimes(2);
    expect(await storedValue(name)).toBe(renewed.value);
    // Another isolate sees the new one.
    expect((await isolate(time.now).get(name, minter(time))).value).toBe(renewed.value);
  });

  it("deletes by value: a newer credential another isolate published survives a late rejection", async () => {
    const time = clock();
    const name = uniqueName();
    const a = isolate(time.now);
    const old = await a.get(name, minter(time));
    // Isolate B had the old one refused first and published a new one.
    const b = isolate(time.now);
    await b.get(name, minter(time));
    const newer = await b.get(name, minter(time), old.value);
    // A now has the old one refused too: it adopts B's, minting nothing.
    const aMint = minter(time);
    expect((await a.get(name, aMint, old.value)).value).toBe(newer.value);
    expect(aMint).not.toHaveBeenCalled();
    expect(await storedValue(name)).toBe(newer.value);
  });

  it("shares one renewal among concurrent callers that saw the same rejection", async () => {
    const time = clock();
    const cache = isolate(time.now);
    const mint = minter(time);
    const name = uniqueName();
    const rejected = await cache.get(name, mint);
    const values = await Promise.all(Array.from({ length: 4 }, () => cache.get(name, mint, rejected.value)));
    expect(mint).toHaveBeenCalledTimes(2);
    expect(new Set(values.map((c) => c.value)).size).toBe(1);
  });

  it("gives every caller sharing a lookup the mint's error, and tries again afterwards", async () => {
    const time = clock();
    const cache = isolate(time.now);
    const name = uniqueName();
    const failing = vi.fn(async (): Promise<Credential> => {
      throw new Error("token endpoint down");
    });
    const results = await Promise.allSettled([cache.get(name, failing), cache.get(name, failing)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(failing).toHaveBeenCalledTimes(1);
    const mint = minter(time);
    await cache.get(name, mint);
    expect(mint).toHaveBeenCalledTimes(1);
  });

  it("keeps sending from memory when D1 is unavailable", async () => {
    const time = clock();
    const broken = {
      prepare() {
        throw new Error("D1 unavailable");
      },
      batch() {
        throw new Error("D1 unavailable");
      },
    } as unknown as D1Database;
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const cache = new CredentialCache(broken, time.now, createIsolateMemory());
    const mint = minter(time);
    const name = uniqueName();
    const first = await cache.get(name, mint);
    expect((await cache.get(name, mint)).value).toBe(first.value);
    expect(mint).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls.map(([line]) => JSON.parse(String(line)).reason)).toContain("shared_cache_unavailable");
    warn.mockRestore();
  });

  it("sweeps credentials that stopped being used over a day ago", async () => {
    const time = clock();
    const old = uniqueName();
    await isolate(time.now).get(old, minter(time));
    time.advance(50 * MINUTE + 24 * 60 * MINUTE + 1);
    await isolate(time.now).get(uniqueName(), minter(time));
    expect(await storedValue(old)).toBeNull();
  });
});
