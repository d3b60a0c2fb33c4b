/**
 * Registers devices for the bench's users. The bench writes them straight
 * into D1 with a few batched inserts (registering 10,000 devices through
 * the API would measure the API instead); the load test against a running
 * relay registers its smaller set through `PUT /v1/devices`.
 */
import { createHash } from "node:crypto";
import { runPool } from "../src/pool.ts";
import type { D1 } from "./harness.ts";

export interface SeededDevice {
  user_id: string;
  provider: "fcm" | "apns" | "expo" | "hms";
  token: string;
}

/** A user of a mixed fleet: a device of one provider, or none (reached through OneSignal by user_id). */
export interface FleetUser {
  user_id: string;
  provider: "fcm" | "apns" | "expo" | "hms" | "onesignal";
  /** The device token; for a OneSignal user, the external id (the user_id). */
  token: string;
}

export type FleetMix = Partial<Record<FleetUser["provider"], number>>;

/** Rows per INSERT: one JSON parameter each, far below D1's 100 KB statement and 2 MB value limits. */
const ROWS_PER_STATEMENT = 1_000;

/** Deterministic tokens: APNs wants hex, FCM and Huawei tokens are opaque strings, Expo's are ExponentPushToken[...]. */
function tokenFor(provider: SeededDevice["provider"], userId: string): string {
  const digest = createHash("sha256").update(`${provider}:${userId}`).digest("hex");
  if (provider === "expo") return `ExponentPushToken[${digest.slice(0, 22)}]`;
  if (provider === "hms") return `IQAAAACy${digest}`;
  if (provider === "apns") return digest;
  // FCM registration tokens are about 160 characters: an instance id, ":APA91b", then opaque base64url.
  const opaque = createHash("sha512").update(digest).digest("base64url") + createHash("sha512").update(`${digest}:2`).digest("base64url");
  return `${Buffer.from(digest.slice(0, 32), "hex").toString("base64url").slice(0, 22)}:APA91b${opaque.slice(0, 134)}`;
}

/**
 * `count` users spread over the providers by weight (e.g. fcm 4, apns 3,
 * expo 2, onesignal 1), interleaved so every queue message mixes them.
 */
export function mixedFleet(userPrefix: string, count: number, mix: FleetMix): FleetUser[] {
  const entries = Object.entries(mix).filter(([, w]) => (w ?? 0) > 0) as [FleetUser["provider"], number][];
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  const taken = new Map<FleetUser["provider"], number>();
  const users: FleetUser[] = [];
  for (let i = 0; i < count; i++) {
    // The provider furthest behind its share so far: a deterministic, even interleave.
    let pick = entries[0]![0];
    let behind = Number.NEGATIVE_INFINITY;
    for (const [provider, weight] of entries) {
      const gap = ((i + 1) * weight) / total - (taken.get(provider) ?? 0);
      if (gap > behind) [pick, behind] = [provider, gap];
    }
    taken.set(pick, (taken.get(pick) ?? 0) + 1);
    const user_id = `${userPrefix}${i}`;
    users.push({ user_id, provider: pick, token: pick === "onesignal" ? user_id : tokenFor(pick, user_id) });
  }
  return users;
}

/** One device per user, `fcmShare` of them FCM (Android) and the rest APNs (iOS), interleaved. */
export function benchDevices(userPrefix: string, count: number, fcmShare: number): SeededDevice[] {
  const devices: SeededDevice[] = [];
  for (let i = 0; i < count; i++) {
    // Spread the providers evenly through the list, so every queue message mixes both.
    const provider = Math.floor((i + 1) * fcmShare) > Math.floor(i * fcmShare) ? "fcm" : "apns";
    const user_id = `${userPrefix}${i}`;
    devices.push({ user_id, provider, token: tokenFor(provider, user_id) });
  }
  return devices;
}

/** Inserts the devices in one D1 batch of multi-row INSERTs. */
export async function seedDevices(db: D1, devices: readonly SeededDevice[], now = Date.now()): Promise<void> {
  const statements = [];
  for (let start = 0; start < devices.length; start += ROWS_PER_STATEMENT) {
    const rows = devices.slice(start, start + ROWS_PER_STATEMENT).map((d) => ({
      t: d.token,
      p: d.provider,
      u: d.user_id,
      pl: d.provider === "apns" ? "ios" : "android",
    }));
    statements.push(
      db
        .prepare(
          `INSERT INTO devices (token, provider, custom_id, user_id, platform, environment, created_at, updated_at)
           SELECT j.value->>'t', j.value->>'p', NULL, j.value->>'u', j.value->>'pl', 'production', ?2, ?2
           FROM json_each(?1) AS j`,
        )
        .bind(JSON.stringify(rows), now),
    );
  }
  if (statements.length > 0) await db.batch(statements);
}


/** Registers each device through the relay's API, a few at a time. */
export async function registerDevices(
  relayUrl: string,
  apiKey: string,
  devices: readonly SeededDevice[],
  concurrency = 8,
): Promise<void> {
  await runPool(devices, concurrency, async (device) => {
    const response = await fetch(`${relayUrl}/v1/devices`, {
      method: "PUT",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        user_id: device.user_id,
        provider: device.provider,
        token: device.token,
        platform: device.provider === "fcm" ? "android" : "ios",
        environment: "production",
      }),
    });
    if (response.status !== 200 && response.status !== 201) {
      throw new Error(`PUT /v1/devices answered ${response.status}: ${await response.text()}`);
    }
  });
}

/** Removes the devices again (DELETE /v1/devices/:token), so repeated runs leave no devices behind. */
export async function unregisterDevices(relayUrl: string, apiKey: string, devices: readonly SeededDevice[], concurrency = 8): Promise<void> {
  await runPool(devices, concurrency, async (device) => {
    const response = await fetch(`${relayUrl}/v1/devices/${encodeURIComponent(device.token)}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${apiKey}` },
    });
    await response.body?.cancel();
    if (response.status !== 204 && response.status !== 404) throw new Error(`DELETE /v1/devices answered ${response.status}`);
  });
}
