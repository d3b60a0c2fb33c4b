/**
 * Scans of the ledger's summary rows (`ledger`, migration 0014): the lists
 * that span events (a user's deliveries, the failures, the events) walk
 * them newest first by their primary key, and read a document only where
 * its summary matched. A document is deflated JSON that SQL cannot look
 * into: the documents are read whole, a page at a time, and the rows a
 * list shows are picked from them here, in the Worker.
 *
 * Why a scan and no index: D1 bills each index entry written, and the
 * ledger must cost per claim, not per delivery (migration 0014). Scanning
 * the narrow summary rows is what stays cheap instead: finding one user in
 * a week at a million notifications a day took 0.27 s with `instr` over a
 * narrow table of user lists (0.04 s for a day; measured on SQLite, the
 * engine under D1), far inside D1's 30 s per query, and rows read cost
 * $0.001 a million.
 */
import { type DeliveryRow, pageAfter, type RowKey } from "./delivery-rows";
import type { DocRef, StoredDoc } from "./doc";
import { DOC_COLUMNS, type DocRow, DOCS_PER_PAGE, parseDocRows } from "./doc-store";
import type { DeliveryStatus } from "./ledger";

/** How far back a user's deliveries are listed: the week the design asks for, a bounded scan at any volume. */
export const USER_LOOKBACK_SECONDS = 7 * 86_400;

/** The first bucket of a lookback ending now. */
export const sinceBucket = (now: number, seconds: number): number => Math.floor(now / 1000) - seconds;

/** Above every bucket: where a list starts before it has a cursor. */
export const TOP_BUCKET = Number.MAX_SAFE_INTEGER;

/**
 * The condition of a scan newest first. `match(alias)` is a condition on a
 * `ledger` row; the scan takes the rows that match in the `?3` newest
 * buckets below `?2` that have a match, every one of those buckets whole
 * (a page never stops inside a bucket, so what sorts within it is all
 * there), and the matches of bucket `?2` itself (where the previous page
 * stopped). `?1` is the oldest bucket looked at; `match` binds from `?4`.
 * Both walks are ranges of the primary key.
 */
export const newestBuckets = (match: (alias: string) => string): string =>
  `l.bucket BETWEEN COALESCE((SELECT MIN(bucket) FROM (SELECT DISTINCT h.bucket FROM ledger AS h
     WHERE h.bucket BETWEEN ?1 AND ?2 - 1 AND ${match("h")} ORDER BY h.bucket DESC LIMIT ?3)), ?2) AND ?2 AND ${match("l")}`;

/**
 * The documents whose summaries meet `match` (a condition on `l`, binding
 * from ?5), newest first by key: in bucket ?1 and above, below the key
 * (?2, ?3), ?4 of them. The summaries are walked by a range of their
 * primary key, and each match's document is read by key: CROSS JOIN keeps
 * SQLite from walking the documents instead.
 */
export const docsNewestFirst = (match: string): string =>
  `SELECT ${DOC_COLUMNS} FROM ledger AS l CROSS JOIN ledger_docs AS d ON d.bucket = l.bucket AND d.seq = l.seq
   WHERE l.bucket >= ?1 AND (l.bucket, l.seq) < (?2, ?3) AND ${match} ORDER BY l.bucket DESC, l.seq DESC LIMIT ?4`;

/** A walk of docsNewestFirst's `sql`: from bucket `top`, whole, down to bucket `from`; `params` bind its match. */
export interface DocWalk {
  sql: string;
  from: number;
  top: number;
  params: readonly unknown[];
}

/**
 * The documents of a walk, DOCS_PER_PAGE a query. Each query resumes below
 * the last document of the one before, so the walk reads each summary
 * once, and the next page is read only when the caller asks for it.
 */
export async function* walkDocs(db: D1Database, walk: DocWalk): AsyncGenerator<StoredDoc[]> {
  let below: DocRef = { bucket: walk.top, seq: Number.MAX_SAFE_INTEGER };
  for (;;) {
    const { results } = await db
      .prepare(walk.sql)
      .bind(walk.from, below.bucket, below.seq, DOCS_PER_PAGE, ...walk.params)
      .all<DocRow>();
    const docs = await parseDocRows(results);
    if (docs.length > 0) yield docs;
    if (docs.length < DOCS_PER_PAGE) return;
    below = docs.at(-1)!;
  }
}

/**
 * The page (newest first, at most `limit`, after `after`) of the rows
 * `rowsIn` takes from a walk's documents. The walk stops once the page is
 * settled: every bucket above the last document read is whole, so when
 * the page's last row lies in one of them, nothing still unread can enter
 * it. Only the page is kept from one read to the next.
 */
export async function pageOfWalk(
  pages: AsyncIterable<StoredDoc[]>,
  rowsIn: (docs: StoredDoc[]) => DeliveryRow[],
  limit: number,
  after: RowKey | undefined,
): Promise<DeliveryRow[]> {
  let page: DeliveryRow[] = [];
  for await (const docs of pages) {
    page = pageAfter([...page, ...rowsIn(docs)], limit, after);
    const last = page[limit - 1];
    if (last !== undefined && last.bucket > docs.at(-1)!.bucket) break;
  }
  return page;
}

/** A key of a summary's `counts`: `provider|app|status` ('none' without a device), split. */
export interface CountKey {
  provider: string;
  app: string;
  status: DeliveryStatus;
}

/** Splits a `counts` key; neither a provider name nor a status holds a `|`, so whatever is between them is the app. */
export function countKey(key: string): CountKey {
  const first = key.indexOf("|");
  const last = key.lastIndexOf("|");
  return { provider: key.slice(0, first), app: key.slice(first + 1, last), status: key.slice(last + 1) as DeliveryStatus };
}

/** A `counts` object's deliveries by status. */
export function countsByStatus(counts: Record<string, number>, into: Partial<Record<DeliveryStatus, number>> = {}): Partial<Record<DeliveryStatus, number>> {
  for (const [key, n] of Object.entries(counts)) {
    const { status } = countKey(key);
    into[status] = (into[status] ?? 0) + n;
  }
  return into;
}
