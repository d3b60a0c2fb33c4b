/**
 * What the operations API and the console read about one event or one
 * user: an event's deliveries page by page, its counts and opens, what a
 * replay must resend; a user's recent deliveries; the events held for
 * quarantined devices. The rows come from the one read model
 * (delivery-rows.ts), whichever page or route shows them.
 */
import type { QueuedNotification } from "../queue/message";
import type { UserIdKind, UserIds } from "../vocabulary";
import { ksuidSeconds, type StoredDoc } from "./doc";
import { eventDocs } from "./doc-store";
import { type DeliveryRow, entriesOf, inEventOrder, newestFirst, type NotificationEntry, type RowKey, rowsOf } from "./delivery-rows";
import { type DeliveryStatus, DEVICE_QUARANTINED } from "./ledger";
import { QUARANTINE_MS } from "./quarantine";
import { docsNewestFirst, pageOfWalk, sinceBucket, TOP_BUCKET, USER_LOOKBACK_SECONDS, walkDocs } from "./summaries";

export type { DeliveryRow };

/** One event as the ledger holds it: its notifications, each with its deliveries. */
export interface EventLedger {
  eventId: string;
  entries: NotificationEntry[];
}

/**
 * Reads an event once for everything shown or done with it. A Svix id
 * names its bucket (a KSUID carries its second), so one bucket is read;
 * any other id is looked for in the summaries of the retention window
 * (doc-store.ts eventDocs). Those documents may hold other events of the
 * same second: only this event's notifications are kept.
 */
export async function readEvent(db: D1Database, eventId: string, now: number): Promise<EventLedger> {
  const docs = await eventDocs(db, eventId, ksuidSeconds(eventId, now), now);
  return { eventId, entries: entriesOf(docs).filter((entry) => entry.eventId === eventId) };
}

const rowsOfEvent = (event: EventLedger): DeliveryRow[] => event.entries.flatMap(rowsOf);

/** An event's deliveries by shown status, and `opened`: its notifications the user opened. Empty when the ledger does not know the event. */
export function eventSummary(event: EventLedger): Partial<Record<DeliveryStatus | "opened", number>> {
  const summary: Partial<Record<DeliveryStatus | "opened", number>> = {};
  for (const row of rowsOfEvent(event)) summary[row.status] = (summary[row.status] ?? 0) + 1;
  const opened = event.entries.filter((entry) => entry.notification.o !== undefined).length;
  if (opened > 0) summary.opened = opened;
  return summary;
}

/** Which of an event's deliveries a page shows: after `after` (index, token), of one shown status if given. */
export interface EventPageQuery {
  after?: { idx: number; token: string };
  status?: DeliveryStatus;
  limit: number;
}

/** A page of an event's deliveries, in (index, token) order. */
function eventDeliveries(event: EventLedger, options: EventPageQuery): DeliveryRow[] {
  const after = options.after && { idx: options.after.idx, device_token: options.after.token };
  return rowsOfEvent(event)
    .filter((row) => (options.status === undefined || row.status === options.status) && (!after || inEventOrder(row, after) > 0))
    .sort(inEventOrder)
    .slice(0, options.limit);
}

/** How many of an event's notifications reached a device (a `sent` delivery): what its opens are a share of. */
const eventReached = (event: EventLedger): number =>
  event.entries.filter((entry) => entry.deliveries.some((d) => d.s === "sent")).length;

/** When the webhook first accepted the event (epoch ms). */
const eventReceivedAt = (event: EventLedger): number =>
  event.entries.reduce((first, entry) => Math.min(first, entry.notification.r), Number.MAX_SAFE_INTEGER);

/** What the API and the console show of an event: its counts, one page of its deliveries, its reach and when it came. */
export interface EventPage {
  summary: Partial<Record<DeliveryStatus | "opened", number>>;
  rows: DeliveryRow[];
  /** Notifications that reached a device: what `summary.opened` is a share of. */
  reached: number;
  receivedAt: number;
}

/** One page of an event, from one read of it; null when the ledger has no delivery of the event. */
export async function eventPage(db: D1Database, eventId: string, query: EventPageQuery, now: number): Promise<EventPage | null> {
  const event = await readEvent(db, eventId, now);
  const summary = eventSummary(event);
  if (Object.keys(summary).length === 0) return null;
  return { summary, rows: eventDeliveries(event, query), reached: eventReached(event), receivedAt: eventReceivedAt(event) };
}

/** What a replay resends: the notifications with a `failed` delivery, by the bucket the consumer finds them in, and how many deliveries failed. */
export interface FailedNotifications {
  byBucket: Map<number, QueuedNotification[]>;
  deliveries: number;
}

