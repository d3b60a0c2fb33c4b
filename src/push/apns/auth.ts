/**
 * The APNs provider token: a JWT (ES256) signed with the team's .p8 key.
 * Apple refuses tokens older than an hour (ExpiredProviderToken) and
 * answers 429 TooManyProviderTokenUpdates when the token changes more often
 * than every 20 minutes, so one token is shared by every isolate (see
 * credential-cache.ts) and replaced only once it is 50 minutes old: each
 * token lives 50 minutes, inside Apple's 20-to-60 window with 10 minutes to
 * spare for clock skew.
 */
import { SignJWT } from "jose";
import type { ApnsConfig } from "./config";
import type { Credential, CredentialCache } from "../credential-cache";
import type { ProviderDeps } from "../provider";

/** A provider token is used until it is this old. */
export const APNS_TOKEN_REUSE_MS = 50 * 60_000;

/** The cache name: a new key (or team) starts afresh. */
export function apnsCredentialName(config: ApnsConfig): string {
  return `apns:${config.teamId}:${config.keyId}`;
}

/** Signs a provider token issued at `now` (epoch ms); `iat` is in whole seconds, as Apple expects. */
export async function signProviderToken(config: ApnsConfig, now: number): Promise<Credential> {
  const iat = Math.floor(now / 1000);
  const value = await new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: config.keyId })
    .setIssuer(config.teamId)
    .setIssuedAt(iat)
    .sign(config.key);
  return { value, issuedAt: iat * 1000, expiresAt: iat * 1000 + APNS_TOKEN_REUSE_MS };
}

/** A usable provider token from memory, D1 or a new signature; `rejected` is one APNs just refused. */
export async function apnsProviderToken(
  config: ApnsConfig,
  deps: ProviderDeps,
  cache: CredentialCache,
  rejected?: string,
): Promise<string> {
  const credential = await cache.get(apnsCredentialName(config), () => signProviderToken(config, deps.now()), rejected);
  return credential.value;
}
