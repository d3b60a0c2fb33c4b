/**
 * Short-lived provider credentials (the FCM access token, the APNs provider
 * JWT), cached in this isolate's memory and shared with every other isolate
 * through the D1 `credentials` table, so a fleet of consumers mints one at a
 * time instead of one each. For APNs this is not only thrift: two different
 * JWTs within 20 minutes draw 429 TooManyProviderTokenUpdates.
 *
 * Lookup order: memory, then D1, then mint. A mint is published with a
 * compare-and-set that only replaces a stale row, followed by a read of the
 * row in the same batch: when two isolates race, both use the winner's value.
 * Concurrent callers in one isolate share a single lookup (single-flight).
 *
 * Why a bearer token may sit in D1: the database belongs to the same
 * Cloudflare account that holds the secrets the token is minted from, no
 * route of the relay ever returns it, and it is worth at most an hour.
 * Encrypting it would only guard against someone who can read this database
 * yet not reach the account's secrets, at the price of a key derivation on
 * every shared read; we judged that not worth it.
 */
import { log } from "../log";
import { PushFailure } from "./failure";
import type { PushResult } from "./provider";

export interface Credential {
  value: string;
  /** Epoch ms when it was minted. */
  issuedAt: number;
  /** Epoch ms from which no isolate uses it: ahead of the provider's own expiry. */
  expiresAt: number;
}

/**
 * What one isolate remembers: the credentials it holds, the lookups in
 * flight, and until when a credential the provider refused twice is not
 * tried again (epoch ms).
 */
export interface IsolateMemory {
  credentials: Map<string, Credential>;
  inflight: Map<string, Promise<Credential>>;
  refused: Map<string, number>;
}

/**
 * After a provider refused a fresh credential too, sends are put off for
 * this long at once, without the network, instead of minting and being
 * refused again for each of a batch's thousand pushes. They are retried,
 * not failed: a refusal can pass (a new key or service account takes a few
 * minutes to be honoured everywhere), and a fixed secret, which means a new
 * deployment with fresh isolates, then delivers them without a replay.
 */
export const REFUSED_HOLD_MS = 60_000;

type Retry = Extract<PushResult, { kind: "retry" }>;

