/**
 * Changing documents a step found by key (the abandoned sweep, Expo's
 * receipts), checked by version like every write (doc-store.ts): a
 * document another invocation wrote since it was read is read again and
 * the change applied to what it holds now.
 */
import type { Doc, StoredDoc } from "./doc";
import { applyWrites, type DocWrite, type LedgerStep, readDocsByRef } from "./doc-store";
import { LedgerContentionError, MAX_TRIES } from "./ledger-writes";


export interface Rewritten {
  /** Deliveries changed, as `edit` counted them in the writes that took. */
  changed: number;
  /** The `extra` statements' results. */
  results: D1Result[];
  /** D1 round trips made (reads and writes), for the callers that keep a budget. */
  calls: number;
}

/**
 * Applies `edit` to a copy of each document (it returns how many
 * deliveries it changed; 0 leaves the document unwritten) and writes the
 * changed ones in one transaction, `extra` statements with them the first
 * time, until every write took.
 */
export async function rewriteDocs(
  db: D1Database,
  step: LedgerStep,
  docs: readonly StoredDoc[],
  edit: (doc: Doc) => number,
  now: number,
  extra: readonly D1PreparedStatement[] = [],
): Promise<Rewritten> {
  const done: Rewritten = { changed: 0, results: [], calls: 0 };
  let pending = docs;
  for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
    const edits = pending.map((stored) => ({ stored, doc: structuredClone(stored.doc) })).map((e) => ({ ...e, changed: edit(e.doc) }));
    const writes = edits.filter((e) => e.changed > 0);
    const applied = await applyWrites(db, step, writes.map((e): DocWrite => ({ kind: "update", stored: e.stored, doc: e.doc })), now, attempt === 1 ? extra : []);
    if (attempt === 1) done.results = applied.results;
    if (writes.length > 0 || (attempt === 1 && extra.length > 0)) done.calls++;
    const lost = writes.filter((_, i) => applied.written[i] === null);
    done.changed += writes.filter((_, i) => applied.written[i] !== null).reduce((n, e) => n + e.changed, 0);
    if (lost.length === 0) return done;
    pending = await readDocsByRef(db, lost.map((e) => e.stored));
    done.calls++;
  }
  throw new LedgerContentionError(step);
}
