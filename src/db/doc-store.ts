/**
 * Reading and writing the ledger's documents (doc.ts; migration 0014).
 *
 * Every write is checked: an insert only if no document of the bucket that
 * may hold one of its notifications was written since the read, an update
 * only if the document's version is the one read. A write that loses the
 * race changes nothing and says so; the caller reads again and decides
 * again. D1 runs a batch as one transaction on its single writer, so the
 * check and the write cannot be split.
 */
import { type Doc, type DocRef, ksuidSeconds, type StoredDoc, summarize } from "./doc";

/** The documents of one bucket that may hold these events' notifications lo..hi. */
export interface BucketQuery {
  bucket: number;
  events: readonly string[];
  lo: number;
  hi: number;
}

/**
 * Documents that may hold one of a query's notifications: same bucket, an
 * index range that meets [lo, hi], and, for a query of one event (a
 * fan-out's messages), that event. A query of many events (single
 * reminders of the same second) reads the bucket's documents whose range
 * meets it: matching each against each event would cost a row read per
 * pair (D1 counts the rows json_each yields), more than the documents.
 * `l` is the `ledger` row; the arguments are SQL expressions (`one` the
 * only event's id, or NULL).
 */
const overlaps = (b: string, lo: string, hi: string, one: string) =>
  `l.bucket = ${b} AND l.lo <= ${hi} AND l.hi >= ${lo} AND (${one} IS NULL OR instr(l.events, json_quote(${one})) > 0)`;

/** The event a query is filtered by: its only one, else none. */
const onlyEvent = (q: BucketQuery): string | null => (q.events.length === 1 ? q.events[0]! : null);

/** A document's columns as DocRow reads them, `d` the `ledger_docs` row. */
export const DOC_COLUMNS = "d.bucket AS bucket, d.seq AS seq, d.v AS v, d.doc AS doc";

/**
 * Documents one query of a list returns at most. D1 holds a value to 2 MB
 * and answers a query with 50 MB at most: 20 documents stay under that
 * even were each at D1's cap (a fan-out's few hundred notifications are
 * some tens of KB deflated). A list decodes and filters each page before
 * it reads the next, so a Worker holds one page of documents at a time.
 */
export const DOCS_PER_PAGE = 20;

/**
 * A document is stored as deflated JSON: the keys and the text a reminder
 * repeats for every user shrink to almost nothing, so what is stored is
 * mostly what is unique per delivery (the device token, the provider's
 * message id). Measured on the bench's fan-out: docs/capacity-and-costs.md.
 */
async function deflate(doc: Doc): Promise<ArrayBuffer> {
  return new Response(new Blob([JSON.stringify(doc)]).stream().pipeThrough(new CompressionStream("deflate-raw"))).arrayBuffer();
}

