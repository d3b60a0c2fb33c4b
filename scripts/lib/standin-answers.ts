/**
 * `npm run send-example -- --answer PRESET`: makes the stand-ins answer the
 * example user's devices with a scripted failure (a preset of
 * standins/presets.ts: `invalid_argument`, `unavailable`, `unregistered`,
 * `apns_bad_device_token`, ...) for the pushes of the next event, so a
 * failure, a retry or a quarantine can be seen locally without a real
 * provider misbehaving.
 */
import { StandinClient } from "../../standins/client.ts";
import { isPreset } from "../../standins/presets.ts";
import type { Preset } from "../../standins/types.ts";

export interface AnswerPlan {
  /** The relay's origin and an admin key, to list the user's devices. */
  origin: string;
  apiKey: string;
  /** The stand-ins of `npm start`. */
  standinsUrl: string;
  user: { by: "custom_id" | "user_id"; id: string };
  preset: string;
  /** Pushes each device gets the preset for (one per notification of the event). */
  count: number;
}

/** Scripts the preset for each of the user's devices; returns how many devices were scripted. */
export async function scriptAnswers(plan: AnswerPlan): Promise<number> {
  if (!isPreset(plan.preset)) throw new Error(`--answer: "${plan.preset}" is not a stand-in preset (see standins/presets.ts)`);
  const preset: Preset = plan.preset;
  const query = plan.user.by === "user_id" ? "?by=user_id" : "";
  const response = await fetch(`${plan.origin}/v1/users/${encodeURIComponent(plan.user.id)}/devices${query}`, {
    headers: { authorization: `Bearer ${plan.apiKey}` },
  });
  if (!response.ok) throw new Error(`--answer: GET /v1/users/:id/devices answered ${response.status}`);
  const { devices } = (await response.json()) as { devices: { token: string }[] };
  const standins = new StandinClient(plan.standinsUrl);
  for (const device of devices) await standins.script(device.token, Array.from({ length: plan.count }, () => ({ preset })));
  return devices.length;
}
