/**
 * All SQL on the devices table. Lists of ids travel as one JSON parameter
 * expanded with json_each, so a lookup for 1,000 users is one query and
 * stays far below D1's 100 bound parameters per statement.
 */
import type { Provider } from "../push/providers";
import type { ApnsEnvironment, Platform, UserIdKind, UserIds } from "../vocabulary";

/**
 * Devices one user may hold. Past it, registering a new device removes that
 * user's least recently registered one: a phone that was reset or replaced
 * never unregisters, so its stale token should make room rather than block.
 */
export const MAX_DEVICES_PER_USER = 10;

/** A device as registered: what `PUT /v1/devices` validates into (src/devices/validate.ts). */
export interface DeviceInput {
  token: string;
  provider: Provider;
  /** The app the token was issued to: `default`, or one APPS names. */
  app: string;
  custom_id: string | null;
  user_id: string | null;
  platform: Platform | null;
  environment: ApnsEnvironment;
  /**
   * The device's IANA time zone (`Africa/Nairobi`), as `Intl` knows it;
   * null when the app sent none. Optional in the type so that the devices
   * the consumer stands in (OneSignal users) need not name one.
   */
  time_zone?: string | null;
}

/** A registered device: what was registered, and when (epoch ms). */
export interface DeviceRow extends DeviceInput {
  created_at: number;
  updated_at: number;
  /** Set while the pruning brake holds the device: kept, but not sent to (epoch ms). */
  quarantined_at: number | null;
  quarantine_reason: string | null;
}

export interface UpsertResult {
  device: DeviceRow;
  created: boolean;
  /** Tokens of this user removed to stay within MAX_DEVICES_PER_USER. */
  evicted: string[];
}

export async function upsertDevice(db: D1Database, input: DeviceInput, now = Date.now()): Promise<UpsertResult> {
  const upsert = db
    .prepare(
      `INSERT INTO devices (token, provider, custom_id, user_id, platform, environment, created_at, updated_at, app, time_zone)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9)
       ON CONFLICT (token) DO UPDATE SET
         provider = excluded.provider, app = excluded.app, custom_id = excluded.custom_id, user_id = excluded.user_id,
         platform = excluded.platform, environment = excluded.environment, updated_at = excluded.updated_at,
         time_zone = excluded.time_zone,
         -- A token registered again is alive: whatever the pruning brake held against it is void.
         quarantined_at = NULL, quarantine_reason = NULL
       RETURNING *`,
    )
    .bind(input.token, input.provider, input.custom_id, input.user_id, input.platform, input.environment, now, input.app, input.time_zone ?? null);
  // The cap counts devices of the same person: by custom_id when the device has one, else by user_id.
  const [column, owner] = input.custom_id !== null ? ["custom_id", input.custom_id] : ["user_id", input.user_id];
  const cap = db
    .prepare(
      `DELETE FROM devices WHERE token IN (
         SELECT token FROM devices WHERE ${column} = ?1
         ORDER BY updated_at DESC, token LIMIT -1 OFFSET ?2)
       RETURNING token`,
    )
    .bind(owner, MAX_DEVICES_PER_USER);
  const [upserted, capped] = await db.batch([upsert, cap]);
  const device = upserted!.results[0] as DeviceRow;
  return {
    device,
    created: device.created_at === now && device.updated_at === now,
    evicted: (capped!.results as { token: string }[]).map((r) => r.token),
  };
}

/** Narrows a removal: only a device of this provider, only a device of this user (every id given must match). */
export interface DeleteFilter {
  provider?: Provider;
  owner?: UserIds | null;
}

/** True if a device with this token (and matching `filter`) existed. */
export async function deleteDevice(db: D1Database, token: string, filter: DeleteFilter = {}): Promise<boolean> {
  const result = await db
    .prepare(
      `DELETE FROM devices WHERE token = ?1 AND (?2 IS NULL OR provider = ?2)
         AND (?3 IS NULL OR custom_id = ?3) AND (?4 IS NULL OR user_id = ?4)`,
    )
    .bind(token, filter.provider ?? null, filter.owner?.custom_id ?? null, filter.owner?.user_id ?? null)
    .run();
  return result.meta.changes > 0;
}

/** A user's devices, newest first. */
export async function devicesOfUser(db: D1Database, by: UserIdKind, id: string): Promise<DeviceRow[]> {
  // `by` is one of two literals, never input text.
  const { results } = await db
    .prepare(`SELECT * FROM devices WHERE ${by} = ?1 ORDER BY updated_at DESC, token`)
    .bind(id)
    .all<DeviceRow>();
  return results;
}

/**
 * Ids bound one per parameter, at most D1's 100 bound parameters per
 * query: a JSON list expanded with json_each would cost a row read per id
 * (D1 counts the rows json_each yields), as much again as the devices found.
 */
const MAX_BOUND_IDS = 100;

/**
 * The queries of every device of any of these custom_ids or user_ids; those
 * the pruning brake holds too, so that a user whose devices are all held is
 * told apart from a user with none (the consumer sends to neither).
 */
export function devicesOfUsers(db: D1Database, customIds: readonly string[], userIds: readonly string[]): D1PreparedStatement[] {
  const lookups: D1PreparedStatement[] = [];
  for (const [column, ids] of [["custom_id", customIds], ["user_id", userIds]] as const) {
    for (let i = 0; i < ids.length; i += MAX_BOUND_IDS) {
      const chunk = ids.slice(i, i + MAX_BOUND_IDS);
      lookups.push(db.prepare(`SELECT * FROM devices WHERE ${column} IN (${chunk.map((_, k) => `?${k + 1}`).join(", ")})`).bind(...chunk));
    }
  }
  return lookups;
}

