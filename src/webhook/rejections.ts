/**
 * Records the notifications the webhook rejected, each as a `rejected`
 * delivery with its field error, before anything is queued: the webhook
 * answers 2xx only once they are in the ledger. A D1 failure is a 503, so
 * Svix sends the event again; recording is idempotent, so a retry or a
 * replay never records a rejection twice.
 */
import { recordRejections } from "../db/ledger-writes";
import { LedgerUnavailableError } from "../errors";
import { rejectionField } from "./event";
import type { RejectedNotification } from "./notification";

/** The ledger's `error` for a rejection: where and what, as a 400 would say it (`data.notifications[3].title: ...`). */
export function rejectionError(rejection: RejectedNotification): string {
  return `${rejectionField(rejection)}: ${rejection.message}`;
}

export async function recordRejected(
  db: D1Database,
  event: { eventId: string; bucket: number; receivedAt: number },
  rejected: readonly RejectedNotification[],
): Promise<void> {
  if (rejected.length === 0) return;
  const rows = rejected.map((r) => ({ index: r.index, error: rejectionError(r), notification: r.kept }));
  try {
    await recordRejections(db, event, rows);
  } catch (error) {
    throw new LedgerUnavailableError(error);
  }
}
