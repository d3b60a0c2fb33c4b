/**
 * The hourly sweep's other half (retention.ts is the ledger's): purge the
 * devices the pruning brake has held for QUARANTINE_DAYS without an
 * operator's answer, drop the alerts that no longer apply, and the brake's
 * counts that no span looks at any more.
 */
import { sweepAlerts } from "../db/alerts";
import { sweepBrakeCounts } from "../db/pruning";
import { BULK_LIMIT, purgeQuarantine } from "../db/quarantine";
import { log } from "../log";

/** Purge rounds per run: 100,000 devices, far more than one hour's quarantine; the next run takes the rest. */
const MAX_ROUNDS = 10;

export interface QuarantineSweep {
  purged: number;
  alerts: number;
  counts: number;
}

export async function sweepQuarantine(db: D1Database, now = Date.now()): Promise<QuarantineSweep> {
  let purged = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const n = await purgeQuarantine(db, now);
    purged += n;
    if (n < BULK_LIMIT) break;
  }
  // After the purge, so a brake alert whose devices are all gone goes too.
  const result = { purged, alerts: await sweepAlerts(db, now), counts: await sweepBrakeCounts(db, now) };
  log("quarantine", { ...result });
  return result;
}
