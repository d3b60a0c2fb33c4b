/**
 * What the operations API (and the console) read from the ledger: an
 * event's deliveries, page by page; a user's recent deliveries; what a
 * replay must resend. Each is one indexed query.
 */
import type { Provider } from "../push/providers";
import type { UserIdKind, UserIds } from "../vocabulary";
import type { QueuedNotification } from "../queue/message";
import { type DeliveryStatus, DEVICE_QUARANTINED, shownStatus } from "./ledger";

/** A delivery row with its notification's recipient and tap path. */
export interface DeliveryRow {
  idx: number;
  device_token: string;
  provider: Provider | "onesignal" | null;
  app: string | null;
  status: DeliveryStatus;
  attempts: number;
  provider_id: string | null;
  error: string | null;
  /** The provider's own words about a failure, where it gave any. */
  detail: string | null;
  user_id: string | null;
  custom_id: string | null;
  path: string | null;
  latency_ms: number | null;
  next_attempt_at: number | null;
  /** When the user opened the notification (epoch ms), whichever device they tapped it on. */
  opened_at: number | null;
  created_at: number;
  updated_at: number;
}

const DELIVERY_COLUMNS = `d.idx, d.device_token, d.provider, d.app, ${shownStatus("d")} AS status, d.attempts, d.provider_id, d.error, d.detail,
  n.user_id, n.custom_id, n.path, d.latency_ms, d.next_attempt_at,
  CASE WHEN d.status = 'sent' THEN n.opened_at END AS opened_at, d.created_at, d.updated_at`;

/** A page of an event's deliveries, in (index, token) order after `after`. */
export async function eventDeliveries(
  db: D1Database,
  eventId: string,
  options: { after?: { idx: number; token: string }; status?: DeliveryStatus; limit: number },
): Promise<DeliveryRow[]> {
  const after = options.after ?? { idx: -1, token: "" };
  const { results } = await db
    .prepare(
      `SELECT ${DELIVERY_COLUMNS}
       FROM deliveries AS d LEFT JOIN notifications AS n ON n.event_id = d.event_id AND n.idx = d.idx
       WHERE d.event_id = ?1 AND (d.idx, d.device_token) > (?2, ?3) AND (?4 IS NULL OR ${shownStatus("d")} = ?4)
       ORDER BY d.idx, d.device_token LIMIT ?5`,
    )
    .bind(eventId, after.idx, after.token, options.status ?? null, options.limit)
    .all<DeliveryRow>();
  return results;
}

/** Counts of an event's deliveries by status, and `opened`: its notifications the user opened. */
export async function eventSummary(db: D1Database, eventId: string): Promise<Partial<Record<DeliveryStatus | "opened", number>>> {
  const [statuses, opened] = await db.batch<{ status: DeliveryStatus; n: number }>([
    db.prepare(`SELECT ${shownStatus("d")} AS status, COUNT(*) AS n FROM deliveries AS d WHERE d.event_id = ?1 GROUP BY 1`).bind(eventId),
    db.prepare("SELECT 'opened' AS status, COUNT(*) AS n FROM notifications WHERE event_id = ?1 AND opened_at IS NOT NULL").bind(eventId),
  ]);
  const summary: Partial<Record<DeliveryStatus | "opened", number>> = Object.fromEntries(statuses!.results.map((r) => [r.status, r.n]));
  const opens = opened!.results[0]?.n ?? 0;
  if (opens > 0) summary.opened = opens;
  return summary;
}

/** The notifications of an event that have at least one `failed` delivery, for a replay. */
export async function failedNotifications(
  db: D1Database,
  eventId: string,
): Promise<{ notifications: QueuedNotification[]; deliveries: number }> {
  const { results } = await db
    .prepare(
      `SELECT n.idx AS i, n.title, n.body, n.path, n.user_id, n.custom_id, COUNT(*) AS failed
       FROM deliveries AS d JOIN notifications AS n ON n.event_id = d.event_id AND n.idx = d.idx
       WHERE d.event_id = ?1 AND d.status = 'failed' GROUP BY n.idx ORDER BY n.idx`,
    )
    .bind(eventId)
    .all<QueuedNotification & { failed: number }>();
  return {
    notifications: results.map(({ failed: _failed, ...notification }) => notification),
    deliveries: results.reduce((sum, r) => sum + r.failed, 0),
  };
}