/** What a send returns when the provider refused our credentials: try again after the hold. */
export function credentialsRejected(retryAfterMs = REFUSED_HOLD_MS): Retry {
  return { kind: "retry", reason: "credentials_rejected", retryAfter: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
}

/** A fresh, empty memory; tests use one per simulated isolate. */
export function createIsolateMemory(): IsolateMemory {
  return { credentials: new Map(), inflight: new Map(), refused: new Map() };
}

/** This isolate's memory: module state lives as long as the isolate. */
export const isolateMemory: IsolateMemory = createIsolateMemory();

/** Rows of rotated-away credentials are swept a day after they stopped being used. */
const SWEEP_AFTER_MS = 24 * 60 * 60_000;

interface Row {
  value: string;
  issued_at: number;
  expires_at: number;
}

const SELECT = "SELECT value, issued_at, expires_at FROM credentials WHERE name = ?1";

/** Caches credentials by name; `now` is the injected clock (epoch ms). */
export class CredentialCache {
  constructor(
    private readonly db: D1Database,
    private readonly now: () => number,
    private readonly memory: IsolateMemory = isolateMemory,
  ) {}

  /**
   * Records that the provider refused `name` even after a refresh, and
   * returns what the send answers: retry after the hold.
   */
  refused(name: string): Retry {
    this.memory.refused.set(name, this.now() + REFUSED_HOLD_MS);
    return credentialsRejected();
  }

  /**
   * A credential usable now, from memory, D1 or `mint` (in that order).
   * `rejected` is a value the provider just refused: it is dropped from
   * memory and, compare-and-delete by value, from D1 (so a newer value
   * another isolate already published survives), and never returned.
   * Errors of `mint` reach every caller sharing the lookup; a mint the
   * provider refuses (PushFailure `credentials_rejected`) holds `name` too.
   * While `name` is held as refused (REFUSED_HOLD_MS) it throws PushFailure
   * `credentials_rejected`, a retry after the rest of the hold, at once,
   * without D1 or the network.
   */
  async get(name: string, mint: () => Promise<Credential>, rejected?: string): Promise<Credential> {
    const heldUntil = this.memory.refused.get(name) ?? 0;
    if (heldUntil > this.now()) throw new PushFailure(credentialsRejected(heldUntil - this.now()));
    const { credentials, inflight } = this.memory;
    const good = (c: Credential) => c.value !== rejected && c.expiresAt > this.now();
    if (rejected !== undefined && credentials.get(name)?.value === rejected) credentials.delete(name);

    const cached = credentials.get(name);
    if (cached && good(cached)) return cached;
    const flying = inflight.get(name);
    if (flying) {
      const shared = await flying;
      if (good(shared)) return shared;
      // The shared lookup found the value we now know is rejected: look again ourselves.
      if (credentials.get(name)?.value === rejected) credentials.delete(name);
    }

    const flight = this.load(name, mint, good, rejected);
    inflight.set(name, flight);
    try {
      return await flight;
    } finally {
      if (inflight.get(name) === flight) inflight.delete(name);
    }
  }

  private async load(
    name: string,
    mint: () => Promise<Credential>,
    good: (c: Credential) => boolean,
    rejected: string | undefined,
  ): Promise<Credential> {
    const stored = await this.readShared(name, rejected);
    if (stored && good(stored)) {
      this.memory.credentials.set(name, stored);
      return stored;
    }
    let minted: Credential;
    try {
      minted = await mint();
    } catch (error) {
      if (error instanceof PushFailure && error.result.reason === "credentials_rejected") this.refused(name);
      throw error;
    }
    const winner = await this.publish(name, minted);
    const chosen = winner && good(winner) ? winner : minted;
    this.memory.credentials.set(name, chosen);
    return chosen;
  }

  /** The shared row, after deleting `rejected` if it is still the stored value. */
  private async readShared(name: string, rejected: string | undefined): Promise<Credential | null> {
    try {
      if (rejected === undefined) return toCredential(await this.db.prepare(SELECT).bind(name).first<Row>());
      const [, read] = await this.db.batch<Row>([
        this.db.prepare("DELETE FROM credentials WHERE name = ?1 AND value = ?2").bind(name, rejected),
        this.db.prepare(SELECT).bind(name),
      ]);
      return toCredential(read?.results[0] ?? null);
    } catch (error) {
      // Without the shared table each isolate mints its own: worse, but sends go on.
      sharedUnavailable(name, error);
      return null;
    }
  }

  /**
   * Compare-and-set: stores `minted` only if the row is missing or stale,
   * then reads what is stored, in one transaction. Null when D1 failed.
   */
  private async publish(name: string, minted: Credential): Promise<Credential | null> {
    const now = this.now();
    try {
      const results = await this.db.batch<Row>([
        this.db.prepare("DELETE FROM credentials WHERE expires_at < ?1").bind(now - SWEEP_AFTER_MS),
        this.db
          .prepare(
            `INSERT INTO credentials (name, value, issued_at, expires_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, issued_at = excluded.issued_at, expires_at = excluded.expires_at
             WHERE credentials.expires_at <= ?5`,
          )
          .bind(name, minted.value, minted.issuedAt, minted.expiresAt, now),
        this.db.prepare(SELECT).bind(name),
      ]);
      return toCredential(results[2]?.results[0] ?? null);
    } catch (error) {
      sharedUnavailable(name, error);
      return null;
    }
  }
}

function toCredential(row: Row | null): Credential | null {
  return row ? { value: row.value, issuedAt: row.issued_at, expiresAt: row.expires_at } : null;
}

function sharedUnavailable(name: string, error: unknown): void {
  // The name's prefix says which provider; the rest (account, key id) is not needed here.
  log("credentials", { provider: name.split(":")[0], reason: "shared_cache_unavailable", error: String(error) }, "warn");
}
