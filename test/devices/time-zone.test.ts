/**
 * `time_zone` on a device: an IANA zone name that the runtime's `Intl`
 * accepts, stored as sent and shown back; anything else (an unknown zone,
 * a number, an object, a boolean) is a 400 on the field and nothing is
 * stored.
 */
import { describe, expect, it } from "vitest";
import { api, errorOf, fcmToken, uniqueId } from "../support/webhook";

const register = (fields: Record<string, unknown>) =>
  api("/v1/devices", { method: "PUT", json: { custom_id: uniqueId("emp"), provider: "fcm", token: fcmToken(), ...fields } });

async function devicesOf(customId: string): Promise<{ time_zone: string | null }[]> {
  const response = await api(`/v1/users/${encodeURIComponent(customId)}/devices`);
  return ((await response.json()) as { devices: { time_zone: string | null }[] }).devices;
}

describe("device time_zone", () => {
  it.each(["Africa/Nairobi", "America/Argentina/Buenos_Aires", "UTC", "Asia/Kolkata"])("stores %s and shows it back", async (zone) => {
    const customId = uniqueId("emp");
    const response = await register({ custom_id: customId, time_zone: zone });
    expect(response.status).toBe(201);
    expect(((await response.json()) as { device: { time_zone: string } }).device.time_zone).toBe(zone);
    expect((await devicesOf(customId)).map((d) => d.time_zone)).toEqual([zone]);
  });

  it("stores null when the app sends none, and a later registration can set or change it", async () => {
    const customId = uniqueId("emp");
    const token = fcmToken();
    expect((await register({ custom_id: customId, token })).status).toBe(201);
    expect((await devicesOf(customId))[0]!.time_zone).toBeNull();
    expect((await register({ custom_id: customId, token, time_zone: "Europe/Berlin" })).status).toBe(200);
    expect((await devicesOf(customId))[0]!.time_zone).toBe("Europe/Berlin");
  });

  it.each([["Mars/Olympus_Mons"], [true], [{}], [42], [""], ["Europe/Berlin\u0000"], ["x".repeat(300)], ["Africa/\ud800"]])(
    "answers 400 on time_zone for %j and stores nothing",
    async (zone) => {
      const customId = uniqueId("emp");
      const response = await register({ custom_id: customId, time_zone: zone });
      expect(response.status).toBe(400);
      expect(await errorOf(response)).toMatchObject({ code: "invalid_request", field: "time_zone" });
      expect(await devicesOf(customId)).toEqual([]);
    },
  );
});
