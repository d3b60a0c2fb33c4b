/**
 * What Expo's push receipts change, in one transaction: a delivery whose
 * receipt reports an error was not delivered after all (its `sent` row
 * becomes `invalid_token` or `failed`, keeping the ticket id), the dead
 * tokens go through the pruning brake like any dead-token answer, and
 * credential errors raise (and deliveries clear) the same alerts as a
 * misconfigured send.
 */
import { type AlarmInput, type AlertChanges, recordAlarms } from "./alerts";
import { chunkJson } from "./json-chunks";
import { type DeliveryKey, ROW_OF_ITEM } from "./ledger";
import { type PruneInput, type PruneResult, pruneDevices } from "./pruning";
import { readStaged } from "./staged";

/** A delivery whose receipt reported an error. */
export interface ReceiptError extends DeliveryKey {
  /** The Expo ticket id, as the row's provider_id holds it. */
  ticket: string;
  status: "invalid_token" | "failed";
  /** `receipt:<Expo's error>`, e.g. `receipt:DeviceNotRegistered`. */
  error: string;
}

export interface ReceiptsRecorded {
  /** Rows changed: those still `sent` with that ticket. */
  updated: number;
  pruned: PruneResult;
  alerts: AlertChanges;
}

/** Writes what a batch of receipts says; one D1 round trip. */
export async function recordReceipts(
  db: D1Database,
  errors: readonly ReceiptError[],
  signals: PruneInput & AlarmInput,
  now: number,
): Promise<ReceiptsRecorded> {
  const updates = chunkJson(errors.map((e) => ({ e: e.eventId, i: e.index, t: e.token, r: e.ticket, s: e.status, er: e.error }))).map((chunk) =>
    db
      .prepare(
        `UPDATE deliveries SET status = j.value->>'s', error = j.value->>'er', updated_at = ?2
         FROM json_each(?1) AS j
         WHERE ${ROW_OF_ITEM} AND deliveries.provider_id = j.value->>'r'
           AND deliveries.status = 'sent'`,
      )
      .bind(chunk, now),
  );
  const pruning = pruneDevices(db, signals, now);
  const alarms = recordAlarms(db, signals, now);
  const statements = [...updates, ...pruning.statements, ...alarms.statements];
  if (statements.length === 0) return { updated: 0, pruned: { removed: [], quarantined: [] }, alerts: { raised: [], cleared: [] } };
  const results = await db.batch(statements);
  const [pruned, alerts] = readStaged<[PruneResult, AlertChanges]>(results, pruning, alarms);
  const updated = results.slice(0, updates.length).reduce((n, r) => n + (r.meta.changes ?? 0), 0);
  return { updated, pruned, alerts };
}
