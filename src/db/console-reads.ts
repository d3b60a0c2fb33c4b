/**
 * What the operations console reads beyond the API's own reads
 * (ledger-reads.ts, stats.ts): the list of events and the search by id,
 * the failures, the hourly chart, the recipients of the latest
 * notifications and the quarantine's counts by app. The lists walk the
 * ledger's summaries newest first by primary key and stop after one page
 * (summaries.ts); a document is read only where its summary cannot answer,
 * and whole (SQL cannot look into it): what a list shows is picked here.
 */
import { type DocRef, ksuidSeconds, refKey, type StoredDoc } from "./doc";
import { type DocRow, DOCS_PER_PAGE, parseDocRows, readDocsByRef, UNTIMED_LOOKBACK_SECONDS } from "./doc-store";
import { type DeliveryRow, entriesOf, type RowKey, rowsOf } from "./delivery-rows";
import type { DeliveryStatus } from "./ledger";
import { countKey, countsByStatus, docsNewestFirst, newestBuckets, pageOfWalk, sinceBucket, TOP_BUCKET, walkDocs } from "./summaries";

/** One event in the console's list: its bucket (the list's order), when it came, and its counts. */
export interface EventListing {
  event_id: string;
  bucket: number;
  /** When the webhook first accepted it (epoch ms). */
  received_at: number | null;
  notifications: number;
  deliveries: Partial<Record<DeliveryStatus, number>>;
}

/** Where a page of events starts: just after this one (newest first). */
export interface EventCursor {
  bucket: number;
  eventId: string;
}

/** A summary row as the event lists read it. */
interface Summary {
  bucket: number;
  seq: number;
  events: string;
  counts: string;
  notifications: number;
}

const SUMMARY = "SELECT l.bucket AS bucket, l.seq AS seq, l.events AS events, l.counts AS counts, l.notifications AS notifications FROM ledger AS l";

/** The SQL of the console's reads, exported so a test can check their query plans. */
export const CONSOLE_SQL = {
  events: `${SUMMARY} WHERE ${newestBuckets(() => "1")}`,
  // ?4: the id's beginning as `events` writes it (an opening quote, then the prefix).
  eventsByPrefix: `${SUMMARY} WHERE ${newestBuckets((a) => `instr(${a}.events, ?4) > 0`)}`,
  eventKnown: "SELECT 1 AS found FROM ledger WHERE bucket BETWEEN ?2 AND ?3 AND instr(events, ?1) > 0 LIMIT 1",
  hourly: `SELECT l.bucket / 3600 AS hour, c.key AS key, SUM(c.value) AS n FROM ledger AS l, json_each(l.counts) AS c
           WHERE l.bucket >= ?1 GROUP BY 1, 2`,
  // The documents whose counts have a failed or rejected delivery.
  failures: docsNewestFirst(`(instr(l.counts, '|failed"') > 0 OR instr(l.counts, '|rejected"') > 0)`),
  // The latest documents that name a recipient.
  recentDocs: docsNewestFirst("l.users <> '[]'"),
  // Without INDEXED BY, SQLite prefers walking every device in provider order to group them.
  quarantinedCounts: `SELECT provider, app, COUNT(*) AS n FROM devices INDEXED BY devices_quarantined
                      WHERE quarantined_at IS NOT NULL GROUP BY 1, 2`,
} as const;

/** A page of events, newest first (by bucket, then id), after `after`. */
export async function recentEvents(db: D1Database, limit: number, after?: EventCursor): Promise<EventListing[]> {
  // Each bucket holds an event at least: `limit` buckets below the cursor's fill a page.
  const { results } = await db.prepare(CONSOLE_SQL.events).bind(0, after?.bucket ?? TOP_BUCKET, limit).all<Summary>();
  const isAfter = (e: EventCursor) => !after || e.bucket < after.bucket || (e.bucket === after.bucket && e.eventId < after.eventId);
  return listEvents(db, results, pickEvents(results, limit, isAfter));
}

