import { describe, expect, it } from "vitest";
import type { DeviceRow } from "../../src/db/devices";
import { deliveryKey } from "../../src/db/ledger";
import { planDeliveries, uniqueWorks } from "../../src/delivery/plan";
import type { PushJob, QueuedNotification } from "../../src/queue/message";

const device = (token: string, provider: "fcm" | "apns" = "fcm"): DeviceRow => ({
  token,
  provider,
  app: "default",
  custom_id: null,
  user_id: "u",
  platform: null,
  environment: "production",
  created_at: 0,
  updated_at: 0,
  quarantined_at: null,
  quarantine_reason: null,
});
const n = (i: number, user_id: string): QueuedNotification => ({ i, title: "t", body: "b", path: "/p", user_id, custom_id: null });
const job = (event_id: string, notifications: QueuedNotification[], replay = false): PushJob => ({
  v: 1,
  event_id,
  received_at: 1,
  notifications,
  ...(replay ? { retry_failed: true as const } : {}),
});

describe("planDeliveries", () => {
  const devices: Record<string, DeviceRow[]> = { two: [device("t1"), device("t2", "apns")], none: [] };
  const devicesOf = (x: QueuedNotification) => devices[x.user_id] ?? [];

  it.each([
    {
      name: "a row per device, and the notification marked as now having devices",
      jobs: [job("e1", [n(0, "two")])],
      fresh: [["e1", 0, "t1", "fcm"], ["e1", 0, "t2", "apns"]],
      replay: [],
      withDevices: [["e1", 0]],
    },
    {
      name: "one placeholder row for a user without devices",
      jobs: [job("e1", [n(0, "none")])],
      fresh: [["e1", 0, "", null]],
      replay: [],
      withDevices: [],
    },
    {
      name: "a replayed notification's rows may take over failed rows",
      jobs: [job("e1", [n(3, "two")], true)],
      fresh: [],
      replay: [["e1", 3, "t1", "fcm"], ["e1", 3, "t2", "apns"]],
      withDevices: [["e1", 3]],
    },
    {
      name: "the same notification in two messages (a repeated webhook) is planned once",
      jobs: [job("e1", [n(0, "none")]), job("e1", [n(0, "none")])],
      fresh: [["e1", 0, "", null]],
      replay: [],
      withDevices: [],
    },
    {
      name: "a replay of a notification also delivered normally in the batch counts as a replay",
      jobs: [job("e1", [n(0, "none")]), job("e1", [n(0, "none")], true)],
      fresh: [],
      replay: [["e1", 0, "", null]],
      withDevices: [],
    },
  ])("$name", ({ jobs, fresh, replay, withDevices }) => {
    const { works, replayed } = uniqueWorks(jobs);
    const plan = planDeliveries(works, replayed, devicesOf);
    const rows = (targets: typeof plan.fresh) => targets.map((t) => [t.eventId, t.index, t.token, t.provider]);
    expect(rows(plan.fresh)).toEqual(fresh);
    expect(rows(plan.replay)).toEqual(replay);
    expect(plan.withDevices.map((k) => [k.eventId, k.index])).toEqual(withDevices);
    expect(plan.notifications).toHaveLength(works.size);
    for (const target of [...plan.fresh, ...plan.replay]) {
      expect(plan.targets.get(deliveryKey(target))?.device?.token ?? "").toBe(target.token);
    }
  });
});
