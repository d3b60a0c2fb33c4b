/**
 * The last safety net of "nothing lost": a delivery left open with no queue
 * message coming back for it. That happens only when the dead-letter
 * consumer could not record a message even after its own last retry (there
 * is no queue after it; it logs the event ids and indexes as an error), or
 * when outcomes queued for a later write were lost the same way. Such
 * deliveries would stay `retrying` or `sending` for ever, and a replay
 * sends only `failed` ones: the hourly sweep closes them as `failed`
 * `abandoned`.
 *
 * Nothing legitimate leaves a delivery untouched for two days: a retried
 * message comes back within its delay (at most 24 hours, the queue's cap),
 * the push queue's 12 retries end within about 13 hours, and the
 * dead-letter consumer's within about 5. The sweep looks at the documents
 * of events older than that (by bucket, the event's own time) whose summary
 * says a delivery is open, and closes those deliveries untouched for as
 * long; one touched since (a replay of an old event) holds the sweep's mark
 * at its document until it settles or is abandoned in turn.
 *
 * The sweep remembers how far it has looked (`sweep_marks`) and starts
 * there, so documents of any age are reached: a run that failed or was
 * skipped, or many, leave nothing open for the next one to miss. What is
 * written behind the mark with a delivery open (the conversion of the
 * previous ledger) moves the mark back to it (`revisitStatement`).
 */
import type { Doc, DocDelivery, StoredDoc } from "../db/doc";
import { isOpen, setState } from "../db/doc-edit";
import { rewriteDocs } from "../db/doc-rewrite";
import { DOCS_PER_PAGE, type DocRow, parseDocRows } from "../db/doc-store";
import { ABANDONED_MARK, moveMark, readMark } from "../db/sweep-marks";
import { log } from "../log";
import { Budget, CALLS_PER_RUN, SWEEP_MS } from "./budget";

/** An open delivery not updated for this long has nobody coming back for it. */
export const ABANDONED_AFTER_MS = 48 * 60 * 60_000;
/**
 * Buckets are read a slice at a time: six hours of summary rows are about
 * 100,000 at a million notifications a day (a range of the primary key,
 * well under a second of D1 work; 30 s per query is the limit), and 200
 * slices (50 days) cover a first run over a full 30-day ledger.
 */
export const ABANDONED_SLICE_MS = 6 * 60 * 60_000;
export const ABANDONED_SLICES_PER_RUN = 200;

/** Documents of buckets in [?1, ?2) (unix seconds) after (?1, ?3) with a delivery open, in key order. */
export const OPEN_DOCS_SQL = `
SELECT d.bucket, d.seq, d.v, d.doc FROM ledger AS l JOIN ledger_docs AS d ON d.bucket = l.bucket AND d.seq = l.seq
WHERE l.bucket >= ?1 AND l.bucket < ?2 AND (l.bucket, l.seq) > (?1, ?3) AND l.open_at IS NOT NULL
ORDER BY l.bucket, l.seq LIMIT ?4`;


/** Closes abandoned open deliveries as failed `abandoned`, from the mark on; resolves with how many. */
export async function closeAbandoned(db: D1Database, now = Date.now()): Promise<number> {
  const budget = new Budget(CALLS_PER_RUN.abandoned, SWEEP_MS);
  // The mark's read, the first run's look-up of the oldest bucket, the mark's write.
  budget.spend(3);
  const to = now - ABANDONED_AFTER_MS;
  const mark = await readMark(db, ABANDONED_MARK);
  let from = mark ?? (await oldestBucket(db)) ?? to;
  let closed = 0;
  let held: number | null = null;
  for (let slice = 0; from < to && slice < ABANDONED_SLICES_PER_RUN; slice++) {
    const until = Math.min(to, from + ABANDONED_SLICE_MS);
    const swept = await closeSlice(db, { from, until }, now, budget);
    closed += swept.closed;
    held ??= swept.held;
    if (!swept.complete) break;
    from = until;
  }
  // The mark stays at the first document still open for a reason, and never passes what this run did not read.
  await moveMark(db, ABANDONED_MARK, mark, held === null ? from : Math.min(held, from)).run();
  if (closed > 0) log("retention", { abandoned: closed, reason: "no_message_came_back" }, "error");
  return closed;
}

/** Where a first run starts: the oldest document's bucket (one step down the primary key). */
async function oldestBucket(db: D1Database): Promise<number | null> {
  const row = await db.prepare("SELECT MIN(bucket) AS b FROM ledger").first<{ b: number | null }>();
  return row?.b == null ? null : row.b * 1000;
}

interface Swept {
  closed: number;
  /** The bucket (epoch ms) of the first document left with a delivery open that is not abandoned yet. */
  held: number | null;
  /** False when the budget ran out within the slice. */
  complete: boolean;
}

/** Closes what is abandoned in the documents of one slice of buckets, a page of documents at a time. */
async function closeSlice(db: D1Database, slice: { from: number; until: number }, now: number, budget: Budget): Promise<Swept> {
  const swept: Swept = { closed: 0, held: null, complete: false };
  const [from, until] = [Math.ceil(slice.from / 1000), Math.ceil(slice.until / 1000)];
  let afterSeq = 0;
  let after = from;
  while (budget.allows(2)) {
    const rows = await budget.all<DocRow>(
      db.prepare(OPEN_DOCS_SQL).bind(after, until, afterSeq, DOCS_PER_PAGE),
    );
    const docs = await parseDocRows(rows);
    const rewritten = await rewriteDocs(db, "sweep", docs, (doc) => closeAbandonedIn(doc, now), now);
    budget.spend(rewritten.calls);
    swept.closed += rewritten.changed;
    swept.held ??= firstHeld(docs, now);
    if (docs.length < DOCS_PER_PAGE) return { ...swept, complete: true };
    ({ bucket: after, seq: afterSeq } = docs.at(-1)!);
  }
  return swept;
}

const abandoned = (d: DocDelivery, now: number) => isOpen(d, now) && d.u < now - ABANDONED_AFTER_MS;

/** Closes the document's abandoned deliveries; returns how many. */
function closeAbandonedIn(doc: Doc, now: number): number {
  let closed = 0;
  for (const d of doc.d) {
    if (!abandoned(d, now)) continue;
    setState(d, { s: "failed", er: "abandoned", cb: null, cu: null, na: null }, now);
    closed++;
  }
  return closed;
}

/** The bucket (epoch ms) of the first document with a delivery open that the sweep leaves: touched within two days. */
function firstHeld(docs: readonly StoredDoc[], now: number): number | null {
  const held = docs.find((stored) => stored.doc.d.some((d) => (d.s === "sending" || d.s === "retrying") && !abandoned(d, now)));
  return held ? held.bucket * 1000 : null;
}
