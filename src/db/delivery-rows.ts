/**
 * The ledger's one read model: a delivery as the API and the console show
 * it, made from the documents (doc.ts). Every view of deliveries (an
 * event's, a user's, the failures, what a replay resends) is built from
 * these rows, so the shown status, the open and the recipient are worked
 * out in one place. The documents' short keys stop here: a row's fields
 * say what they are.
 */
import type { Provider } from "../push/providers";
import { type DocDelivery, type DocNotification, shown, type StoredDoc } from "./doc";
import type { DeliveryStatus } from "./ledger";

/** A delivery with its notification's event, recipient, text and tap path. */
export interface DeliveryRow {
  event_id: string;
  /** The event's bucket: its own time in unix seconds, the order of the lists that span events. */
  bucket: number;
  idx: number;
  /** '' for a placeholder: no device, rejected, held by the pruning brake. */
  device_token: string;
  provider: Provider | "onesignal" | null;
  app: string | null;
  /** As shown: `held` for a delivery waiting for the end of the quiet hours. */
  status: DeliveryStatus;
  attempts: number;
  provider_id: string | null;
  error: string | null;
  /** The provider's own words about a failure, where it gave any. */
  detail: string | null;
  user_id: string | null;
  custom_id: string | null;
  title: string | null;
  body: string | null;
  path: string | null;
  latency_ms: number | null;
  next_attempt_at: number | null;
  /** When the user opened the notification (epoch ms), on its `sent` deliveries only: whichever device they tapped it on. */
  opened_at: number | null;
  /** When the webhook accepted the event (epoch ms). */
  notified_at: number;
  created_at: number;
  updated_at: number;
}

/** A notification with its deliveries, and where it was found: what every view is made of. */
export interface NotificationEntry {
  bucket: number;
  eventId: string;
  notification: DocNotification;
  deliveries: DocDelivery[];
}

/** The notifications of documents, each with its deliveries. */
export function entriesOf(docs: readonly Pick<StoredDoc, "bucket" | "doc">[]): NotificationEntry[] {
  return docs.flatMap(({ bucket, doc }) => {
    const deliveries = doc.n.map((): DocDelivery[] => []);
    for (const d of doc.d) deliveries[d.n]?.push(d);
    return doc.n.map((notification, at) => ({ bucket, eventId: doc.ev[notification.e]!, notification, deliveries: deliveries[at]! }));
  });
}

/** An entry's rows, one per delivery. */
export const rowsOf = (entry: NotificationEntry): DeliveryRow[] => entry.deliveries.map((d) => rowOf(entry, d));

function rowOf({ bucket, eventId, notification: n }: NotificationEntry, d: DocDelivery): DeliveryRow {
  return {
    event_id: eventId,
    bucket,
    idx: n.i,
    device_token: d.t,
    provider: d.p as DeliveryRow["provider"],
    app: d.a,
    status: shown(d) as DeliveryStatus,
    attempts: d.k,
    provider_id: d.id ?? null,
    error: d.er ?? null,
    detail: d.dt ?? null,
    user_id: n.u,
    custom_id: n.c,
    title: n.ti,
    body: n.b,
    path: n.pa,
    latency_ms: d.l ?? null,
    next_attempt_at: d.na ?? null,
    opened_at: d.s === "sent" ? (n.o ?? null) : null,
    notified_at: n.r,
    created_at: d.c,
    updated_at: d.u,
  };
}

/** Text in SQLite's order (BINARY): code units, not the locale's. */
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Where a row of an event is: by notification index, then device token. */
export const inEventOrder = (a: Pick<DeliveryRow, "idx" | "device_token">, b: Pick<DeliveryRow, "idx" | "device_token">): number =>
  a.idx - b.idx || compareText(a.device_token, b.device_token);

/** The key of a row in the lists that span events, and so of their cursors. */
export type RowKey = Pick<DeliveryRow, "bucket" | "event_id" | "idx" | "device_token">;

/** The order of the lists that span events: newest bucket first, then event id, index and token. */
export const newestFirst = (a: RowKey, b: RowKey): number => b.bucket - a.bucket || compareText(a.event_id, b.event_id) || inEventOrder(a, b);

/** The page of `rows` (any order) that comes after `after` (newest first), at most `limit`. */
export function pageAfter(rows: DeliveryRow[], limit: number, after?: RowKey): DeliveryRow[] {
  return rows
    .filter((row) => !after || newestFirst(row, after) > 0)
    .sort(newestFirst)
    .slice(0, limit);
}
