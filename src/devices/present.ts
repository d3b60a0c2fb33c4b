/**
 * How the API shows a device: one shape for the devices routes and the
 * quarantine routes (src/ops/), so neither imports the other's routes.
 */
import type { DeviceRow } from "../db/devices";

/** The API shape of a device: timestamps as ISO 8601; `quarantined_at` is set while the pruning brake holds it. */
export function presentDevice(row: DeviceRow) {
  return {
    token: row.token,
    provider: row.provider,
    app: row.app,
    platform: row.platform,
    environment: row.environment,
    time_zone: row.time_zone ?? null,
    custom_id: row.custom_id,
    user_id: row.user_id,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
    quarantined_at: row.quarantined_at === null ? null : new Date(row.quarantined_at).toISOString(),
    quarantine_reason: row.quarantine_reason,
  };
}
