/**
 * After the claim: what each ledger row of the batch's notifications asks
 * the consumer to do. Ours to send, orphaned (left open for a device that
 * is gone), held by another invocation, not due yet, or "no device".
 */
import type { DeliveryKey } from "../db/ledger";
import { deliveryKey } from "../db/ledger";
import type { ClaimedRow } from "../db/ledger-writes";
import type { PushResult } from "../push/provider";
import type { Attempted } from "./outcomes";
import type { Plan } from "./plan";

/** The result a claimed row carries until its send starts; a row that keeps it was never sent. */
export const DEFERRED: PushResult = { kind: "retry", reason: "deferred" };

export interface Triage {
  /** Rows this claim owns: to send. */
  mine: Attempted[];
  /** Rows left open for devices that are no longer registered: nobody will send them. */
  orphans: DeliveryKey[];
  /** Rows another invocation is sending right now (a duplicate webhook in flight). */
  elsewhere: ClaimedRow[];
  /** `retrying` rows the claim left alone because they are not due yet. */
  notDue: ClaimedRow[];
  /** Placeholders: "no device", or `failed` while the brake holds the user's devices (or a dead letter's). */
  noDevice: ClaimedRow[];
}

export function triage(rows: readonly ClaimedRow[], targets: Plan["targets"], claimId: string, claimedAt: number): Triage {
  const sorted: Triage = { mine: [], orphans: [], elsewhere: [], notDue: [], noDevice: [] };
  for (const row of rows) {
    const target = targets.get(deliveryKey(row));
    const leaseOver = (row.claimedUntil ?? 0) < claimedAt;
    if (row.status === "sending" && row.claimedBy === claimId && target?.device) {
      sorted.mine.push({ work: target.work, device: target.device, attempts: row.attempts, result: DEFERRED });
    } else if (!target && (row.status === "retrying" || (row.status === "sending" && leaseOver))) {
      sorted.orphans.push({ eventId: row.eventId, index: row.index, token: row.token });
    } else if (row.status === "sending" && row.claimedBy !== claimId) {
      sorted.elsewhere.push(row);
    } else if (row.status === "retrying") {
      sorted.notDue.push(row);
    } else if (row.token === "" && (row.status === "no_device" || row.status === "failed")) {
      sorted.noDevice.push(row);
    }
  }
  return sorted;
}

/** After the sends: the rows that were sent (or tried), and those never started, which go back unchanged. */
export function splitStarted(mine: readonly Attempted[]): { sent: Attempted[]; released: DeliveryKey[] } {
  const sent: Attempted[] = [];
  const released: DeliveryKey[] = [];
  for (const attempt of mine) {
    if (attempt.result !== DEFERRED) sent.push(attempt);
    else released.push({ eventId: attempt.work.job.event_id, index: attempt.work.n.i, token: attempt.device.token });
  }
  return { sent, released };
}
