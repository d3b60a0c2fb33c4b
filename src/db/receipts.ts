/**
 * What Expo's push receipts change, in one transaction: a delivery whose
 * receipt reports an error was not delivered after all (its `sent` copy in
 * the ledger's document becomes `invalid_token` or `failed`, keeping the
 * ticket id), the dead tokens go through the pruning brake like any
 * dead-token answer, and credential errors raise (and deliveries clear) the
 * same alerts as a misconfigured send.
 */
import { type AlarmInput, type AlertChanges, recordAlarms } from "./alerts";
import { type Doc, ksuidSeconds, refKey, type StoredDoc } from "./doc";
import { bucketQueries, setState } from "./doc-edit";
import { rewriteDocs } from "./doc-rewrite";
import { eventDocs, readDocs } from "./doc-store";
import { type DeliveryKey, deliveryKey } from "./ledger";
import { legacyReceiptStatements } from "./legacy";
import { type PruneInput, type PruneResult, pruneDevices } from "./pruning";
import { readStaged } from "./staged";

/** A delivery whose receipt reported an error. */
export interface ReceiptError extends DeliveryKey {
  /** The event's ledger bucket; missing from receipts queued before the ledger kept documents. */
  bucket?: number;
  /** The Expo ticket id, as the delivery's provider id holds it. */
  ticket: string;
  status: "invalid_token" | "failed";
  /** `receipt:<Expo's error>`, e.g. `receipt:DeviceNotRegistered`. */
  error: string;
}

export interface ReceiptsRecorded {
  /** Deliveries changed: those still `sent` with that ticket. */
  updated: number;
  pruned: PruneResult;
  alerts: AlertChanges;
}

/** Writes what a batch of receipts says: one read of the documents, one transaction (more only if another invocation wrote them meanwhile). */
export async function recordReceipts(
  db: D1Database,
  errors: readonly ReceiptError[],
  signals: PruneInput & AlarmInput,
  now: number,
): Promise<ReceiptsRecorded> {
  // A receipt queued by the previous version: its delivery may still be the previous ledger's row.
  const legacy = legacyReceiptStatements(db, errors.filter((e) => e.bucket === undefined), now);
  const pruning = pruneDevices(db, signals, now);
  const alarms = recordAlarms(db, signals, now);
  const extra = [...legacy, ...pruning.statements, ...alarms.statements];
  if (errors.length === 0 && extra.length === 0) return { updated: 0, pruned: { removed: [], quarantined: [] }, alerts: { raised: [], cleared: [] } };
  const byKey = new Map(errors.map((e) => [deliveryKey(e), e]));
  const docs = await docsOf(db, errors, now);
  const rewritten = await rewriteDocs(db, "receipts", docs, (doc) => applyReceipts(doc, byKey, now), now, extra);
  const [pruned, alerts] = readStaged<[PruneResult, AlertChanges]>(rewritten.results, pruning, alarms);
  const legacyUpdated = rewritten.results.slice(0, legacy.length).reduce((n, r) => n + (r.meta.changes ?? 0), 0);
  return { updated: rewritten.changed + legacyUpdated, pruned, alerts };
}

/** The documents of the receipts' events: by bucket in one query, and by event id for receipts that carry no bucket. */
async function docsOf(db: D1Database, errors: readonly ReceiptError[], now: number): Promise<StoredDoc[]> {
  const timed = errors.flatMap((e) => (e.bucket === undefined ? [] : [{ bucket: e.bucket, eventId: e.eventId, index: e.index }]));
  const docs = await readDocs(db, [...bucketQueries(timed).values()]);
  for (const eventId of new Set(errors.filter((e) => e.bucket === undefined).map((e) => e.eventId))) {
    docs.push(...(await eventDocs(db, eventId, ksuidSeconds(eventId, now), now)));
  }
  return [...new Map(docs.map((d) => [refKey(d), d])).values()];
}

/** Turns the document's `sent` deliveries with a receipt error into what the receipt says; returns how many. */
function applyReceipts(doc: Doc, byKey: ReadonlyMap<string, ReceiptError>, now: number): number {
  let changed = 0;
  for (const d of doc.d) {
    const n = doc.n[d.n]!;
    const error = byKey.get(deliveryKey({ eventId: doc.ev[n.e]!, index: n.i, token: d.t }));
    if (!error || d.s !== "sent" || d.id !== error.ticket) continue;
    setState(d, { s: error.status, er: error.error }, now);
    changed++;
  }
  return changed;
}
