/**
 * FCM's OAuth2 access token: a service-account assertion (JWT, RS256)
 * exchanged at the token endpoint, then cached and shared (see
 * credential-cache.ts) until 5 minutes before it expires.
 */
import { SignJWT } from "jose";
import { log } from "../../log";
import { type Credential, CredentialCache, credentialsRejected } from "../credential-cache";
import { PushFailure } from "../failure";
import type { FcmConfig } from "./config";
import { request } from "../http";
import type { ProviderDeps } from "../provider";
import { asObject, noAnswer, retryLater } from "../verdict";

export const FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
/** Google allows at most an hour between the assertion's iat and exp. */
export const ASSERTION_LIFETIME_S = 3600;
/** Stop using an access token this long before Google says it expires. */
export const ACCESS_TOKEN_MARGIN_S = 300;
const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/** The cache name: a rotated service account or key starts afresh. */
export function fcmCredentialName(config: FcmConfig): string {
  return `fcm:${config.clientEmail}:${config.privateKeyId ?? ""}`;
}

/** A usable access token, from memory, D1 or the token endpoint; `rejected` is one FCM just refused. */
export async function fcmAccessToken(
  config: FcmConfig,
  deps: ProviderDeps,
  cache: CredentialCache,
  rejected?: string,
): Promise<string> {
  const credential = await cache.get(fcmCredentialName(config), () => mintAccessToken(config, deps), rejected);
  return credential.value;
}

/** The signed assertion Google's token endpoint exchanges for an access token. */
export function signAssertion(config: FcmConfig, now: number): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({ scope: FCM_SCOPE })
    .setProtectedHeader({ alg: "RS256", typ: "JWT", ...(config.privateKeyId ? { kid: config.privateKeyId } : {}) })
    .setIssuer(config.clientEmail)
    .setAudience(config.tokenUri)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ASSERTION_LIFETIME_S)
    .sign(config.key);
}

/** Asks the token endpoint for a new access token; throws PushFailure with what the send should return. */
export async function mintAccessToken(config: FcmConfig, deps: ProviderDeps): Promise<Credential> {
  const issuedAt = deps.now();
  const assertion = await signAssertion(config, issuedAt);
  const outcome = await request(deps, config.tokenUri, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }).toString(),
  });
  if (outcome.kind !== "answer") throw new PushFailure(noAnswer(outcome));
  const body = asObject(outcome.body);
  if (outcome.status === 200) {
    const expiresIn = Number(body.expires_in);
    if (typeof body.access_token === "string" && body.access_token !== "" && expiresIn > 0) {
      // Tokens shorter-lived than twice the margin (never seen from Google) are used for half their life.
      const usable = expiresIn > 2 * ACCESS_TOKEN_MARGIN_S ? expiresIn - ACCESS_TOKEN_MARGIN_S : expiresIn / 2;
      return { value: body.access_token, issuedAt, expiresAt: issuedAt + usable * 1000 };
    }
    log("credentials", { provider: "fcm", reason: "oauth_bad_response", status: 200 }, "warn");
    throw new PushFailure({ kind: "retry", reason: "oauth_bad_response" });
  }
  if (outcome.status === 429 || outcome.status >= 500) {
    throw new PushFailure(retryLater("oauth_unavailable", outcome.headers, deps.now()));
  }
  // invalid_grant / invalid_client: the key was deleted or disabled, or the clock is off. An operator
  // must act; the sends wait for it (the cache holds the name as refused).
  log(
    "credentials",
    {
      provider: "fcm",
      reason: "credentials_rejected",
      stage: "oauth",
      status: outcome.status,
      oauth_error: typeof body.error === "string" ? body.error : null,
      description: typeof body.error_description === "string" ? body.error_description.slice(0, 200) : null,
    },
    "error",
  );
  throw new PushFailure(credentialsRejected());
}
