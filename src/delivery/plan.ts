/**
 * From a batch's PushJobs and the devices found for them to the ledger rows
 * the consumer wants to own: one per (event, notification, device), or one
 * "no device" placeholder. A notification that arrives in several messages
 * (a repeated webhook) is planned once.
 */
import type { DeviceRow } from "../db/devices";
import { eventBucket } from "../db/doc";
import { deliveryKey, type NotificationKey, notificationKey } from "../db/ledger";
import type { Claim, DeliveryTarget, LedgerNotification } from "../db/ledger-writes";
import type { PushJob, QueuedNotification } from "../queue/message";

/** One notification of one event. */
export interface Work {
  job: PushJob;
  n: QueuedNotification;
}

export interface Plan extends Claim {
  notifications: LedgerNotification[];
  fresh: DeliveryTarget[];
  replay: DeliveryTarget[];
  withDevices: NotificationKey[];
  /** Each notification once, keyed by notificationKey. */
  works: Map<string, Work>;
  /** What each row (deliveryKey) is for; `device` is null for the placeholder. */
  targets: Map<string, { work: Work; device: DeviceRow | null }>;
}

/** The ledger key of notification `n` of `job`. */
export const keyOf = (job: PushJob, n: QueuedNotification): NotificationKey => ({ eventId: job.event_id, index: n.i });

/** Each notification of `jobs` once, keyed by notificationKey, and which of them are replays. */
export function uniqueWorks(jobs: readonly PushJob[]): { works: Map<string, Work>; replayed: Set<string> } {
  const works = new Map<string, Work>();
  const replayed = new Set<string>();
  for (const job of jobs) {
    for (const n of job.notifications) {
      const key = notificationKey(keyOf(job, n));
      if (!works.has(key)) works.set(key, { job, n });
      if (job.retry_failed) replayed.add(key);
    }
  }
  return { works, replayed };
}

/** The ledger bucket of a message's event; a message queued before it carried one has its event's id and time. */
export const bucketOfJob = (job: PushJob): number => job.t ?? eventBucket(job.event_id, undefined, job.received_at);

/** Notification `n` of `job` as the ledger stores it. */
export function ledgerNotification(job: PushJob, n: QueuedNotification): LedgerNotification {
  return {
    ...keyOf(job, n),
    bucket: bucketOfJob(job),
    receivedAt: job.received_at,
    userId: n.user_id,
    customId: n.custom_id,
    title: n.title,
    body: n.body,
    path: n.path,
  };
}

/**
 * The ledger row of notification `n` of `job` for `device`; null is the
 * placeholder of a user without a device to send to, `held` when the
 * pruning brake holds every device the user has.
 */
export function targetFor(job: PushJob, n: QueuedNotification, device: DeviceRow | null, held = false): DeliveryTarget {
  const target = { ...keyOf(job, n), token: device?.token ?? "", provider: device?.provider ?? null, app: device?.app ?? null };
  return held ? { ...target, held } : target;
}

export function planDeliveries(
  works: Map<string, Work>,
  replayed: ReadonlySet<string>,
  devicesOf: (n: QueuedNotification) => DeviceRow[],
): Plan {
  const plan: Plan = { works, notifications: [], fresh: [], replay: [], withDevices: [], targets: new Map() };
  for (const [key, work] of works) {
    const { job, n } = work;
    plan.notifications.push(ledgerNotification(job, n));
    const found = devicesOf(n);
    const devices = found.filter((d) => d.quarantined_at === null);
    // All held by the brake: a failed placeholder a replay can take up once they are restored.
    const held = devices.length === 0 && found.length > 0;
    if (devices.length > 0) plan.withDevices.push(keyOf(job, n));
    for (const device of devices.length > 0 ? devices : [null]) {
      const target = targetFor(job, n, device, held);
      plan.targets.set(deliveryKey(target), { work, device });
      (replayed.has(key) ? plan.replay : plan.fresh).push(target);
    }
  }
  return plan;
}
