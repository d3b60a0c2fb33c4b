/**
 * The conversion's deletes of the previous ledger's rows (convert.ts), run
 * in the transaction of the document writes (applyWrites runs them whether
 * a write took or not), so each is guarded: a row goes only if the
 * document that holds its notification is stored as this transaction left
 * it, and only if the row is as the page read it.
 *
 * The guard of a written document is its write's id (the `w` column,
 * doc-store.ts writeIdOf): an insert or update that lost its race left no
 * document with that id, and deletes nothing. A document left as read is
 * guarded by its key and version.
 */
import type { Doc } from "../db/doc";
import type { WorkingSet } from "../db/doc-edit";
import { type DocWrite, writeIdOf } from "../db/doc-store";
import { notificationKey } from "../db/ledger";
import { chunkJson } from "../db/json-chunks";
import { hasDelivery, type LegacyRow } from "../db/legacy";
import { revisitStatement } from "../db/sweep-marks";
import { DELETE_EMPTY_EVENTS_SQL } from "./legacy-retention";

/** The previous ledger's rows a page deleted. */
export interface Deleted {
  events: number;
  notifications: number;
  deliveries: number;
}

/** A document's guard (`g`, an item of ?1): bucket, and seq, version or content where the guard has them. */
const GUARD = `EXISTS (SELECT 1 FROM ledger_docs AS kept WHERE kept.bucket = g.value->>'b'
  AND (g.value->>'s' IS NULL OR kept.seq = g.value->>'s')
  AND (g.value->>'v' IS NULL OR kept.v = g.value->>'v')
  AND (g.value->>'w' IS NULL OR kept.w = g.value->>'w'))`;

/** The delivery rows (`k` of each guard: event, index, token, updated_at as read) whose document holds. */
export const DELETE_DELIVERIES_SQL = `
DELETE FROM deliveries WHERE (event_id, idx, device_token) IN (
  SELECT x.event_id, x.idx, x.device_token FROM json_each(?1) AS g, json_each(g.value->'k') AS k
  JOIN deliveries AS x ON x.event_id = k.value->>'e' AND x.idx = k.value->>'i' AND x.device_token = k.value->>'t'
  WHERE x.updated_at = k.value->>'u' AND ${GUARD})`;

/** The notification rows (`n` of each guard: event, index, opened_at as read) whose document holds, once they have no delivery left. */
export const DELETE_NOTIFICATIONS_SQL = `
DELETE FROM notifications WHERE (event_id, idx) IN (
  SELECT x.event_id, x.idx FROM json_each(?1) AS g, json_each(g.value->'n') AS k
  JOIN notifications AS x ON x.event_id = k.value->>'e' AND x.idx = k.value->>'i'
  WHERE x.opened_at IS k.value->>'o' AND ${GUARD}
    AND NOT EXISTS (SELECT 1 FROM deliveries AS d WHERE d.event_id = x.event_id AND d.idx = x.idx))`;

interface Guard {
  b: number;
  s?: number;
  v?: number;
  w?: string;
  k: { e: string; i: number; t: string; u: number }[];
  n: { e: string; i: number; o: number | null }[];
}

/** The statements of a page's deletes, and how many of each kind, to read their results. */
export interface Deletes {
  statements: D1PreparedStatement[];
  chunks: number;
}

/**
 * The deletes of a page: its rows, each under the guard of the document
 * that holds its notification after `writes`, its events once empty, and
 * the abandoned sweep sent back to a document written with a delivery open.
 */
export function deleteStatements(db: D1Database, set: WorkingSet, writes: readonly DocWrite[], page: { rows: readonly LegacyRow[]; events: readonly string[] }): Deletes {
  const guards = guardsOf(set, writes, page.rows);
  const chunks = chunkJson([...guards.values()]);
  const statements = [
    ...chunks.map((chunk) => db.prepare(DELETE_DELIVERIES_SQL).bind(chunk)),
    ...chunks.map((chunk) => db.prepare(DELETE_NOTIFICATIONS_SQL).bind(chunk)),
    db.prepare(DELETE_EMPTY_EVENTS_SQL).bind(JSON.stringify(page.events)),
  ];
  const open = writes.filter((w) => hasOpen(w.doc)).map((w) => (w.kind === "insert" ? w.bucket : w.stored.bucket));
  if (open.length > 0) statements.push(revisitStatement(db, Math.min(...open)));
  return { statements, chunks: chunks.length };
}

/** What the deletes did, from the results of their statements. */
export function readDeleted(results: readonly D1Result[], deletes: Deletes): Deleted {
  const changes = (from: number, to: number) => results.slice(from, to).reduce((n, r) => n + (r.meta.changes ?? 0), 0);
  const { chunks } = deletes;
  return { deliveries: changes(0, chunks), notifications: changes(chunks, 2 * chunks), events: changes(2 * chunks, 2 * chunks + 1) };
}

/** Each row under the guard of the document holding its notification (rows of a notification no document holds stay). */
function guardsOf(set: WorkingSet, writes: readonly DocWrite[], rows: readonly LegacyRow[]): Map<Doc, Guard> {
  const written = new Map(writes.map((w) => [w.doc, w]));
  const guards = new Map<Doc, Guard>();
  const seen = new Set<string>();
  for (const row of rows) {
    const place = set.find({ eventId: row.e, index: row.i });
    if (!place) continue;
    let guard = guards.get(place.doc);
    if (!guard) guards.set(place.doc, (guard = guardOf(set, place.doc, written.get(place.doc))));
    if (hasDelivery(row)) guard.k.push({ e: row.e, i: row.i, t: row.token, u: row.updated_at });
    const key = notificationKey({ eventId: row.e, index: row.i });
    if (!seen.has(key)) guard.n.push({ e: row.e, i: row.i, o: row.opened_at });
    seen.add(key);
  }
  return guards;
}

function guardOf(set: WorkingSet, doc: Doc, write: DocWrite | undefined): Guard {
  if (write?.kind === "insert") return { b: write.bucket, w: writeIdOf(write), k: [], n: [] };
  if (write?.kind === "update") return { b: write.stored.bucket, s: write.stored.seq, w: writeIdOf(write), k: [], n: [] };
  const read = set.readAs(doc)!;
  return { b: read.bucket, s: read.seq, v: read.v, k: [], n: [] };
}

const hasOpen = (doc: Doc) => doc.d.some((d) => d.s === "sending" || d.s === "retrying");
