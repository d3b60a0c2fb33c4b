/**
 * The company backend's half of push registration, as a small handler any
 * backend that speaks fetch's Request and Response can mount (Node 18+,
 * Cloudflare Workers, Deno, Bun; Express through an adapter): the app of a
 * signed-in user asks for a device token, and registers its push token
 * with the relay itself (PUT /v1/devices with `Authorization: Bearer
 * <device token>`). The token is an HS256 JWT signed with the relay's
 * DEVICE_TOKEN_SECRET, `aud` "learnink-push-relay", `sub` the user's
 * custom_id (or a `user_id` claim for a user without one), `exp` at most
 * 30 days ahead: exactly what the relay checks. No relay key ships in the
 * app. test/examples/device-token.test.ts feeds its tokens to the real
 * Worker. Written against jose 6.
 */
import { SignJWT } from "jose";

/** The audience the relay requires. */
export const RELAY_AUDIENCE = "learnink-push-relay";
/** The relay refuses a token whose `exp` is further ahead than this. */
export const MAX_TTL_SECONDS = 30 * 24 * 60 * 60;
/** An app session's worth; the app asks again after a 401. */
export const DEFAULT_TTL_SECONDS = 60 * 60;

/** The user as LearnInk knows them: your `custom_id`, else LearnInk's `user_id`. */
export interface PushUser {
  customId: string | null;
  userId: string | null;
}

/**
 * A device token for `user`, signed with the first of `secret`'s
 * space-separated values (during a rotation the relay accepts each).
 */
export async function mintDeviceToken(
  user: PushUser,
  secret: string,
  ttlSeconds = DEFAULT_TTL_SECONDS,
  now = Date.now(),
): Promise<{ token: string; expiresAt: Date }> {
  const key = secret.trim().split(/\s+/)[0] ?? "";
  if (new TextEncoder().encode(key).byteLength < 32) throw new RangeError("DEVICE_TOKEN_SECRET must be at least 32 bytes");
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > MAX_TTL_SECONDS) {
    throw new RangeError(`ttlSeconds must be an integer from 60 to ${MAX_TTL_SECONDS}`);
  }
  if (!user.customId && !user.userId) throw new RangeError("the user needs a customId or a userId");
  const issuedAt = Math.floor(now / 1000);
  const jwt = new SignJWT(user.customId ? {} : { user_id: user.userId })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setAudience(RELAY_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttlSeconds);
  if (user.customId) jwt.setSubject(user.customId);
  return { token: await jwt.sign(new TextEncoder().encode(key)), expiresAt: new Date((issuedAt + ttlSeconds) * 1000) };
}

export interface DeviceTokenRoute {
  /** DEVICE_TOKEN_SECRET, the same value the relay has. */
  secret: string;
  /** The relay's origin, handed to the app with the token (e.g. https://learnink-push-relay.example.workers.dev). */
  relayUrl: string;
  /** The request's signed-in user, from your own session; null when nobody is signed in. */
  authenticate: (request: Request) => Promise<PushUser | null>;
  ttlSeconds?: number;
}

/**
 * `GET /push/device-token` (mount it where your app already calls you as
 * the user): 200 `{ token, expires_at, relay_url }`, never cached; 401
 * when nobody is signed in; 405 for another method.
 */
export function deviceTokenRoute(route: DeviceTokenRoute): (request: Request) => Promise<Response> {
  return async (request) => {
    const headers = { "content-type": "application/json", "cache-control": "no-store" };
    if (request.method !== "GET") return new Response(JSON.stringify({ error: "method_not_allowed" }), { status: 405, headers: { ...headers, allow: "GET" } });
    const user = await route.authenticate(request);
    if (!user) return new Response(JSON.stringify({ error: "not_signed_in" }), { status: 401, headers });
    const { token, expiresAt } = await mintDeviceToken(user, route.secret, route.ttlSeconds);
    return new Response(JSON.stringify({ token, expires_at: expiresAt.toISOString(), relay_url: route.relayUrl }), { status: 200, headers });
  };
}
