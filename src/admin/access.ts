/**
 * Sign-in through Cloudflare Access. With `ACCESS_TEAM_DOMAIN` and
 * `ACCESS_AUD` set, Access stands in front of `/admin` and sends each
 * request a `Cf-Access-Jwt-Assertion`: an RS256 JWT signed with the team's
 * keys (published at `https://<team>/cdn-cgi/access/certs`) for the
 * application's audience tag. The console verifies it on every request, so
 * a request that reaches the Worker without passing Access (the
 * workers.dev URL, say) gets nothing.
 */
import { type JWTVerifyGetKey, createRemoteJWKSet, errors, jwtVerify } from "jose";
import { AuthError, ConfigurationError, RelayError } from "../errors";

/** Who Access says is signed in. */
export interface AccessIdentity {
  /** The user's email; a service token has none. */
  email: string | null;
  /** The Access subject (user id), or the service token's client id. */
  subject: string;
}

/**
 * True when the console is to be reached through Cloudflare Access only.
 * One of the two settings without the other is refused (500
 * not_configured, the log says which is missing) rather than silently
 * opening the key form an operator meant to close.
 */
export function accessConfigured(env: Env): boolean {
  const team = (env.ACCESS_TEAM_DOMAIN ?? "").trim() !== "";
  const aud = (env.ACCESS_AUD ?? "").trim() !== "";
  if (team !== aud) {
    throw new ConfigurationError(team ? "ACCESS_AUD" : "ACCESS_TEAM_DOMAIN", `is not set while ${team ? "ACCESS_TEAM_DOMAIN" : "ACCESS_AUD"} is: set both for Cloudflare Access, or neither for the key form`);
  }
  return team;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * The team's origin, which is also the tokens' `iss`. `myteam.cloudflareaccess.com`
 * and `https://myteam.cloudflareaccess.com` mean the same. Plain http is taken
 * only for a loopback address: that is how tests serve their own keys, and a
 * deployed Worker cannot reach a loopback address, so the setting cannot be
 * turned into a way around Access in production.
 */
export function teamOrigin(setting: string): string {
  const trimmed = setting.trim().replace(/\/+$/, "");
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`);
  } catch (error) {
    throw new ConfigurationError("ACCESS_TEAM_DOMAIN", "is not a host name", error);
  }
  const secure = url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
  if (!secure || url.pathname !== "/" || url.search !== "" || url.username !== "") {
    throw new ConfigurationError("ACCESS_TEAM_DOMAIN", "must be the team's host, e.g. myteam.cloudflareaccess.com");
  }
  return url.origin;
}

// One key set per team per isolate: jose caches the keys and refetches on an unknown `kid`.
const keySets = new Map<string, JWTVerifyGetKey>();

function teamKeys(origin: string): JWTVerifyGetKey {
  let keys = keySets.get(origin);
  if (!keys) {
    keys = createRemoteJWKSet(new URL("/cdn-cgi/access/certs", origin));
    keySets.set(origin, keys);
  }
  return keys;
}

/** Verifies the request's Access JWT against the team's keys and the audience tag; throws AuthError otherwise. */
export async function verifyAccess(request: Request, env: Env): Promise<AccessIdentity> {
  const token = request.headers.get("cf-access-jwt-assertion");
  if (!token) throw new AuthError("this console is behind Cloudflare Access: sign in through Access");
  const origin = teamOrigin(env.ACCESS_TEAM_DOMAIN);
  let payload;
  try {
    ({ payload } = await jwtVerify(token, teamKeys(origin), {
      issuer: origin,
      audience: env.ACCESS_AUD.trim(),
      algorithms: ["RS256"],
    }));
  } catch (error) {
    // The team's keys could not be read: our side or Cloudflare's, not the user's token.
    if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || !(error instanceof errors.JOSEError)) {
      throw new RelayError("internal_error", 500, "could not read the Cloudflare Access keys", { cause: error });
    }
    throw new AuthError("the Cloudflare Access token is not valid for this console");
  }
  const email = typeof payload.email === "string" ? payload.email : null;
  const subject = payload.sub || (typeof payload.common_name === "string" ? payload.common_name : "");
  return { email, subject };
}