async function inflate(stored: ArrayBuffer | number[]): Promise<Doc> {
  const bytes = stored instanceof ArrayBuffer ? new Uint8Array(stored) : new Uint8Array(stored);
  return (await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"))).json()) as Doc;
}

/** A `ledger_docs` row as D1 returns it (selected as DOC_COLUMNS). */
export type DocRow = DocRef & { v: number; doc: ArrayBuffer | number[] };
/** Documents from their rows. */
export const parseDocRows = (rows: readonly DocRow[]): Promise<StoredDoc[]> =>
  Promise.all(rows.map(async (r) => ({ bucket: r.bucket, seq: r.seq, v: r.v, doc: await inflate(r.doc) })));

/** The read of readDocs, to batch with other statements; `parseDocs` reads its result. */
export function docsStatement(db: D1Database, queries: readonly BucketQuery[]): D1PreparedStatement {
  const list = JSON.stringify(queries.map((q) => ({ b: q.bucket, lo: q.lo, hi: q.hi, e: onlyEvent(q) })));
  return db
    .prepare(
      `SELECT DISTINCT ${DOC_COLUMNS} FROM json_each(?1) AS q
       JOIN ledger AS l ON ${overlaps("q.value->>'b'", "q.value->>'lo'", "q.value->>'hi'", "q.value->>'e'")}
       JOIN ledger_docs AS d ON d.bucket = l.bucket AND d.seq = l.seq
       ORDER BY d.bucket, d.seq`,
    )
    .bind(list);
}

export const parseDocs = (result: D1Result): Promise<StoredDoc[]> => parseDocRows(result.results as DocRow[]);

/** The SQL of the reads by key and of an event's documents, exported so a test can check their query plans. */
export const DOC_READS_SQL = {
  byRef: `SELECT ${DOC_COLUMNS} FROM json_each(?1) AS q
          JOIN ledger_docs AS d ON d.bucket = q.value->>'b' AND d.seq = q.value->>'s' ORDER BY d.bucket, d.seq`,
  // The event (?1) in the summaries of buckets ?2..?3. CROSS JOIN keeps the summaries outside: left to choose,
  // SQLite may walk the documents of the range instead, a month of them for an id that does not name its bucket.
  // Ordered by the summaries' key, which that walk already follows: no sort.
  event: `SELECT ${DOC_COLUMNS} FROM ledger AS l CROSS JOIN ledger_docs AS d ON d.bucket = l.bucket AND d.seq = l.seq
          WHERE l.bucket BETWEEN ?2 AND ?3 AND instr(l.events, json_quote(?1)) > 0 ORDER BY l.bucket, l.seq`,
} as const;

/** The documents that may hold the queries' notifications (one round trip). */
export async function readDocs(db: D1Database, queries: readonly BucketQuery[]): Promise<StoredDoc[]> {
  if (queries.length === 0) return [];
  return parseDocs(await docsStatement(db, queries).all());
}

/** Documents by key. */
export async function readDocsByRef(db: D1Database, refs: readonly DocRef[]): Promise<StoredDoc[]> {
  if (refs.length === 0) return [];
  const { results } = await db
    .prepare(DOC_READS_SQL.byRef)
    .bind(JSON.stringify(refs.map((r) => ({ b: r.bucket, s: r.seq }))))
    .all<DocRow>();
  return parseDocRows(results);
}

/**
 * How far back an event is looked for when its id does not say its
 * bucket: the retention window and a day (retention.ts keeps 30 days).
 */
export const UNTIMED_LOOKBACK_SECONDS = 31 * 86_400;

/**
 * The documents holding any of an event's notifications. With its bucket
 * known (a Svix id, a queued message), one bucket is read; otherwise the
 * summaries of the last 31 days are scanned for the id.
 */
export async function eventDocs(db: D1Database, eventId: string, bucket: number | null, now: number): Promise<StoredDoc[]> {
  const range = bucket === null ? [Math.floor(now / 1000) - UNTIMED_LOOKBACK_SECONDS, Number.MAX_SAFE_INTEGER] : [bucket, bucket];
  const { results } = await db.prepare(DOC_READS_SQL.event).bind(eventId, range[0], range[1]).all<DocRow>();
  return parseDocRows(results);
}

/**
 * Where the ledger already holds events whose ids do not carry their time
 * (not Svix's): the bucket of each one's first document, from the
 * summaries of the last 31 days. Their bucket comes from the envelope's
 * `timestamp` (doc.ts eventBucket), which a sender other than Svix may
 * change between deliveries of the same id; found here, every delivery of
 * the id goes to the documents the first one wrote. Svix ids never need it.
 */
export async function bucketsOfUntimedEvents(db: D1Database, eventIds: readonly string[], now: number): Promise<Map<string, number>> {
  const untimed = eventIds.filter((id) => ksuidSeconds(id, now) === null);
  if (untimed.length === 0) return new Map();
  const { results } = await db
    .prepare(
      `SELECT e.value AS id, MIN(l.bucket) AS bucket FROM json_each(?1) AS e
       JOIN ledger AS l ON l.bucket >= ?2 AND instr(l.events, json_quote(e.value)) > 0 GROUP BY e.value`,
    )
    .bind(JSON.stringify(untimed), Math.floor(now / 1000) - UNTIMED_LOOKBACK_SECONDS)
    .all<{ id: string; bucket: number }>();
  return new Map(results.map((r) => [r.id, r.bucket]));
}

/**
 * A document written in bucket ?1 after `seq` ?4 by another transaction
 * (its write id not among ?8) that may hold one of the insert's
 * notifications: an index range meeting ?5..?6 and one of the events ?7.
 * Only documents written since the read are looked at, a handful at most,
 * so matching each against each event stays cheap (D1 counts the rows
 * json_each yields); and a claim of other events in the same second does
 * not make the insert lose.
 */
const WRITTEN_SINCE = `SELECT 1 FROM ledger AS l JOIN ledger_docs AS x ON x.bucket = l.bucket AND x.seq = l.seq
  WHERE l.bucket = ?1 AND l.seq > ?4 AND l.lo <= ?6 AND l.hi >= ?5
    AND x.w NOT IN (SELECT value FROM json_each(?8))
    AND EXISTS (SELECT 1 FROM json_each(?7) AS e WHERE instr(l.events, json_quote(e.value)) > 0)`;

/**
 * A document to write: new in `bucket` (checked against the documents
 * written there after `after`, the last `seq` its read saw), or a new
 * version of one read.
 */
export type DocWrite = (
  | { kind: "insert"; bucket: number; doc: Doc; query: BucketQuery; after: number }
  | { kind: "update"; stored: StoredDoc; doc: Doc }
) & { w?: string };

/**
 * A write's own id (made on first use), which its document keeps until the
 * next write: the summary row is written only beside the document write
 * that carries it, and a statement of the same transaction can ask whether
 * the write took.
 */
export const writeIdOf = (write: DocWrite): string => (write.w ??= crypto.randomUUID().slice(0, 13));

const SUMMARY_COLUMNS = "lo, hi, events, users, counts, open_at, notifications";

/**
 * The two statements of a write: the document (checked), then its summary
 * row, written only if the document write happened. The first statement's
 * `changes` says whether the write took. Each begins with a comment naming
 * the ledger step (`claim`, `record`, ...), which D1's query insights show.
 */
async function writeStatements(db: D1Database, write: DocWrite, now: number, step: LedgerStep, ownInserts: readonly string[]): Promise<D1PreparedStatement[]> {
  const w = writeIdOf(write);
  const label = `/* ledger ${step} */ `;
  const s = summarize(write.doc);
  const summary = [s.lo, s.hi, s.events, s.users, s.counts, s.openAt, s.notifications] as const;
  const doc = await deflate(write.doc);
  if (write.kind === "update") {
    const { bucket, seq, v } = write.stored;
    return [
      db.prepare(`${label}UPDATE ledger_docs SET v = v + 1, w = ?4, doc = ?5 WHERE bucket = ?1 AND seq = ?2 AND v = ?3`).bind(bucket, seq, v, w, doc),
      db
        .prepare(
          `UPDATE ledger SET (${SUMMARY_COLUMNS}, updated_at) = (?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
           WHERE bucket = ?1 AND seq = ?2 AND EXISTS (SELECT 1 FROM ledger_docs WHERE bucket = ?1 AND seq = ?2 AND w = ?3)`,
        )
        .bind(bucket, seq, w, ...summary, now),
    ];
  }
  const q = write.query;
  return [
    db
      .prepare(
        `${label}INSERT INTO ledger_docs (bucket, seq, v, w, doc)
         SELECT ?1, next, 1, ?2, ?3 FROM (SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM ledger_docs WHERE bucket = ?1)
         WHERE NOT EXISTS (${WRITTEN_SINCE})
         RETURNING seq`,
      )
      .bind(write.bucket, w, doc, write.after, q.lo, q.hi, JSON.stringify(q.events), JSON.stringify(ownInserts)),
    db
      .prepare(
        `INSERT INTO ledger (bucket, seq, ${SUMMARY_COLUMNS}, created_at, updated_at)
         SELECT bucket, seq, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10 FROM ledger_docs
         WHERE bucket = ?1 AND seq = (SELECT MAX(seq) FROM ledger_docs WHERE bucket = ?1) AND w = ?2`,
      )
      .bind(write.bucket, w, ...summary, now),
  ];
}

/** What a batch of writes did: each write's document as stored now (null if the write lost its race), and the extra statements' results. */
export interface Applied {
  written: (StoredDoc | null)[];
  results: D1Result[];
}

/** The steps that write documents, as their statements are labelled. */
export type LedgerStep = "claim" | "record" | "dead_letter" | "rejection" | "open" | "receipts" | "sweep" | "convert";

/** Runs the writes (and `extra` statements after them) in one transaction. */
export async function applyWrites(
  db: D1Database,
  step: LedgerStep,
  writes: readonly DocWrite[],
  now: number,
  extra: readonly D1PreparedStatement[] = [],
): Promise<Applied> {
  // Ids first: each insert's check leaves out the documents the others of this transaction insert.
  const ownInserts = writes.filter((w) => w.kind === "insert").map(writeIdOf);
  const statements = (await Promise.all(writes.map((w) => writeStatements(db, w, now, step, ownInserts)))).flat();
  if (statements.length + extra.length === 0) return { written: [], results: [] };
  const results = await db.batch<{ seq: number }>([...statements, ...extra]);
  const written = writes.map((write, i): StoredDoc | null => {
    const result = results[i * 2]!;
    if ((result.meta.changes ?? 0) === 0) return null;
    if (write.kind === "update") return { bucket: write.stored.bucket, seq: write.stored.seq, v: write.stored.v + 1, doc: write.doc };
    return { bucket: write.bucket, seq: result.results[0]!.seq, v: 1, doc: write.doc };
  });
  return { written, results: results.slice(statements.length) };
}