/** A row of a user's deliveries: which event, and when its notification was recorded (the list's order). */
export type UserDeliveryRow = DeliveryRow & { event_id: string; notified_at: number };

/** Where a page of a user's deliveries starts: just after this row. */
export interface UserDeliveryCursor {
  notifiedAt: number;
  eventId: string;
  index: number;
  token: string;
}

/** A user's most recent deliveries, newest first, after `after`: "did Mary get her reminder?" */
export async function userDeliveries(
  db: D1Database,
  { by, id }: { by: UserIdKind; id: string },
  limit: number,
  after?: UserDeliveryCursor,
): Promise<UserDeliveryRow[]> {
  // `by` is one of two literals, never input text. The user's notifications
  // come from their index, newest first (from the cursor's time down); each
  // brings its rows by primary key.
  const start = after ?? { notifiedAt: Number.MAX_SAFE_INTEGER, eventId: "", index: -1, token: "" };
  const { results } = await db
    .prepare(
      `SELECT d.event_id, n.created_at AS notified_at, ${DELIVERY_COLUMNS}
       FROM notifications AS n JOIN deliveries AS d ON d.event_id = n.event_id AND d.idx = n.idx
       WHERE n.${by} = ?1 AND n.created_at <= ?3
         AND (n.created_at < ?3 OR (d.event_id, d.idx, d.device_token) > (?4, ?5, ?6))
       ORDER BY n.created_at DESC, d.event_id, d.idx, d.device_token LIMIT ?2`,
    )
    .bind(id, limit, start.notifiedAt, start.eventId, start.index, start.token)
    .all<UserDeliveryRow>();
  return results;
}

/** Events listed at most by heldEvents: an answer, not a report; the console's Failures page has the rest. */
export const HELD_EVENTS_LISTED = 100;

/**
 * The events, newest first, with a notification recorded `failed`
 * `device_quarantined` for one of these users: what to replay once their
 * devices are restored. Found through the notifications' user indexes and
 * each notification's placeholder row (primary key).
 */
export async function heldEvents(db: D1Database, owners: readonly UserIds[]): Promise<string[]> {
  if (owners.length === 0) return [];
  const held = (column: "custom_id" | "user_id", ids: "?1" | "?2") => `
    SELECT n.event_id, n.created_at FROM json_each(${ids}) AS j
    JOIN notifications AS n ON n.${column} = j.value
    JOIN deliveries AS d ON d.event_id = n.event_id AND d.idx = n.idx AND d.device_token = ''
    WHERE d.status = 'failed' AND d.error = ?3`;
  const ids = (column: "custom_id" | "user_id") => JSON.stringify([...new Set(owners.flatMap((o) => (o[column] === null ? [] : [o[column]])))]);
  const { results } = await db
    .prepare(
      `SELECT event_id FROM (${held("custom_id", "?1")} UNION ALL ${held("user_id", "?2")})
       GROUP BY event_id ORDER BY MAX(created_at) DESC LIMIT ?4`,
    )
    .bind(ids("custom_id"), ids("user_id"), DEVICE_QUARANTINED, HELD_EVENTS_LISTED)
    .all<{ event_id: string }>();
  return results.map((r) => r.event_id);
}

/** How many of an event's notifications reached a device (a `sent` delivery): what its opens are a share of. */
export async function eventReached(db: D1Database, eventId: string): Promise<number> {
  const reached = await db
    .prepare("SELECT COUNT(DISTINCT idx) AS n FROM deliveries WHERE event_id = ?1 AND status = 'sent'")
    .bind(eventId)
    .first<number>("n");
  return reached ?? 0;
}
