/**
 * Device tokens: HS256 JWTs that the company backend mints for one signed-in
 * user (itself, with a few lines of jose, or through POST /v1/device-tokens)
 * and hands to its app, so the app can register and remove that user's own
 * devices without holding a key. DEVICE_TOKEN_SECRET may list several
 * secrets (rotation): the first signs, each of them verifies.
 */
import { SignJWT, errors, jwtVerify, type JWTPayload } from "jose";
import { secretValues } from "../config";
import { MAX_ID_LENGTH, type UserIds } from "../vocabulary";
import { AuthError, ConfigurationError } from "../errors";
import { isWellFormed } from "../text";

/** The `aud` every device token must carry, so a JWT minted for anything else is refused. */
export const DEVICE_TOKEN_AUDIENCE = "learnink-push-relay";
/** The furthest ahead a token's `exp` may be: a leaked token is good for at most 30 days. */
export const MAX_TTL_SECONDS = 30 * 24 * 60 * 60;
/** What POST /v1/device-tokens mints without `ttl_seconds`: enough for one app session. */
export const DEFAULT_TTL_SECONDS = 60 * 60;
export const MIN_TTL_SECONDS = 60;
/** HS256 needs a key at least as long as its hash output, 256 bits (RFC 7518, section 3.2). */
export const MIN_SECRET_BYTES = 32;
/** Clock difference tolerated between the backend that mints and the relay that verifies. */
export const CLOCK_TOLERANCE_SECONDS = 30;

/** The user a device token speaks for: `sub` is the custom_id; `user_id` names a user without one. */
export type TokenUser = UserIds;

const encoder = new TextEncoder();

/** The configured secrets as HMAC keys; none when DEVICE_TOKEN_SECRET is unset. */
function secretKeys(configured: string | undefined): Uint8Array[] {
  const keys = secretValues(configured).map((secret) => encoder.encode(secret));
  if (keys.some((key) => key.byteLength < MIN_SECRET_BYTES)) {
    throw new ConfigurationError("DEVICE_TOKEN_SECRET", `must be at least ${MIN_SECRET_BYTES} bytes (each of its values)`);
  }
  return keys;
}

/** Why jose refused a token, in words that never quote the token itself. */
function refusal(error: unknown): AuthError {
  if (error instanceof errors.JWTExpired) return new AuthError("the device token has expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new AuthError(
      error.reason === "missing"
        ? `the device token has no "${error.claim}" claim`
        : error.claim === "aud"
          ? `the device token's "aud" claim must be "${DEVICE_TOKEN_AUDIENCE}"`
          : `the device token's "${error.claim}" claim is not acceptable`,
    );
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return new AuthError("a device token must be signed with HS256");
  return new AuthError("the device token is malformed");
}

function idClaim(payload: JWTPayload, claim: "sub" | "user_id"): string | null {
  const value = payload[claim];
  if (value === undefined) return null;
  if (typeof value !== "string" || value.trim() === "" || value.length > MAX_ID_LENGTH || !isWellFormed(value)) {
    throw new AuthError(`the device token's "${claim}" claim must be a non-empty, well-formed string of at most ${MAX_ID_LENGTH} characters`);
  }
  return value;
}

/**
 * The user a device token names. Throws AuthError (401) for a token that is
 * malformed, expired, not yet valid, for another audience, not HS256, signed
 * with none of the configured secrets, or valid for more than 30 days.
 */
export async function verifyDeviceToken(jwt: string, configured: string | undefined, now = Date.now()): Promise<TokenUser> {
  const keys = secretKeys(configured);
  if (keys.length === 0) throw new AuthError("this relay accepts no device tokens");
  let payload: JWTPayload | undefined;
  for (const key of keys) {
    try {
      ({ payload } = await jwtVerify(jwt, key, {
        algorithms: ["HS256"],
        audience: DEVICE_TOKEN_AUDIENCE,
        requiredClaims: ["exp"],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(now),
      }));
      break;
    } catch (error) {
      // Another secret may have signed it (rotation); any other failure is final.
      if (error instanceof errors.JWSSignatureVerificationFailed) continue;
      throw refusal(error);
    }
  }
  if (!payload) throw new AuthError("the device token's signature matches none of this relay's secrets");
  if (payload.exp! > now / 1000 + MAX_TTL_SECONDS + CLOCK_TOLERANCE_SECONDS) {
    throw new AuthError(`the device token's "exp" is more than ${MAX_TTL_SECONDS / 86_400} days ahead`);
  }
  const user = { custom_id: idClaim(payload, "sub"), user_id: idClaim(payload, "user_id") };
  if (user.custom_id === null && user.user_id === null) {
    throw new AuthError('the device token names no user: "sub" (the custom_id) or "user_id" is required');
  }
  return user;
}

/** A device token for `user`, signed with the first DEVICE_TOKEN_SECRET; `expiresAt` in epoch ms. */
export async function mintDeviceToken(
  user: TokenUser,
  ttlSeconds: number,
  configured: string | undefined,
  now = Date.now(),
): Promise<{ token: string; expiresAt: number }> {
  const [key] = secretKeys(configured);
  if (!key) throw new ConfigurationError("DEVICE_TOKEN_SECRET");
  const issuedAt = Math.floor(now / 1000);
  const jwt = new SignJWT(user.user_id === null ? {} : { user_id: user.user_id })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setAudience(DEVICE_TOKEN_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttlSeconds);
  if (user.custom_id !== null) jwt.setSubject(user.custom_id);
  return { token: await jwt.sign(key), expiresAt: (issuedAt + ttlSeconds) * 1000 };
}