/** Events whose id starts with `prefix`, newest first, from the summaries of the retention window. */
export async function eventsByPrefix(db: D1Database, prefix: string, limit: number, now: number): Promise<EventListing[]> {
  const quoted = JSON.stringify(prefix).slice(0, -1);
  const { results } = await db
    .prepare(CONSOLE_SQL.eventsByPrefix)
    .bind(sinceBucket(now, UNTIMED_LOOKBACK_SECONDS), TOP_BUCKET, limit, quoted)
    .all<Summary>();
  return listEvents(db, results, pickEvents(results, limit, (e) => e.eventId.startsWith(prefix)));
}

/** The first `limit` events of the summaries that `keep` keeps, newest first, each once. */
function pickEvents(summaries: readonly Summary[], limit: number, keep: (e: EventCursor) => boolean): EventCursor[] {
  const events = new Map<string, EventCursor>();
  for (const { bucket, events: ids } of summaries) {
    for (const eventId of JSON.parse(ids) as string[]) if (!events.has(eventId) && keep({ bucket, eventId })) events.set(eventId, { bucket, eventId });
  }
  return [...events.values()].sort((a, b) => b.bucket - a.bucket || (a.eventId < b.eventId ? 1 : a.eventId > b.eventId ? -1 : 0)).slice(0, limit);
}

/** A document a list reads: the first of event `eventId`'s own, for the time it came, or (null) one several events share, counted by event. */
interface ListedDoc extends DocRef {
  eventId: string | null;
}

/**
 * The listed events with their counts. A summary that holds one event
 * counts for it as it is; a document shared by several events (of one
 * second, claimed together) is read and counted by event. Each event's
 * first own document says when it came.
 */
async function listEvents(db: D1Database, summaries: readonly Summary[], picked: readonly EventCursor[]): Promise<EventListing[]> {
  const listings = new Map(picked.map((e): [string, EventListing] => [e.eventId, { event_id: e.eventId, bucket: e.bucket, received_at: null, notifications: 0, deliveries: {} }]));
  const reads: ListedDoc[] = [];
  for (const summary of [...summaries].sort((a, b) => a.bucket - b.bucket || a.seq - b.seq)) {
    const ids = JSON.parse(summary.events) as string[];
    const at = { bucket: summary.bucket, seq: summary.seq };
    if (ids.length > 1) {
      if (ids.some((id) => listings.has(id))) reads.push({ ...at, eventId: null });
      continue;
    }
    const listing = listings.get(ids[0]!);
    if (!listing) continue;
    if (!reads.some((r) => r.eventId === listing.event_id)) reads.push({ ...at, eventId: listing.event_id });
    listing.notifications += summary.notifications;
    countsByStatus(JSON.parse(summary.counts) as Record<string, number>, listing.deliveries);
  }
  await addDocs(db, listings, reads);
  return [...listings.values()];
}

/** Reads the listed documents by key, DOCS_PER_PAGE a query (doc-store.ts), and adds each to the listings. */
async function addDocs(db: D1Database, listings: Map<string, EventListing>, reads: readonly ListedDoc[]): Promise<void> {
  for (let at = 0; at < reads.length; at += DOCS_PER_PAGE) {
    const page = reads.slice(at, at + DOCS_PER_PAGE);
    const eventOf = new Map(page.map((read) => [refKey(read), read.eventId]));
    for (const stored of await readDocsByRef(db, page)) addDoc(listings, eventOf.get(refKey(stored)) ?? null, stored);
  }
}

const earliest = (a: number | null, b: number): number => (a === null ? b : Math.min(a, b));

