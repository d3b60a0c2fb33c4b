/**
 * Stand-in for Google's OAuth2 token endpoint (`token_uri`): exchanges a
 * service account's signed assertion (RFC 7523 JWT bearer grant) for an
 * access token, refusing what Google refuses: a wrong signature or key id,
 * a foreign audience, a missing scope, and an assertion not short-lived
 * (exp - iat over an hour) or outside its time window.
 */
import { compactVerify, decodeJwt, decodeProtectedHeader } from "jose";
import type { StandinContext } from "./context.ts";
import { oauthError } from "./google-errors.ts";
import { json, type Answer } from "./http.ts";

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
const SKEW_SECONDS = 60;
const MAX_LIFETIME_SECONDS = 3600;

const BAD_SIGNATURE = "Invalid JWT Signature.";
const BAD_TIMEFRAME =
  "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";

/** `POST /token` with a form body. */
export async function handleToken(context: StandinContext, body: Buffer): Promise<Answer> {
  const form = new URLSearchParams(body.toString("utf8"));
  const grantType = form.get("grant_type");
  if (grantType === null) return oauthError("invalid_request", "Missing required parameter: grant_type");
  if (grantType !== JWT_BEARER) return oauthError("unsupported_grant_type", `Invalid grant_type: ${grantType}`);
  const assertion = form.get("assertion");
  if (!assertion) return oauthError("invalid_request", "Missing required parameter: assertion");

  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: ReturnType<typeof decodeJwt>;
  try {
    header = decodeProtectedHeader(assertion);
    unverified = decodeJwt(assertion);
  } catch {
    return oauthError("invalid_grant", BAD_SIGNATURE);
  }
  const account = typeof unverified.iss === "string" ? context.credentials.serviceAccounts.get(unverified.iss) : undefined;
  if (!account) return oauthError("invalid_grant", "Invalid grant: account not found");
  if (header.alg !== "RS256") return oauthError("invalid_grant", BAD_SIGNATURE);
  if (header.kid !== undefined && account.private_key_id !== undefined && header.kid !== account.private_key_id) {
    return oauthError("invalid_grant", BAD_SIGNATURE);
  }
  try {
    await compactVerify(assertion, account.key, { algorithms: ["RS256"] });
  } catch {
    return oauthError("invalid_grant", BAD_SIGNATURE);
  }

  // The signature holds, so the decoded claims are the signed ones.
  const claims = unverified;
  const audience = `${context.url}/token`;
  if (claims.aud !== audience) {
    return oauthError("invalid_grant", `Invalid JWT: Failed audience check. The right audience is ${audience}`);
  }
  const scopes = typeof claims.scope === "string" ? claims.scope.split(/\s+/) : [];
  if (!scopes.includes(FCM_SCOPE)) return oauthError("invalid_scope", "Invalid OAuth scope or ID token audience provided.");
  const nowSeconds = context.now() / 1000;
  const { iat, exp } = claims;
  if (typeof iat !== "number" || typeof exp !== "number") return oauthError("invalid_grant", BAD_TIMEFRAME);
  if (iat > nowSeconds + SKEW_SECONDS || exp <= nowSeconds || exp - iat > MAX_LIFETIME_SECONDS || exp <= iat) {
    return oauthError("invalid_grant", BAD_TIMEFRAME);
  }

  const { token, expiresIn } = context.credentials.issueAccessToken(account, context.now());
  context.records.countTokenRequest(account.client_email);
  return json(200, { access_token: token, expires_in: expiresIn, token_type: "Bearer" });
}
