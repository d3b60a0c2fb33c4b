/**
 * Who the stand-ins trust and what they have issued: service accounts (the
 * public half of each key), the access tokens handed out by /token, the
 * APNs keys with the provider tokens seen for each (to count rotations),
 * and Expo access tokens with the token prefixes that require one.
 * (OneSignal's app keys live with the apps, in onesignal-apps.ts.)
 */
import { randomBytes } from "node:crypto";
import { importJWK, type CryptoKey } from "jose";
import type { ApnsKeyRegistration, ServiceAccountRegistration, StandinKeys } from "./types.ts";

/** Google's `expires_in` for a service-account access token. */
const GOOGLE_TOKEN_TTL_SECONDS = 3599;
/** Expired tokens are swept once this many have been issued since the last sweep. */
const SWEEP_EVERY = 10_000;

export interface ServiceAccountEntry {
  client_email: string;
  project_id: string;
  private_key_id: string | undefined;
  key: CryptoKey;
  tokenTtlSeconds: number;
}

export interface AccessTokenEntry {
  client_email: string;
  project_id: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface ApnsKeyEntry {
  key_id: string;
  team_id: string;
  topic: string;
  key: CryptoKey;
  /** The provider token in use, and when it last replaced another (epoch ms). */
  current: string | undefined;
  lastChangeAt: number | undefined;
  /** Distinct valid provider tokens seen. */
  jwtsSeen: Set<string>;
}

export class Credentials {
  readonly serviceAccounts = new Map<string, ServiceAccountEntry>();
  readonly apnsKeys = new Map<string, ApnsKeyEntry>();
  /** Expo access tokens: a request may carry one as `Authorization: Bearer`. */
  readonly expoAccessTokens = new Set<string>();
  /** Expo device-token prefixes whose project has "enhanced push security" on. */
  readonly expoSecuredPrefixes = new Set<string>();
  #accessTokens = new Map<string, AccessTokenEntry>();
  #issuedSinceSweep = 0;

  async addServiceAccount(registration: ServiceAccountRegistration): Promise<void> {
    this.serviceAccounts.set(registration.client_email, {
      client_email: registration.client_email,
      project_id: registration.project_id,
      private_key_id: registration.private_key_id,
      key: (await importJWK(registration.public_jwk, "RS256")) as CryptoKey,
      tokenTtlSeconds: registration.token_ttl_seconds ?? GOOGLE_TOKEN_TTL_SECONDS,
    });
  }

  async addApnsKey(registration: ApnsKeyRegistration): Promise<void> {
    this.apnsKeys.set(registration.key_id, {
      key_id: registration.key_id,
      team_id: registration.team_id,
      topic: registration.topic,
      key: (await importJWK(registration.public_jwk, "ES256")) as CryptoKey,
      current: undefined,
      lastChangeAt: undefined,
      jwtsSeen: new Set(),
    });
  }

  /** Trusts the keys the stand-ins were started with. */
  async addStartingKeys(keys: StandinKeys): Promise<void> {
    await this.addServiceAccount({
      client_email: keys.serviceAccount.client_email,
      project_id: keys.serviceAccount.project_id,
      private_key_id: keys.serviceAccount.private_key_id,
      public_jwk: keys.fcmPublicJwk,
    });
    await this.addApnsKey({
      key_id: keys.apns.keyId,
      team_id: keys.apns.teamId,
      topic: keys.apns.topic,
      public_jwk: keys.apns.publicJwk,
    });
    this.expoAccessTokens.add(keys.expo.accessToken);
  }

  /** True when a request with this device token needs an access token (a secured prefix matches it). */
  expoTokenRequired(token: string): boolean {
    for (const prefix of this.expoSecuredPrefixes) if (token.startsWith(prefix)) return true;
    return false;
  }

  /** A new opaque access token for `account`, and its lifetime in seconds. */
  issueAccessToken(account: ServiceAccountEntry, nowMs: number): { token: string; expiresIn: number } {
    if (++this.#issuedSinceSweep >= SWEEP_EVERY) this.#sweep(nowMs);
    const token = `ya29.standin.${randomBytes(32).toString("base64url")}`;
    this.#accessTokens.set(token, {
      client_email: account.client_email,
      project_id: account.project_id,
      expiresAt: nowMs + account.tokenTtlSeconds * 1000,
    });
    return { token, expiresIn: Math.floor(account.tokenTtlSeconds) };
  }

  accessToken(token: string): AccessTokenEntry | undefined {
    return this.#accessTokens.get(token);
  }

  #sweep(nowMs: number): void {
    this.#issuedSinceSweep = 0;
    for (const [token, entry] of this.#accessTokens) if (entry.expiresAt <= nowMs) this.#accessTokens.delete(token);
  }
}
