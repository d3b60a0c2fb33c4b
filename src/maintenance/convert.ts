/**
 * The conversion of the previous ledger (tables `events`, `notifications`,
 * `deliveries`; src/db/legacy.ts) into documents, a page of notifications
 * at a time, in each hourly run until it is empty. Until then every claim
 * and dead letter also asks the previous ledger for its notifications;
 * once it is empty, no isolate asks again.
 *
 * Newest events first: they are the ones still in flight and looked up,
 * and the oldest are deleted by retention within days anyway
 * (legacy-retention.ts, oldest first): the two meet in the middle, and no
 * event is converted only to be deleted.
 *
 * A page's notifications that a document already holds (a claim imported
 * them) only lose their old rows, after the document takes any change the
 * old rows have that it lacks (mergeNewer: a record of the previous version
 * that landed on the rows only). The others go into a new document per
 * bucket, and their old rows are deleted in the same transaction only if
 * the insert took (convert-guards.ts): a write that lost a race deletes
 * nothing, and the page is read and decided again.
 */
import { eventBucket } from "../db/doc";
import { bucketQueries, lastSeqPerBucket, WorkingSet } from "../db/doc-edit";
import { applyWrites, readDocs } from "../db/doc-store";
import { notificationKey } from "../db/ledger";
import { addRows, legacyRowsSql, type LegacyRow, mergeNewer } from "../db/legacy";
import { log } from "../log";
import { Budget, CALLS_PER_RUN, SWEEP_MS } from "./budget";
import { type Deleted, deleteStatements, readDeleted } from "./convert-guards";

export interface ConvertLimits {
  /**
   * Notifications moved per page: fewer than a consumer batch's worth (50
   * messages of 10), so no document it writes holds more than a claim's
   * and none nears D1's 2 MB per value.
   */
  notificationsPerPage: number;
  /** D1 calls one run may make (budget.ts): about 3 per page. */
  maxCalls: number;
  maxMs: number;
}

export const CONVERT_LIMITS: ConvertLimits = { notificationsPerPage: 200, maxCalls: CALLS_PER_RUN.conversion, maxMs: SWEEP_MS };

/** Reads and writes of one page before it is left for the next run. */
const TRIES = 3;

/** What one run moved: documents written, and the previous ledger's rows deleted. */
export interface ConvertResult extends Deleted {
  documents: number;
  calls: number;
  /** True once the previous ledger had nothing left for this run. */
  complete: boolean;
}

/** Where a run is, in newest-first order: the events up to (receivedAt, eventId), the latter's notifications after `index`. */
interface Position {
  receivedAt: number;
  eventId: string;
  index: number;
}

/**
 * The events of a page (?1 ?2: the position, ?3: at most), newest first,
 * through the index on (received_at, event_id). The first may be the
 * event the last page finished: a window is one event more than a page.
 */
const WINDOW_SQL = `
SELECT event_id, received_at FROM events WHERE (received_at, event_id) <= (?1, ?2)
ORDER BY received_at DESC, event_id DESC LIMIT ?3`;

/** The page's rows: the window's first ?5 notifications past the position (?4: the last index done of event ?2), with their deliveries. */
export const PAGE_SQL = legacyRowsSql(`(
  SELECT n.* FROM (${WINDOW_SQL}) AS w JOIN notifications AS n ON n.event_id = w.event_id
  WHERE NOT (n.event_id = ?2 AND n.idx <= ?4)
  ORDER BY w.received_at DESC, w.event_id DESC, n.idx LIMIT ?5) AS n`);

