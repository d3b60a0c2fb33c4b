/**
 * Huawei Push Kit (HMS Core), for Huawei phones without Google services,
 * as the relay knows it: one descriptor for the registry
 * (src/push/providers.ts).
 */
import { describeProvider } from "../descriptor";
import type { HmsSettings } from "./config";
import { hmsPayloadBytes, hmsRequestBody } from "./message";
import { checkHms } from "./check";
import { HMS_MISCONFIGURATIONS } from "./misconfiguration";
import { createHmsProvider } from "./provider";

/**
 * A Push Kit token as `HmsInstanceId.getToken` returns it: printable ASCII
 * without spaces, about 130 characters today (Huawei documents no shape,
 * so this only refuses what cannot be one).
 */
const HMS_TOKEN = /^[\x21-\x7e]{32,512}$/;
/** The payload is measured with the longest tag (collapse key) a push can carry. */
const LONGEST_TAG = "k".repeat(64);

export const hms = describeProvider<"hms", HmsSettings>({
  name: "hms",
  devices: {
    normalize: (token) => (HMS_TOKEN.test(token) ? { token } : { problem: "a Huawei Push Kit token must be 32 to 512 printable characters without spaces" }),
    platform: "android",
  },
  settings: ["HMS_APP_ID", "HMS_APP_SECRET", "HMS_API_BASE", "HMS_OAUTH_URL"],
  appOverrides: {
    hms_app_id: { setting: "HMS_APP_ID", secret: false },
    hms_app_secret_secret: { setting: "HMS_APP_SECRET", secret: true },
  },
  payloadBytes: (message) => hmsPayloadBytes(hmsRequestBody([], message, LONGEST_TAG)),
  misconfigurations: HMS_MISCONFIGURATIONS,
  create: createHmsProvider,
  check: checkHms,
});