export function failedNotifications(event: EventLedger): FailedNotifications {
  const byBucket = new Map<number, QueuedNotification[]>();
  let deliveries = 0;
  for (const { bucket, notification: n, deliveries: ds } of [...event.entries].sort((a, b) => a.notification.i - b.notification.i)) {
    const failed = ds.filter((d) => d.s === "failed").length;
    if (failed === 0) continue;
    deliveries += failed;
    // A delivery fails only after its notification came through the queue, whole: only a rejected one has nulls.
    const notification = { i: n.i, title: n.ti, body: n.b, path: n.pa, user_id: n.u, custom_id: n.c } as QueuedNotification;
    const list = byBucket.get(bucket);
    if (list) list.push(notification);
    else byBucket.set(bucket, [notification]);
  }
  return { byBucket, deliveries };
}

/** The document field that names a user, by the API's kind of id. */
const USER_FIELD: Record<UserIdKind, "c" | "u"> = { custom_id: "c", user_id: "u" };

/** The SQL of the reads that span events (summaries.ts docsNewestFirst), exported so a test can check their query plans. */
export const LEDGER_READS_SQL = {
  // The documents whose summaries name the user (?5, as `users` writes it).
  userDeliveries: docsNewestFirst("instr(l.users, ?5) > 0"),
  // The documents with a failed placeholder whose summaries name an owner (?5, a JSON array of names as `users` writes them).
  heldEvents: docsNewestFirst(
    `instr(l.counts, '"none|none|failed"') > 0 AND EXISTS (SELECT 1 FROM json_each(?5) AS o WHERE instr(l.users, o.value) > 0)`,
  ),
} as const;

/** Where a page of a user's deliveries starts: just after this row. */
export type UserDeliveryCursor = RowKey;

/**
 * A user's deliveries of the last week, newest first, after `after`: "did
 * Mary get her reminder?". The summaries of the week are scanned for the
 * user (summaries.ts), the documents that name them read until the page is
 * settled, and only the user's own notifications come out of them.
 */
export async function userDeliveries(
  db: D1Database,
  { by, id }: { by: UserIdKind; id: string },
  limit: number,
  after: UserDeliveryCursor | undefined,
  now: number,
): Promise<DeliveryRow[]> {
  const field = USER_FIELD[by];
  const walk = {
    sql: LEDGER_READS_SQL.userDeliveries,
    from: sinceBucket(now, USER_LOOKBACK_SECONDS),
    top: after?.bucket ?? TOP_BUCKET,
    params: [JSON.stringify(`${field}:${id}`)],
  };
  const own = (docs: StoredDoc[]) => entriesOf(docs).filter((entry) => entry.notification[field] === id).flatMap(rowsOf);
  return pageOfWalk(walkDocs(db, walk), own, limit, after);
}

/** Events listed at most by heldEvents: an answer, not a report; the console's Failures page has the rest. */
export const HELD_EVENTS_LISTED = 100;

/**
 * How far back held notifications are looked for: a hold ends within
 * QUARANTINE_MS (restored or purged), and an event's own time may precede
 * its delivery by a day of Svix's retries.
 */
const HELD_LOOKBACK_SECONDS = QUARANTINE_MS / 1000 + 2 * 86_400;

/**
 * The events, newest first, with a notification recorded `failed`
 * `device_quarantined` for one of these users: what to replay once their
 * devices are restored.
 */
export async function heldEvents(db: D1Database, owners: readonly UserIds[], now: number): Promise<string[]> {
  if (owners.length === 0) return [];
  const customIds = new Set(owners.flatMap((o) => (o.custom_id === null ? [] : [o.custom_id])));
  const userIds = new Set(owners.flatMap((o) => (o.user_id === null ? [] : [o.user_id])));
  const names = [...[...customIds].map((id) => `c:${id}`), ...[...userIds].map((id) => `u:${id}`)].map((name) => JSON.stringify(name));
  const owned = (row: DeliveryRow) => (row.custom_id !== null && customIds.has(row.custom_id)) || (row.user_id !== null && userIds.has(row.user_id));
  const walk = { sql: LEDGER_READS_SQL.heldEvents, from: sinceBucket(now, HELD_LOOKBACK_SECONDS), top: TOP_BUCKET, params: [JSON.stringify(names)] };
  const held: DeliveryRow[] = [];
  for await (const docs of walkDocs(db, walk)) held.push(...entriesOf(docs).flatMap(rowsOf).filter((row) => heldPlaceholder(row) && owned(row)));
  return [...new Set(held.sort(newestFirst).map((row) => row.event_id))].slice(0, HELD_EVENTS_LISTED);
}

/** A notification the pruning brake held back from a quarantined device: a placeholder recorded `failed` `device_quarantined`. */
const heldPlaceholder = (row: DeliveryRow): boolean => row.device_token === "" && row.status === "failed" && row.error === DEVICE_QUARANTINED;
