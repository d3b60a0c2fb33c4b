/**
 * What the operations console reads beyond the API's own queries
 * (ledger-reads.ts, stats.ts): the list of events, the failures, the
 * hourly chart and the quarantine's counts by app. D1 bills every row read and a
 * busy ledger holds millions, so each query walks an index from where the
 * page starts and stops after one page; the per-event counts read only the
 * events on the page.
 */
import type { DeliveryStatus } from "./ledger";

/** One webhook event, newest first in the list. */
export interface EventRow {
  event_id: string;
  received_at: number;
}

/** Where a page of events starts: just after this one (newest first). */
export interface EventCursor {
  receivedAt: number;
  eventId: string;
}

/** The SQL of the console's list queries, exported so a test can check their query plans. */
export const CONSOLE_SQL = {
  events: `SELECT event_id, received_at FROM events
           WHERE (received_at, event_id) < (?1, ?2) ORDER BY received_at DESC, event_id DESC LIMIT ?3`,
  eventsByPrefix: `SELECT event_id, received_at FROM events
                   WHERE event_id >= ?1 AND event_id < ?2 ORDER BY event_id LIMIT ?3`,
  notificationCounts: `SELECT j.value AS event_id, (SELECT MAX(idx) + 1 FROM notifications AS n WHERE n.event_id = j.value) AS n
                       FROM json_each(?1) AS j`,
  statusCounts: `SELECT d.event_id, d.status, COUNT(*) AS n
                 FROM json_each(?1) AS j JOIN deliveries AS d ON d.event_id = j.value GROUP BY 1, 2`,
  hourly: `SELECT updated_at / 3600000 AS hour, status, COUNT(*) AS n FROM deliveries
           WHERE updated_at >= ?1 GROUP BY 1, 2`,
  failures: `SELECT d.event_id, d.idx, d.device_token, d.provider, d.app, d.status, d.attempts, d.error, d.detail, d.updated_at,
                    n.custom_id, n.user_id
             FROM deliveries AS d LEFT JOIN notifications AS n ON n.event_id = d.event_id AND n.idx = d.idx
             WHERE d.status IN ('failed', 'rejected')
               AND (d.updated_at, d.event_id, d.idx, d.device_token) < (?1, ?2, ?3, ?4)
             ORDER BY d.updated_at DESC, d.event_id DESC, d.idx DESC, d.device_token DESC LIMIT ?5`,
  notificationTexts: `SELECT n.idx, n.title, n.body FROM json_each(?2) AS j
                      JOIN notifications AS n ON n.event_id = ?1 AND n.idx = j.value`,
  // The first notifications of each of the latest events, by primary key: a fan-out of thousands reads only `?2` rows.
  recentRecipients: `SELECT n.custom_id, n.user_id FROM json_each(?1) AS j
                     JOIN notifications AS n ON n.event_id = j.value AND n.idx < ?2
                     WHERE n.custom_id IS NOT NULL OR n.user_id IS NOT NULL ORDER BY j.key, n.idx LIMIT ?2`,
  // Without INDEXED BY, SQLite prefers walking every device in provider order to group them.
  quarantinedCounts: `SELECT provider, app, COUNT(*) AS n FROM devices INDEXED BY devices_quarantined
                      WHERE quarantined_at IS NOT NULL GROUP BY 1, 2`,
} as const;

/** A page of events, newest first, after `after`. */
export async function recentEvents(db: D1Database, limit: number, after?: EventCursor): Promise<EventRow[]> {
  const start = after ?? { receivedAt: Number.MAX_SAFE_INTEGER, eventId: "" };
  const { results } = await db.prepare(CONSOLE_SQL.events).bind(start.receivedAt, start.eventId, limit).all<EventRow>();
  return results;
}

/** The highest code point: every id that starts with a prefix sorts below prefix + this. */
const AFTER_EVERY_SUFFIX = "\u{10FFFF}";

/** Events whose Svix id starts with `prefix`, in id order (a primary-key range). */
export async function eventsByPrefix(db: D1Database, prefix: string, limit: number): Promise<EventRow[]> {
  const { results } = await db
    .prepare(CONSOLE_SQL.eventsByPrefix)
    .bind(prefix, prefix + AFTER_EVERY_SUFFIX, limit)
    .all<EventRow>();
  return results;
}

/** One event's row, or null. */
export async function eventRow(db: D1Database, eventId: string): Promise<EventRow | null> {
  return db.prepare("SELECT event_id, received_at FROM events WHERE event_id = ?1").bind(eventId).first<EventRow>();
}

