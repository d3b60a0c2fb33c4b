/**
 * Who gets each notification: the devices registered under its custom_id,
 * else those under LearnInk's user_id. One D1 query for the whole batch.
 */
import { type DeviceRow, devicesOfUsers } from "../db/devices";
import type { QueuedNotification } from "../queue/message";

export async function resolveRecipients(
  db: D1Database,
  notifications: readonly QueuedNotification[],
): Promise<(n: QueuedNotification) => DeviceRow[]> {
  const customIds = new Set<string>();
  const userIds = new Set<string>();
  for (const n of notifications) {
    if (n.custom_id !== null) customIds.add(n.custom_id);
    userIds.add(n.user_id);
  }
  const devices = await devicesOfUsers(db, [...customIds], [...userIds]);
  const byCustomId = groupBy(devices, (d) => d.custom_id);
  const byUserId = groupBy(devices, (d) => d.user_id);
  return (n) => (n.custom_id !== null ? byCustomId.get(n.custom_id) : undefined) ?? byUserId.get(n.user_id) ?? [];
}

function groupBy(devices: readonly DeviceRow[], key: (d: DeviceRow) => string | null): Map<string, DeviceRow[]> {
  const groups = new Map<string, DeviceRow[]>();
  for (const device of devices) {
    const k = key(device);
    if (k === null) continue;
    const group = groups.get(k);
    if (group) group.push(device);
    else groups.set(k, [device]);
  }
  return groups;
}
