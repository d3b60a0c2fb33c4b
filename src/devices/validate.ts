/**
 * Validates the body of PUT /v1/devices into a Device, field by field, so
 * that a 400 names exactly what is wrong.
 */
import { ForbiddenError, ValidationError } from "../errors";
import type { DeviceInput } from "../db/devices";
import { DEFAULT_APP } from "../push/apps";
import { DEVICE_PROVIDERS, deviceTokensOf, type Provider } from "../push/providers";
import { isWellFormed, NOT_WELL_FORMED } from "../text";
import { MAX_ID_LENGTH, type UserIdKind, type UserIds } from "../vocabulary";

/** The longest IANA zone names are about 30 characters. */
const MAX_TIME_ZONE_LENGTH = 64;

const invalid = (field: string, message: string) => new ValidationError("invalid_request", field, message);

function optionalId(body: Record<string, unknown>, field: "custom_id" | "user_id"): string | null {
  const value = body[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string" || value.trim() === "") throw invalid(field, "must be a non-empty string");
  if (value.length > MAX_ID_LENGTH) throw invalid(field, `must be at most ${MAX_ID_LENGTH} characters`);
  if (!isWellFormed(value)) throw invalid(field, NOT_WELL_FORMED);
  return value;
}

function oneOf<T extends string>(body: Record<string, unknown>, field: string, allowed: readonly T[]): T | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw invalid(field, `must be one of ${allowed.map((a) => `"${a}"`).join(", ")}`);
  }
  return value as T;
}

/** Checks that `token` has the shape its provider issues (each provider's descriptor says); APNs tokens are lower-cased. */
export function normalizeToken(provider: Provider, token: unknown): string {
  if (typeof token !== "string" || token === "") throw invalid("token", "must be a non-empty string");
  const shape = deviceTokensOf(provider);
  if (!shape) throw invalid("provider", `no device registers with ${provider}`);
  const checked = shape.normalize(token);
  if ("problem" in checked) throw invalid("token", checked.problem);
  return checked.token;
}

function asRecord(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ValidationError("invalid_request", undefined, "the body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

/**
 * The body of PUT /v1/devices as a device. `apps` are the app names the
 * relay knows (`default` and those APPS lists); a device naming another is
 * refused, since nothing could ever be sent to it.
 */
export function parseDevice(body: unknown, apps: readonly string[] = [DEFAULT_APP]): DeviceInput {
  const record = asRecord(body);
  const provider = oneOf(record, "provider", DEVICE_PROVIDERS);
  if (!provider) throw invalid("provider", `is required: one of ${DEVICE_PROVIDERS.map((p) => `"${p}"`).join(", ")}`);
  const token = normalizeToken(provider, record.token);
  const custom_id = optionalId(record, "custom_id");
  const user_id = optionalId(record, "user_id");
  if (custom_id === null && user_id === null) throw invalid("custom_id", "custom_id or user_id is required");
  const platform = oneOf(record, "platform", ["ios", "android"] as const) ?? (deviceTokensOf(provider)?.platform ?? null);
  const environment = oneOf(record, "environment", ["production", "sandbox"] as const) ?? "production";
  const app = record.app ?? DEFAULT_APP;
  if (typeof app !== "string" || !apps.includes(app)) {
    throw invalid("app", `must be one of ${apps.map((a) => `"${a}"`).join(", ")} (APPS lists the apps besides "${DEFAULT_APP}")`);
  }
  return { token, provider, app, custom_id, user_id, platform, environment, time_zone: timeZone(record.time_zone) };
}

/**
 * `time_zone`: an IANA zone name the runtime's `Intl` knows
 * (`Africa/Nairobi`), or absent. What `Intl` refuses could never be used
 * to tell the device's time, so it is a 400 on the field, not stored.
 */
function timeZone(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const problem = 'must be an IANA time zone name such as "Africa/Nairobi"';
  if (typeof value !== "string" || value === "" || value.length > MAX_TIME_ZONE_LENGTH || !isWellFormed(value)) throw invalid("time_zone", problem);
  try {
    new Intl.DateTimeFormat("en", { timeZone: value });
  } catch {
    throw invalid("time_zone", `${problem} that this runtime knows`);
  }
  return value;
}

/**
 * `/v1/users/:id/...` names a user by `custom_id`, or by LearnInk's
 * `user_id` with `?by=user_id` (for devices registered without a custom_id).
 */
export function userOf(id: string, by: string | undefined): { by: UserIdKind; id: string } {
  if (by !== undefined && by !== "custom_id" && by !== "user_id") {
    throw new ValidationError("invalid_request", "by", 'must be "custom_id" or "user_id"');
  }
  const kind = by ?? "custom_id";
  if (id.length > MAX_ID_LENGTH) throw new ValidationError("invalid_request", kind, `must be at most ${MAX_ID_LENGTH} characters`);
  if (!isWellFormed(id)) throw new ValidationError("invalid_request", kind, NOT_WELL_FORMED);
  return { by: kind, id };
}

/**
 * A device registered with a device token belongs to the token's user: the
 * body's `custom_id` and `user_id` are taken from the token. A body naming
 * anyone else is refused, and so is an id the token does not carry: the
 * relay falls back to `user_id` when a notification's `custom_id` has no
 * device, so a foreign `user_id` would receive someone else's notifications.
 */
export function bindToUser(body: unknown, user: UserIds): Record<string, unknown> {
  const record = asRecord(body);
  for (const field of ["custom_id", "user_id"] as const) {
    const named = record[field];
    if (named !== undefined && named !== null && named !== user[field]) {
      throw new ForbiddenError(`${field}: a device token registers devices for its own user only`);
    }
  }
  return { ...record, custom_id: user.custom_id, user_id: user.user_id };
}

/** The body of POST /v1/device-tokens: the user, and how long the token lives. */
export function parseTokenRequest(body: unknown, ttl: { min: number; max: number; fallback: number }): { user: UserIds; ttlSeconds: number } {
  const record = asRecord(body);
  const user = { custom_id: optionalId(record, "custom_id"), user_id: optionalId(record, "user_id") };
  if (user.custom_id === null && user.user_id === null) throw invalid("custom_id", "custom_id or user_id is required");
  const value = record.ttl_seconds;
  if (value === undefined || value === null) return { user, ttlSeconds: ttl.fallback };
  if (typeof value !== "number" || !Number.isInteger(value) || value < ttl.min || value > ttl.max) {
    throw invalid("ttl_seconds", `must be an integer from ${ttl.min} to ${ttl.max}`);
  }
  return { user, ttlSeconds: value };
}
