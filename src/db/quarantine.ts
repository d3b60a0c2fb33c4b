/**
 * The quarantine: devices the pruning brake holds (src/db/pruning.ts). They
 * are kept but not sent to until an operator restores them or confirms the
 * removal, and the hourly sweep purges them QUARANTINE_DAYS after the hold.
 * One device is found by its token; lists, counts and the purge run on the
 * partial index of quarantined devices (quarantined_at, token).
 */
import type { DeviceRow } from "./devices";
import { clearBrakeAlerts } from "./alerts";
import { QUARANTINE_DAYS } from "./pruning";
import type { UserIds } from "../vocabulary";

export const QUARANTINE_MS = QUARANTINE_DAYS * 86_400_000;

/** Narrows a listing or a bulk action; both fields optional. */
export interface QuarantineFilter {
  provider?: string | undefined;
  app?: string | undefined;
}

/** Where a page starts: after this (quarantined_at, token). */
export interface QuarantineCursor {
  quarantinedAt: number;
  token: string;
}

/** Rows one bulk action changes at most: a few hundred ms of D1 work, far below its 30 s per query. */
export const BULK_LIMIT = 10_000;

const FILTER = "(?1 IS NULL OR provider = ?1) AND (?2 IS NULL OR app = ?2)";

/** A page of quarantined devices, longest held first. */
export async function quarantinedDevices(
  db: D1Database,
  filter: QuarantineFilter,
  options: { after?: QuarantineCursor | undefined; limit: number },
): Promise<DeviceRow[]> {
  const after = options.after ?? { quarantinedAt: 0, token: "" };
  const { results } = await db
    .prepare(
      `SELECT * FROM devices
       WHERE quarantined_at IS NOT NULL AND (quarantined_at, token) > (?3, ?4) AND ${FILTER}
       ORDER BY quarantined_at, token LIMIT ?5`,
    )
    .bind(filter.provider ?? null, filter.app ?? null, after.quarantinedAt, after.token, options.limit)
    .all<DeviceRow>();
  return results;
}

/**
 * The quarantined device with this token (APNs tokens are stored
 * lower-case; FCM tokens are case-sensitive and taken as given).
 */
const QUARANTINED = "quarantined_at IS NOT NULL AND (token = ?1 OR (provider = 'apns' AND token = lower(?1)))";

/** Takes the device out of quarantine: it is sent to again. Null when no quarantined device has this token. */
export async function restoreDevice(db: D1Database, token: string, now: number): Promise<DeviceRow | null> {
  const [restored] = await db.batch([
    db
      .prepare(`UPDATE devices SET quarantined_at = NULL, quarantine_reason = NULL, updated_at = ?2 WHERE ${QUARANTINED} RETURNING *`)
      .bind(token, now),
    clearBrakeAlerts(db),
  ]);
  return (restored!.results[0] as DeviceRow | undefined) ?? null;
}

/** Deletes the quarantined device: the operator agrees its token is dead. False when no quarantined device has this token. */
export async function confirmRemoval(db: D1Database, token: string): Promise<boolean> {
  const [removed] = await db.batch([db.prepare(`DELETE FROM devices WHERE ${QUARANTINED}`).bind(token), clearBrakeAlerts(db)]);
  return removed!.meta.changes > 0;
}

/** What a bulk action did, and how many matching devices are still held (call again while any are). */
export interface BulkResult {
  changed: number;
  remaining: number;
  /** Whose devices it restored (none for a removal). */
  owners: UserIds[];
}

/** Restores (or, with `remove`, deletes) up to BULK_LIMIT quarantined devices matching `filter`, longest held first. */
export async function bulkRelease(db: D1Database, filter: QuarantineFilter, remove: boolean, now: number): Promise<BulkResult> {
  const chosen = `token IN (SELECT token FROM devices WHERE quarantined_at IS NOT NULL AND ${FILTER}
                            ORDER BY quarantined_at, token LIMIT ?4)`;
  const change = remove
    ? db.prepare(`DELETE FROM devices WHERE ${chosen}`)
    : db.prepare(`UPDATE devices SET quarantined_at = NULL, quarantine_reason = NULL, updated_at = ?3 WHERE ${chosen}
                  RETURNING custom_id, user_id`);
  const [changed, , left] = await db.batch([
    change.bind(filter.provider ?? null, filter.app ?? null, now, BULK_LIMIT),
    clearBrakeAlerts(db),
    db
      .prepare(`SELECT COUNT(*) AS n FROM devices WHERE quarantined_at IS NOT NULL AND ${FILTER}`)
      .bind(filter.provider ?? null, filter.app ?? null),
  ]);
  return {
    changed: changed!.meta.changes,
    remaining: (left!.results[0] as { n: number }).n,
    owners: remove ? [] : (changed!.results as BulkResult["owners"]),
  };
}

/** Purges devices held longer than QUARANTINE_MS, at most `limit` per call; the number purged. */
export async function purgeQuarantine(db: D1Database, now: number, limit = BULK_LIMIT): Promise<number> {
  const { meta } = await db
    .prepare(
      `DELETE FROM devices WHERE token IN (
         SELECT token FROM devices WHERE quarantined_at IS NOT NULL AND quarantined_at < ?1 ORDER BY quarantined_at LIMIT ?2)`,
    )
    .bind(now - QUARANTINE_MS, limit)
    .run();
  return meta.changes;
}
