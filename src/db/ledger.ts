/**
 * The delivery ledger's vocabulary, shared by its write path (the consumer)
 * and its reads (the operations API and console): statuses, keys, and the
 * one definition of a row that is still open.
 */

/** Every status a delivery row can have, in the order the API lists them. */
export const DELIVERY_STATUSES = [
  "sending",
  "sent",
  "invalid_token",
  "retrying",
  "held",
  "failed",
  "no_device",
  "rejected",
] as const;

export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Why a `retrying` row waits without having been sent: the quiet hours on its device's clock. */
export const QUIET_HOURS = "quiet_hours";

export const isDeliveryStatus = (value: string): value is DeliveryStatus =>
  (DELIVERY_STATUSES as readonly string[]).includes(value);

/** The error of a notification whose user's devices are all held by the pruning brake: replayable once they are restored. */
export const DEVICE_QUARANTINED = "device_quarantined";

/** One notification of one event: `index` is its position in `data.notifications[]`. */
export interface NotificationKey {
  eventId: string;
  index: number;
}

/** One row of the ledger: a notification for one device (token '' for "no device"). */
export interface DeliveryKey extends NotificationKey {
  token: string;
}

/** The key of a notification, for maps and sets. */
export const notificationKey = ({ eventId, index }: NotificationKey): string => `${index}\u0000${eventId}`;

/** The key of a delivery row, for maps and sets. */
export const deliveryKey = ({ eventId, index, token }: DeliveryKey): string => `${index}\u0000${eventId}\u0000${token}`;

/**
 * A row nobody is working on: `retrying`, due or not, or `sending` whose
 * lease ran out (its owner died). What closes rows (a removed device, a dead
 * letter) acts on these. `now` is a SQL expression.
 */
export const openRow = (row: string, now: string): string =>
  `(${row}.status = 'retrying' OR (${row}.status = 'sending' AND ${row}.claimed_until < ${now}))`;

/**
 * An open row a consumer may claim now: `retrying` only once its
 * `next_attempt_at` has come (`dueBy`), so a duplicate or replayed message
 * cannot jump the wait a provider asked for; `sending` once its lease ran
 * out. `now` and `dueBy` are SQL expressions.
 */
export const claimableRow = (row: string, now: string, dueBy: string): string =>
  `((${row}.status = 'retrying' AND COALESCE(${row}.next_attempt_at, 0) <= ${dueBy}) OR (${row}.status = 'sending' AND ${row}.claimed_until < ${now}))`;

/** Joins a JSON list item `j` (`{e, i, t}`) to the delivery row it names, through the primary key. */
export const ROW_OF_ITEM = "deliveries.event_id = j.value->>'e' AND deliveries.idx = j.value->>'i' AND deliveries.device_token = j.value->>'t'";
