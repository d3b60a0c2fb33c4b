/**
 * Device tokens made in the test the way a company backend makes them (jose,
 * HS256), plus the variants the relay must refuse: another secret, another
 * algorithm, `alg: none`, claims out of bounds.
 */
import { env } from "cloudflare:workers";
import { SignJWT, base64url } from "jose";

/** The relay's DEVICE_TOKEN_SECRET values in the test configuration: the first signs, both verify. */
export const DEVICE_SECRETS = env.DEVICE_TOKEN_SECRET.split(" ");
/** The first RELAY_REGISTER_KEY of the test configuration. */
export const REGISTER_KEY = env.RELAY_REGISTER_KEY.split(" ")[0]!;
export const AUDIENCE = "learnink-push-relay";

export interface TokenOptions {
  /** Signing secret (text); defaults to the relay's first. */
  secret?: string;
  alg?: "HS256" | "HS384" | "HS512";
  aud?: string | null;
  /** Seconds from now; null leaves `exp` out. Default 3600. */
  expIn?: number | null;
  /** Seconds from now for `nbf`. */
  nbfIn?: number;
  /** Extra or overriding claims. */
  claims?: Record<string, unknown>;
}

/** A device token for a user named by `sub` (custom_id) and/or a `user_id` claim. */
export async function deviceToken(user: { sub?: string; user_id?: string }, options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ ...(user.user_id === undefined ? {} : { user_id: user.user_id }), ...options.claims })
    .setProtectedHeader({ alg: options.alg ?? "HS256", typ: "JWT" })
    .setIssuedAt(now);
  if (options.aud !== null) jwt.setAudience(options.aud ?? AUDIENCE);
  if (options.expIn !== null) jwt.setExpirationTime(now + (options.expIn ?? 3600));
  if (options.nbfIn !== undefined) jwt.setNotBefore(now + options.nbfIn);
  if (user.sub !== undefined) jwt.setSubject(user.sub);
  return jwt.sign(new TextEncoder().encode(options.secret ?? DEVICE_SECRETS[0]));
}

/** An unsigned token (`alg: none`, empty signature) with otherwise valid claims. */
export function unsignedToken(sub: string): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => base64url.encode(JSON.stringify(value));
  return `${part({ alg: "none", typ: "JWT" })}.${part({ sub, aud: AUDIENCE, iat: now, exp: now + 3600 })}.`;
}
