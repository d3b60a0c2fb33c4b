/**
 * Who gets each notification: the devices registered under its custom_id,
 * else those under LearnInk's user_id. One D1 query for the whole batch.
 * With OneSignal on, a user with no device here is reached through
 * OneSignal instead, by external id: one stand-in "device" whose token is
 * `onesignal:<external id>`, so the claim, the ledger and the send step
 * treat it like any other (a user moving to the relay's devices stops
 * getting it: never both).
 */
import { type DeviceRow, devicesOfUsers } from "../db/devices";
import { type ExternalIdKind, ONESIGNAL_TOKEN_PREFIX } from "../push/onesignal/config";
import { ONESIGNAL_APP } from "../push/onesignal/provider";
import type { QueuedNotification } from "../queue/message";

/** The OneSignal user standing in for a notification's missing devices, or none without an external id. */
export function oneSignalDevice(n: QueuedNotification, externalId: ExternalIdKind): DeviceRow | null {
  const id = externalId === "user_id" ? n.user_id : n.custom_id;
  if (id === null || id === "") return null;
  return {
    token: `${ONESIGNAL_TOKEN_PREFIX}${id}`,
    provider: "onesignal",
    app: ONESIGNAL_APP,
    custom_id: n.custom_id,
    user_id: n.user_id,
    platform: null,
    environment: "production",
    created_at: 0,
    updated_at: 0,
    quarantined_at: null,
    quarantine_reason: null,
  };
}

/** The queries of the notifications' devices, to run beside the claim's read (recipientsOf reads their results). */
export function recipientsStatements(db: D1Database, notifications: readonly QueuedNotification[]): D1PreparedStatement[] {
  const customIds = new Set<string>();
  const userIds = new Set<string>();
  for (const n of notifications) {
    if (n.custom_id !== null) customIds.add(n.custom_id);
    userIds.add(n.user_id);
  }
  return devicesOfUsers(db, [...customIds], [...userIds]);
}

/**
 * Each notification's devices, from the devices found (a device found by
 * both its ids is one); `oneSignal`: which id is the OneSignal external
 * id, when OneSignal is on (null: off).
 */
export function recipientsOf(found: readonly DeviceRow[], oneSignal: ExternalIdKind | null = null): (n: QueuedNotification) => DeviceRow[] {
  const devices = [...new Map(found.map((d) => [d.token, d])).values()];
  const byCustomId = groupBy(devices, (d) => d.custom_id);
  const byUserId = groupBy(devices, (d) => d.user_id);
  return (n) => {
    const devices = (n.custom_id !== null ? byCustomId.get(n.custom_id) : undefined) ?? byUserId.get(n.user_id);
    if (devices) return devices;
    const viaOneSignal = oneSignal === null ? null : oneSignalDevice(n, oneSignal);
    return viaOneSignal ? [viaOneSignal] : [];
  };
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
