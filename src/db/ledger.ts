/**
 * The delivery ledger's vocabulary, shared by its write path (the consumer)
 * and its reads (the operations API and console): statuses and keys. The
 * rules of which delivery is open or claimable are doc-edit.ts's.
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
