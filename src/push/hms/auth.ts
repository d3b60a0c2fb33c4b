/**
 * Huawei's app-level access token: the OAuth 2.0 client-credentials grant
 * (App ID and App Secret posted as a form), cached and shared like FCM's
 * (credential-cache.ts) until 5 minutes before it expires (Huawei: an
 * hour). A grant Huawei refuses (HTTP 4xx: a wrong App ID or App Secret)
 * is a setting to fix: `misconfigured`, with the alert, and the name held
 * for a minute so a batch does not ask the token endpoint once per push.
 */
import { log } from "../../log";
import { type Credential, CredentialCache } from "../credential-cache";
import { providerDetail } from "../detail";
import { PushFailure } from "../failure";
import { request } from "../http";
import type { ProviderDeps } from "../provider";
import { asObject, noAnswer, retryLater } from "../verdict";
import type { HmsConfig } from "./config";

/** Stop using an access token this long before Huawei says it expires. */
export const HMS_TOKEN_MARGIN_S = 300;

/** The cache name: another App ID or a rotated App Secret starts afresh (the secret only as a digest). */
export async function hmsCredentialName(config: HmsConfig): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(config.appSecret));
  const hex = Array.from(new Uint8Array(digest).slice(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  return `hms:${config.appId}:${hex}`;
}

/** What the token exchange needs besides the settings. */
export interface HmsAuth {
  deps: ProviderDeps;
  cache: CredentialCache;
}

/** A usable access token, from memory, D1 or the token endpoint; `rejected` is one Huawei just refused. */
export async function hmsAccessToken(config: HmsConfig, { deps, cache }: HmsAuth, rejected?: string): Promise<string> {
  const name = await hmsCredentialName(config);
  const credential = await cache.get(name, () => mintHmsToken(config, deps, () => cache.refused(name)), rejected);
  return credential.value;
}

/** Asks the token endpoint for a new access token; throws PushFailure with what the send should return. */
export async function mintHmsToken(config: HmsConfig, deps: ProviderDeps, hold: () => void): Promise<Credential> {
  const issuedAt = deps.now();
  const outcome = await request(deps, config.oauthUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: config.appId, client_secret: config.appSecret }).toString(),
  });
  if (outcome.kind !== "answer") throw new PushFailure(noAnswer(outcome));
  const body = asObject(outcome.body);
  if (outcome.status === 200) return credentialOf(body, issuedAt);
  if (outcome.status === 429 || outcome.status >= 500) throw new PushFailure(retryLater("oauth_unavailable", outcome.headers, deps.now()));
  // Huawei answers a bad client as {"error": 1101, "sub_error": 20068, "error_description": "invalid client"}.
  const detail = providerDetail(body.error_description, [config.appSecret]);
  log("credentials", { provider: "hms", reason: "credentials_rejected", stage: "oauth", status: outcome.status, oauth_error: String(body.error ?? ""), sub_error: String(body.sub_error ?? ""), description: detail ?? null }, "error");
  hold();
  throw new PushFailure({ kind: "misconfigured", reason: "HMS_APP_SECRET", ...(detail ? { detail } : {}) });
}

function credentialOf(body: Record<string, unknown>, issuedAt: number): Credential {
  const expiresIn = Number(body.expires_in);
  if (typeof body.access_token !== "string" || body.access_token === "" || !(expiresIn > 0)) {
    log("credentials", { provider: "hms", reason: "oauth_bad_response", status: 200 }, "warn");
    throw new PushFailure({ kind: "retry", reason: "oauth_bad_response" });
  }
  const usable = expiresIn > 2 * HMS_TOKEN_MARGIN_S ? expiresIn - HMS_TOKEN_MARGIN_S : expiresIn / 2;
  return { value: body.access_token, issuedAt, expiresAt: issuedAt + usable * 1000 };
}
