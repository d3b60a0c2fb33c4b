/**
 * Cloudflare Access's key endpoint, `GET /cdn-cgi/access/certs`: the public
 * keys a team signs its `Cf-Access-Jwt-Assertion` tokens with. Tests
 * generate a key pair, register the public half here and sign their own
 * Access tokens, so the console's verification runs against a real JWKS.
 */
import { json, type Answer } from "./http.ts";
import type { AccessKeyRegistration } from "./types.ts";

/** The registered public keys, by `kid`. */
export class AccessKeys {
  #keys = new Map<string, AccessKeyRegistration["public_jwk"]>();

  /** Why `value` cannot be registered, or null. Access signs with RS256 keys that have a `kid`. */
  static problem(value: Record<string, unknown>): string | null {
    const jwk = value.public_jwk as Record<string, unknown> | undefined;
    if (typeof jwk !== "object" || jwk === null || jwk.kty !== "RSA" || typeof jwk.n !== "string" || typeof jwk.e !== "string") {
      return "public_jwk must be an RSA public key";
    }
    if (typeof jwk.kid !== "string" || jwk.kid === "") return "public_jwk needs a kid";
    if ("d" in jwk) return "public_jwk must not hold the private key";
    return null;
  }

  add(registration: AccessKeyRegistration): void {
    this.#keys.set(registration.public_jwk.kid!, { ...registration.public_jwk, alg: "RS256", use: "sig" });
  }

  /** The JWKS document, shaped like Access's (`keys`; the PEM forms are left out). */
  certs(): Answer {
    return json(200, { keys: [...this.#keys.values()] });
  }
}
