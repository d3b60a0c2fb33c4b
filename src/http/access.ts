/**
 * Access to /v1: identifies the caller's credential (./credentials.ts),
 * refuses an address over the failed-authentication limit, and lets each
 * credential through only to the routes its kind may use. Admin keys may
 * use every route; register keys and device tokens only those granted
 * below, so a route added later is the operator's alone until it is listed.
 */
import { createMiddleware } from "hono/factory";
import { AuthError, ForbiddenError } from "../errors";
import { type Credential, type CredentialKind, identify } from "./credentials";
import { countAuthFailure, refuseBlockedClient } from "./rate-limits";

/** What the access middleware leaves for the routes behind it. */
export interface AccessVariables {
  credential: Credential;
}

/** The Hono environment of every /v1 route. */
export type ApiEnv = { Bindings: Env; Variables: AccessVariables };

/** Routes open to credentials other than admin keys. Nothing here lets them read. */
const GRANTS: readonly { method: string; path: RegExp; kinds: readonly CredentialKind[] }[] = [
  { method: "PUT", path: /^\/v1\/devices$/, kinds: ["register", "device"] },
  { method: "DELETE", path: /^\/v1\/devices\/[^/]+$/, kinds: ["register", "device"] },
  { method: "POST", path: /^\/v1\/device-tokens$/, kinds: ["register"] },
  { method: "POST", path: /^\/v1\/opens$/, kinds: ["device"] },
];

const granted = (kind: CredentialKind, method: string, path: string) =>
  GRANTS.some((g) => g.method === method && g.path.test(path) && g.kinds.includes(kind));

const SCOPE: Record<Exclude<CredentialKind, "admin">, string> = {
  register: "a register key may only register and remove devices and mint device tokens",
  device: "a device token may only register and remove its own user's devices and report their opens",
};

/** 401 without a valid credential, 403 beyond its scope, 429 for an address that keeps failing. */
export const requireAccess = createMiddleware<ApiEnv>(async (c, next) => {
  refuseBlockedClient(c.req.raw);
  let credential: Credential;
  try {
    credential = await identify(c.req.header("authorization"), c.env);
  } catch (error) {
    if (error instanceof AuthError) await countAuthFailure(c.env, c.req.raw);
    throw error;
  }
  if (credential.kind !== "admin" && !granted(credential.kind, c.req.method, c.req.path)) {
    throw new ForbiddenError(SCOPE[credential.kind]);
  }
  c.set("credential", credential);
  await next();
});
