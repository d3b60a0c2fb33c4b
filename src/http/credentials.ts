/**
 * Who is calling the API. Three credentials, told apart and checked here
 * and nowhere else:
 * - an admin key (RELAY_API_KEY): the operator;
 * - a register key (RELAY_REGISTER_KEY): the company backend;
 * - a device token (a JWT signed with DEVICE_TOKEN_SECRET): one signed-in
 *   user's app.
 * What each may do is decided in ./access.ts.
 */
import { secretList, secretValues } from "../config";
import { AuthError } from "../errors";
import { type TokenUser, verifyDeviceToken } from "./device-token";
import { matchesAnyKey } from "./keys";

export type Credential = { kind: "admin" } | { kind: "register" } | { kind: "device"; user: TokenUser };
export type CredentialKind = Credential["kind"];

const BEARER = /^Bearer\s+(\S+)\s*$/i;
/** Three base64url segments; the last is empty for `alg: none`, which the verifier then refuses. */
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/**
 * The credential in an `Authorization` header. Keys are compared first (in
 * constant time), so a key that happens to look like a JWT is still a key.
 * Throws AuthError (401) when it is missing, malformed or valid for nothing;
 * ConfigurationError (500) when RELAY_API_KEY is not set at all.
 */
export async function identify(authorization: string | undefined, env: Env): Promise<Credential> {
  const match = BEARER.exec(authorization ?? "");
  if (!match) throw new AuthError();
  const presented = match[1]!;
  if (await isAdminKey(presented, env)) return { kind: "admin" };
  if (await matchesAnyKey(presented, secretValues(env.RELAY_REGISTER_KEY))) return { kind: "register" };
  if (JWT_SHAPE.test(presented)) return { kind: "device", user: await verifyDeviceToken(presented, env.DEVICE_TOKEN_SECRET) };
  throw new AuthError("the bearer credential is neither a key of this relay nor a device token");
}


/** True for one of the operator's keys (RELAY_API_KEY): the console's sign-in takes one from a form. */
export async function isAdminKey(presented: string, env: Env): Promise<boolean> {
  return matchesAnyKey(presented, secretList(env.RELAY_API_KEY, "RELAY_API_KEY"));
}
