/**
 * From a batch's PushJobs and the devices found for them to the ledger rows
 * the consumer wants to own: one per (event, notification, device), or one
 * "no device" placeholder. A notification that arrives in several messages
 * (a repeated webhook) is planned once.
 */
import type { Candidate } from "../db/deliveries";
import type { DeviceRow } from "../db/devices";
import type { PushJob, QueuedNotification } from "../queue/message";

/** One notification of one event. */
export interface Work {
  job: PushJob;
  n: QueuedNotification;
}

export interface Plan {
  /** Each notification once, keyed by notificationKey. */
  works: Map<string, Work>;
  /** Rows to claim; `replay` ones may also take over `failed` rows. */
  fresh: Candidate[];
  replay: Candidate[];
  /** Notifications that now resolve to devices. */
  withDevices: { e: string; i: number }[];
  /** What each row (rowKey) is for; `device` is null for the placeholder. */
  targets: Map<string, { work: Work; device: DeviceRow | null }>;
}

export const notificationKey = (e: string, i: number) => `${i}\u0000${e}`;
export const rowKey = (e: string, i: number, t: string) => `${i}\u0000${e}\u0000${t}`;

/** Each notification of `jobs` once, keyed by notificationKey, and which of them are replays. */
export function uniqueWorks(jobs: readonly PushJob[]): { works: Map<string, Work>; replayed: Set<string> } {
  const works = new Map<string, Work>();
  const replayed = new Set<string>();
  for (const job of jobs) {
    for (const n of job.notifications) {
      const key = notificationKey(job.event_id, n.i);
      if (!works.has(key)) works.set(key, { job, n });
      if (job.retry_failed) replayed.add(key);
    }
  }
  return { works, replayed };
}

/** The ledger row of notification `n` of `job` for `device` (null: the "no device" placeholder). */
export function candidateFor(job: PushJob, n: QueuedNotification, device: DeviceRow | null): Candidate {
  return {
    e: job.event_id,
    i: n.i,
    t: device?.token ?? "",
    p: device?.provider ?? null,
    u: n.user_id,
    c: n.custom_id,
    ti: n.title,
    b: n.body,
    pa: n.path,
  };
}

export function planDeliveries(
  works: Map<string, Work>,
  replayed: ReadonlySet<string>,
  devicesOf: (n: QueuedNotification) => DeviceRow[],
): Plan {
  const plan: Plan = { works, fresh: [], replay: [], withDevices: [], targets: new Map() };
  for (const [key, work] of works) {
    const { job, n } = work;
    const devices = devicesOf(n);
    if (devices.length > 0) plan.withDevices.push({ e: job.event_id, i: n.i });
    for (const device of devices.length > 0 ? devices : [null]) {
      const candidate = candidateFor(job, n, device);
      plan.targets.set(rowKey(candidate.e, candidate.i, candidate.t), { work, device });
      (replayed.has(key) ? plan.replay : plan.fresh).push(candidate);
    }
  }
  return plan;
}