/** Per event: how many notifications it carried and its deliveries by status. */
export interface EventCounts {
  notifications: number;
  deliveries: Partial<Record<DeliveryStatus, number>>;
}

/**
 * Counts for the events of one page, in one round trip. Notifications are
 * numbered from 0, so the highest index answers "how many" from the
 * primary key alone; the status counts read each listed event's deliveries
 * (its own primary-key range), never another event's.
 */
export async function eventCounts(db: D1Database, eventIds: readonly string[]): Promise<Map<string, EventCounts>> {
  const counts = new Map<string, EventCounts>(eventIds.map((id) => [id, { notifications: 0, deliveries: {} }]));
  if (eventIds.length === 0) return counts;
  const ids = JSON.stringify(eventIds);
  const [notifications, deliveries] = await db.batch<{ event_id: string; status?: DeliveryStatus; n: number }>([
    db.prepare(CONSOLE_SQL.notificationCounts).bind(ids),
    db.prepare(CONSOLE_SQL.statusCounts).bind(ids),
  ]);
  for (const row of notifications!.results) counts.get(row.event_id)!.notifications = row.n ?? 0;
  for (const row of deliveries!.results) counts.get(row.event_id)!.deliveries[row.status!] = row.n;
  return counts;
}

/** Deliveries per hour (by last update) and status since `since`: the overview's chart. */
export async function hourlyDeliveries(
  db: D1Database,
  since: number,
): Promise<{ hour: number; status: DeliveryStatus; n: number }[]> {
  const { results } = await db.prepare(CONSOLE_SQL.hourly).bind(since).all<{ hour: number; status: DeliveryStatus; n: number }>();
  return results;
}

/** A failed or rejected delivery, with its notification's recipient. */
export interface FailureRow {
  event_id: string;
  idx: number;
  device_token: string;
  provider: string | null;
  app: string | null;
  status: "failed" | "rejected";
  attempts: number;
  error: string | null;
  detail: string | null;
  updated_at: number;
  custom_id: string | null;
  user_id: string | null;
}

/** Where a page of failures starts: just after this row (newest first). */
export interface FailureCursor {
  updatedAt: number;
  eventId: string;
  index: number;
  token: string;
}

/** Failed and rejected deliveries, newest first, through the partial index of failures (migration 0008). */
export async function recentFailures(db: D1Database, limit: number, after?: FailureCursor): Promise<FailureRow[]> {
  // The row after the last possible one: every real row sorts below it.
  const start = after ?? { updatedAt: Number.MAX_SAFE_INTEGER, eventId: "", index: 0, token: "" };
  const { results } = await db
    .prepare(CONSOLE_SQL.failures)
    .bind(start.updatedAt, start.eventId, start.index, start.token, limit)
    .all<FailureRow>();
  return results;
}

/** Quarantined devices by provider, then app. */
export async function quarantinedCounts(db: D1Database): Promise<{ provider: string; app: string; n: number }[]> {
  const { results } = await db.prepare(CONSOLE_SQL.quarantinedCounts).all<{ provider: string; app: string; n: number }>();
  return results;
}

/** What a notification said, as the webhook carried it (null where it was missing or not text). */
export interface NotificationText {
  idx: number;
  title: string | null;
  body: string | null;
}

/** The title and body of the notifications `indexes` of one event (the rows of one page), by primary key. */
export async function notificationTexts(db: D1Database, eventId: string, indexes: readonly number[]): Promise<Map<number, NotificationText>> {
  if (indexes.length === 0) return new Map();
  const { results } = await db
    .prepare(CONSOLE_SQL.notificationTexts)
    .bind(eventId, JSON.stringify([...new Set(indexes)]))
    .all<NotificationText>();
  return new Map(results.map((row) => [row.idx, row]));
}

/** Recipients of the latest notifications, newest event first: the Users page's starting points. */
export async function recentRecipients(db: D1Database, limit: number): Promise<{ custom_id: string | null; user_id: string | null }[]> {
  const events = await recentEvents(db, 5);
  if (events.length === 0) return [];
  const { results } = await db
    .prepare(CONSOLE_SQL.recentRecipients)
    .bind(JSON.stringify(events.map((e) => e.event_id)), limit * 4)
    .all<{ custom_id: string | null; user_id: string | null }>();
  const seen = new Set<string>();
  return results
    .filter((r) => {
      const key = r.custom_id !== null ? `c:${r.custom_id}` : `u:${r.user_id}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .slice(0, limit);
}