/** Adds a document read for the list: event `eventId`'s own for when it came, a shared one (null) counted by event. */
function addDoc(listings: Map<string, EventListing>, eventId: string | null, { bucket, doc }: StoredDoc): void {
  if (eventId !== null) {
    const listing = listings.get(eventId)!;
    listing.received_at = earliest(listing.received_at, doc.n[0]!.r);
    return;
  }
  for (const entry of entriesOf([{ bucket, doc }])) {
    const listing = listings.get(entry.eventId);
    if (!listing) continue;
    listing.notifications += 1;
    listing.received_at = earliest(listing.received_at, entry.notification.r);
    for (const delivery of rowsOf(entry)) listing.deliveries[delivery.status] = (listing.deliveries[delivery.status] ?? 0) + 1;
  }
}

/** Whether the ledger holds the event, from the summaries alone: the search goes straight to a known id. */
export async function eventKnown(db: D1Database, eventId: string, now: number): Promise<boolean> {
  const bucket = ksuidSeconds(eventId, now);
  const [from, to] = bucket === null ? [sinceBucket(now, UNTIMED_LOOKBACK_SECONDS), TOP_BUCKET] : [bucket, bucket];
  return (await db.prepare(CONSOLE_SQL.eventKnown).bind(JSON.stringify(eventId), from, to).first()) !== null;
}

/**
 * Deliveries per hour of their event's time and status since `since`: the
 * overview's chart. A held delivery is stacked with the retrying ones: it
 * waits the same way.
 */
export async function hourlyDeliveries(db: D1Database, since: number): Promise<{ hour: number; status: DeliveryStatus; n: number }[]> {
  const { results } = await db.prepare(CONSOLE_SQL.hourly).bind(Math.floor(since / 1000)).all<{ hour: number; key: string; n: number }>();
  const counts = new Map<string, { hour: number; status: DeliveryStatus; n: number }>();
  for (const { hour, key, n } of results) {
    const { status: shown } = countKey(key);
    const status = shown === "held" ? "retrying" : shown;
    const at = counts.get(`${hour}|${status}`);
    if (at) at.n += n;
    else counts.set(`${hour}|${status}`, { hour, status, n });
  }
  return [...counts.values()];
}

/** Failed and rejected deliveries of the retention window, newest first (by bucket, then event, index, token), after `after`. */
export async function recentFailures(db: D1Database, limit: number, after: RowKey | undefined, now: number): Promise<DeliveryRow[]> {
  const walk = { sql: CONSOLE_SQL.failures, from: sinceBucket(now, UNTIMED_LOOKBACK_SECONDS), top: after?.bucket ?? TOP_BUCKET, params: [] };
  const failed = (docs: StoredDoc[]) => entriesOf(docs).flatMap(rowsOf).filter((row) => row.status === "failed" || row.status === "rejected");
  return pageOfWalk(walkDocs(db, walk), failed, limit, after);
}

/** Quarantined devices by provider, then app. */
export async function quarantinedCounts(db: D1Database): Promise<{ provider: string; app: string; n: number }[]> {
  const { results } = await db.prepare(CONSOLE_SQL.quarantinedCounts).all<{ provider: string; app: string; n: number }>();
  return results;
}

/** Documents the Users page takes its starting points from: the latest few hold plenty of recipients. */
const RECENT_DOCS = 5;

/** Recipients of the latest notifications, newest first, each once: the Users page's starting points. */
export async function recentRecipients(db: D1Database, limit: number, now: number): Promise<{ custom_id: string | null; user_id: string | null }[]> {
  const { results } = await db
    .prepare(CONSOLE_SQL.recentDocs)
    .bind(sinceBucket(now, UNTIMED_LOOKBACK_SECONDS), TOP_BUCKET, Number.MAX_SAFE_INTEGER, RECENT_DOCS)
    .all<DocRow>();
  const recipients = new Map<string, { custom_id: string | null; user_id: string | null }>();
  for (const { notification: n } of entriesOf(await parseDocRows(results))) {
    const key = n.c !== null ? `c:${n.c}` : n.u !== null ? `u:${n.u}` : null;
    if (key !== null && !recipients.has(key)) recipients.set(key, { custom_id: n.c, user_id: n.u });
  }
  return [...recipients.values()].slice(0, limit);
}
