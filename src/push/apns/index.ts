/**
 * Apple Push Notification service (token-based), as the relay knows it:
 * one descriptor for the registry (src/push/providers.ts).
 */
import { describeProvider } from "../descriptor";
import { jsonBytes } from "../payload";
import { apnsPayload } from "./message";
import { checkApns } from "./check";
import { APNS_MISCONFIGURATIONS } from "./misconfiguration";
import { type ApnsProviderSettings, createApnsProvider } from "./provider";

/** APNs tokens are hex (64 characters today; Apple says not to rely on the length). */
const APNS_TOKEN = /^[0-9a-fA-F]{64,200}$/;

export const apns = describeProvider<"apns", ApnsProviderSettings>({
  name: "apns",
  devices: {
    normalize: (token) =>
      APNS_TOKEN.test(token) ? { token: token.toLowerCase() } : { problem: "an APNs token must be 64 to 200 hexadecimal characters" },
    platform: "ios",
  },
  settings: ["APNS_KEY", "APNS_KEY_ID", "APNS_TEAM_ID", "APNS_TOPIC", "APNS_API_BASE"],
  appOverrides: {
    apns_topic: { setting: "APNS_TOPIC", secret: false },
    apns_key_id: { setting: "APNS_KEY_ID", secret: false },
    apns_team_id: { setting: "APNS_TEAM_ID", secret: false },
    apns_key_secret: { setting: "APNS_KEY", secret: true },
  },
  payloadBytes: (message) => jsonBytes(apnsPayload(message)),
  misconfigurations: APNS_MISCONFIGURATIONS,
  create: createApnsProvider,
  check: checkApns,
});
