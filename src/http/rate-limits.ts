/**
 * Rate limits on the API with the Workers Rate Limiting binding: device
 * writes per user and per client address, and failed authentications per
 * client address. The binding counts per Cloudflare location and
 * approximately, and only says yes or no, so `Retry-After` is the limit's
 * whole period: an upper bound on the wait.
 */
import { RateLimitedError } from "../errors";
import { log } from "../log";
import type { Credential } from "./credentials";
import type { TokenUser } from "./device-token";
import { RATE_LIMITS, type RateLimitName } from "./rate-limit-config";

/**
 * The client's address as Cloudflare reports it (`CF-Connecting-IP`, which
 * clients cannot set), IPv6 reduced to its /64: one subscriber holds a whole
 * /64 and may change addresses within it at will. Null without the header
 * (a service binding, a test): such a request is not limited per address.
 */
export function clientAddress(request: Request): string | null {
  const ip = request.headers.get("cf-connecting-ip")?.trim();
  if (!ip) return null;
  const v4 = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(ip);
  if (v4) return v4[1]!; // also an IPv4-mapped IPv6 address
  if (!ip.includes(":")) return ip;
  const [head = "", tail] = ip.split("%")[0]!.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined ? [] : Array<string>(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill("0");
  const groups = [...headGroups, ...zeros, ...tailGroups].slice(0, 4);
  return `${groups.map((g) => (Number.parseInt(g, 16) || 0).toString(16)).join(":")}::/64`;
}

/** False when `key` is over the limit. A limiter that fails lets the request through: limits protect, they must not break. */
async function take(env: Env, name: RateLimitName, key: string): Promise<boolean> {
  try {
    return (await env[name].limit({ key })).success;
  } catch (error) {
    log("rate_limit_unavailable", { limit: name, error: error instanceof Error ? error.name : "unknown" }, "warn");
    return true;
  }
}

/** The 429 for going over `name`; one warning line (no user id, no address). */
function refuse(name: RateLimitName, what: string): RateLimitedError {
  const { limit, period } = RATE_LIMITS[name];
  log("rate_limited", { limit: name, retry_after: period }, "warn");
  return new RateLimitedError(`more than ${limit} ${what} in ${period} s; retry after ${period} s`, period);
}

/** The rate-limit key of a user, by the id the relay will store the device under first. */
export const userKey = (user: TokenUser) => (user.custom_id !== null ? `custom_id:${user.custom_id}` : `user_id:${user.user_id}`);

/**
 * Counts one device write (register or remove) against its limits. Admin
 * keys are the operator's and are not limited. A register key speaks for
 * every user from the company backend's few addresses, so only the user is
 * counted; a device token also counts against the phone's address. `user`
 * is null when the write's user is not known yet (a register key removing
 * a token).
 */
export async function limitDeviceWrite(env: Env, request: Request, credential: Credential, user: TokenUser | null): Promise<void> {
  if (credential.kind === "admin") return;
  if (user && !(await take(env, "REGISTRATIONS_PER_USER", userKey(user)))) {
    throw refuse("REGISTRATIONS_PER_USER", "device registrations for this user");
  }
  const client = credential.kind === "device" ? clientAddress(request) : null;
  if (client && !(await take(env, "REGISTRATIONS_PER_CLIENT", client))) {
    throw refuse("REGISTRATIONS_PER_CLIENT", "device registrations from this address");
  }
}

/**
 * Addresses over the failed-authentication limit, until when (epoch ms), in
 * this isolate. The binding can only count, not peek, so without this a
 * correct guess after the limit would still get through.
 */
const blockedClients = new Map<string, number>();
/** Bounds the memory a flood of addresses can take; the oldest entry goes first. */
const MAX_BLOCKED_CLIENTS = 10_000;

/** Throws RateLimitedError while the request's address is over the failed-authentication limit. */
export function refuseBlockedClient(request: Request, now = Date.now()): void {
  const client = clientAddress(request);
  const until = client === null ? undefined : blockedClients.get(client);
  if (until === undefined) return;
  if (until <= now) {
    blockedClients.delete(client!);
    return;
  }
  throw new RateLimitedError("too many failed authentications from this address", Math.ceil((until - now) / 1000));
}

/**
 * Counts a failed authentication. Over the limit, the failure answers 429
 * instead of 401, and the address is refused without checking any
 * credential for the rest of the period.
 */
export async function countAuthFailure(env: Env, request: Request, now = Date.now()): Promise<void> {
  const client = clientAddress(request);
  if (client === null || (await take(env, "AUTH_FAILURES_PER_CLIENT", client))) return;
  if (blockedClients.size >= MAX_BLOCKED_CLIENTS) blockedClients.delete(blockedClients.keys().next().value!);
  blockedClients.set(client, now + RATE_LIMITS.AUTH_FAILURES_PER_CLIENT.period * 1000);
  throw refuse("AUTH_FAILURES_PER_CLIENT", "failed authentications from this address");
}
