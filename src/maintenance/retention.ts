/**
 * The daily sweep: ledger rows older than the retention period are deleted,
 * in slices small enough for D1's 30-second limit per query, so the table
 * (and the notification text it keeps for replays) does not grow forever.
 */
import { log } from "../log";

export const RETENTION_DAYS = 30;
const SLICE = 5_000;
/** At most this many slices per run (250,000 rows); the next day's run takes the rest. */
const MAX_SLICES = 50;

export async function sweepLedger(db: D1Database, now = Date.now()): Promise<number> {
  const cutoff = now - RETENTION_DAYS * 86_400_000;
  let deleted = 0;
  for (let slice = 0; slice < MAX_SLICES; slice++) {
    const result = await db
      .prepare(
        `DELETE FROM deliveries WHERE (event_id, idx, device_token) IN (
           SELECT event_id, idx, device_token FROM deliveries
           WHERE updated_at < ?1 AND status <> 'sending' LIMIT ?2)`,
      )
      .bind(cutoff, SLICE)
      .run();
    deleted += result.meta.changes;
    if (result.meta.changes < SLICE) break;
  }
  log("retention", { deleted, retention_days: RETENTION_DAYS });
  return deleted;
}