/** Moves the previous ledger into documents, a page at a time, within `limits`. */
export async function convertLedger(db: D1Database, now = Date.now(), limits: ConvertLimits = CONVERT_LIMITS, clock: () => number = Date.now): Promise<ConvertResult> {
  const budget = new Budget(limits.maxCalls, limits.maxMs, clock);
  const result: ConvertResult = { documents: 0, events: 0, notifications: 0, deliveries: 0, calls: 0, complete: false };
  let position: Position | null = { receivedAt: Number.MAX_SAFE_INTEGER, eventId: "", index: -1 };
  while (position !== null && budget.allows(1 + 2 * TRIES)) {
    const page = await readPage(db, position, limits.notificationsPerPage, budget);
    if (page.events.size > 0) {
      const moved = await movePage(db, page, now, budget);
      for (const key of ["documents", "events", "notifications", "deliveries"] as const) result[key] += moved[key];
    }
    position = page.next;
  }
  result.calls = budget.calls;
  result.complete = position === null;
  if (result.calls > 1) log("conversion", { ...result }, result.complete ? "info" : "warn");
  return result;
}

interface Page {
  /** The events of the window, with their buckets. */
  events: Map<string, number>;
  rows: LegacyRow[];
  /** Where the next page starts; null when this one reached the end. */
  next: Position | null;
}

/** One page of the previous ledger and where the next one starts (one call). */
async function readPage(db: D1Database, at: Position, limit: number, budget: Budget): Promise<Page> {
  const [window, found] = await budget.batch(db, [
    db.prepare(WINDOW_SQL).bind(at.receivedAt, at.eventId, limit + 1),
    db.prepare(PAGE_SQL).bind(at.receivedAt, at.eventId, limit + 1, at.index, limit),
  ]);
  const events = window!.results as { event_id: string; received_at: number }[];
  const rows = found!.results as LegacyRow[];
  const buckets = new Map(events.map((e) => [e.event_id, eventBucket(e.event_id, undefined, e.received_at)]));
  return { events: buckets, rows, next: nextPosition(events, rows, limit) };
}

/** After the page's last notification if it is full, else after its window if that is full, else the end. */
function nextPosition(events: readonly { event_id: string; received_at: number }[], rows: readonly LegacyRow[], limit: number): Position | null {
  const order = new Map(events.map((e, at) => [e.event_id, at]));
  const notifications = new Set(rows.map((r) => notificationKey({ eventId: r.e, index: r.i })));
  if (notifications.size >= limit) {
    const last = rows.reduce((a, b) => (order.get(b.e)! > order.get(a.e)! || (b.e === a.e && b.i > a.i) ? b : a));
    return { receivedAt: events[order.get(last.e)!]!.received_at, eventId: last.e, index: last.i };
  }
  const end = events.at(-1);
  return events.length <= limit || !end ? null : { receivedAt: end.received_at, eventId: end.event_id, index: Number.MAX_SAFE_INTEGER };
}

/** Moves one page: documents for what no document holds, the old rows gone where a document holds them now. */
async function movePage(db: D1Database, page: Page, now: number, budget: Budget): Promise<Deleted & { documents: number }> {
  const moved = { documents: 0, events: 0, notifications: 0, deliveries: 0 };
  const bucketOf = (row: LegacyRow) => page.events.get(row.e)!;
  const queries = bucketQueries(page.rows.map((r) => ({ bucket: bucketOf(r), eventId: r.e, index: r.i })));
  for (let attempt = 1; attempt <= TRIES; attempt++) {
    budget.spend(2);
    const read = await readDocs(db, [...queries.values()]);
    const set = new WorkingSet(read, queries, lastSeqPerBucket(read));
    addRows(set, page.rows, bucketOf);
    mergeNewer(set, page.rows);
    const writes = set.writes();
    const deletes = deleteStatements(db, set, writes, { rows: page.rows, events: [...page.events.keys()] });
    const applied = await applyWrites(db, "convert", writes, now, deletes.statements);
    const deleted = readDeleted(applied.results, deletes);
    for (const key of ["events", "notifications", "deliveries"] as const) moved[key] += deleted[key];
    moved.documents += applied.written.filter((w) => w !== null).length;
    if (applied.written.every((w) => w !== null)) break;
  }
  return moved;
}
