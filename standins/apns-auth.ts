/**
 * Checks an APNs provider token (JWT) as Apple does: ES256 signed by a
 * registered key (`kid`), `iss` = that key's team, `iat` no older than an
 * hour; and counts token changes per key, because Apple answers
 * TooManyProviderTokenUpdates when a key's token changes more than once in
 * 20 minutes. Verified tokens are cached by their exact text, so a
 * benchmark's thousands of pushes cost one signature check.
 */
import { compactVerify, decodeProtectedHeader } from "jose";
import type { ApnsKeyEntry, Credentials } from "./credentials.ts";

const MAX_AGE_SECONDS = 3600;
const SKEW_SECONDS = 60;
/** Apple: refresh a provider token no more than once every 20 minutes. */
export const MIN_UPDATE_INTERVAL_MS = 20 * 60 * 1000;
const CACHE_LIMIT = 10_000;

export type ProviderTokenCheck =
  | { ok: true; key: ApnsKeyEntry }
  | {
      ok: false;
      status: 403 | 429;
      reason: "MissingProviderToken" | "InvalidProviderToken" | "ExpiredProviderToken" | "TooManyProviderTokenUpdates";
    };

interface Verified {
  key: ApnsKeyEntry;
  iat: number;
}

const invalid = { ok: false, status: 403, reason: "InvalidProviderToken" } as const;

export class ProviderTokens {
  #credentials: Credentials;
  #verified = new Map<string, Verified>();

  constructor(credentials: Credentials) {
    this.#credentials = credentials;
  }

  async #verify(jwt: string): Promise<Verified | null> {
    const cached = this.#verified.get(jwt);
    // A key registered again under the same id invalidates what its old self signed.
    if (cached && this.#credentials.apnsKeys.get(cached.key.key_id) === cached.key) return cached;
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(jwt).kid;
    } catch {
      return null;
    }
    const key = typeof kid === "string" ? this.#credentials.apnsKeys.get(kid) : undefined;
    if (!key) return null;
    let claims: { iss?: unknown; iat?: unknown };
    try {
      const { payload } = await compactVerify(jwt, key.key, { algorithms: ["ES256"] });
      claims = JSON.parse(new TextDecoder().decode(payload)) as typeof claims;
    } catch {
      return null;
    }
    if (claims.iss !== key.team_id || typeof claims.iat !== "number") return null;
    if (this.#verified.size >= CACHE_LIMIT) this.#verified.clear();
    const verified = { key, iat: claims.iat };
    this.#verified.set(jwt, verified);
    key.jwtsSeen.add(jwt);
    return verified;
  }

  /** Checks the `authorization` header of a push at `nowMs`. */
  async check(authorization: string | undefined, nowMs: number): Promise<ProviderTokenCheck> {
    const match = authorization === undefined ? null : /^bearer\s+(\S+)$/i.exec(authorization);
    if (!match?.[1]) return { ok: false, status: 403, reason: "MissingProviderToken" };
    const jwt = match[1];
    const verified = await this.#verify(jwt);
    if (!verified) return invalid;
    const nowSeconds = nowMs / 1000;
    if (verified.iat > nowSeconds + SKEW_SECONDS) return invalid;
    if (nowSeconds - verified.iat > MAX_AGE_SECONDS) return { ok: false, status: 403, reason: "ExpiredProviderToken" };
    if (!adopt(verified.key, jwt, nowMs)) return { ok: false, status: 429, reason: "TooManyProviderTokenUpdates" };
    return { ok: true, key: verified.key };
  }
}

/**
 * Makes `jwt` the key's current token unless that would be its second
 * change within 20 minutes; a key's first token is not a change.
 */
function adopt(key: ApnsKeyEntry, jwt: string, nowMs: number): boolean {
  if (key.current === jwt) return true;
  if (key.current !== undefined) {
    if (key.lastChangeAt !== undefined && nowMs - key.lastChangeAt < MIN_UPDATE_INTERVAL_MS) return false;
    key.lastChangeAt = nowMs;
  }
  key.current = jwt;
  return true;
}
