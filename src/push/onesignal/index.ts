/**
 * OneSignal, as the relay knows it: one descriptor for the registry
 * (src/push/providers.ts). No device registers with it: it reaches users
 * without a device in the relay by external id (src/delivery/recipients.ts).
 */
import { describeProvider } from "../descriptor";
import type { OneSignalSettings } from "./config";
import { oneSignalBody, oneSignalPayloadBytes } from "./message";
import { checkOneSignal } from "./check";
import { ONESIGNAL_MISCONFIGURATIONS } from "./misconfiguration";
import { createOneSignalProvider } from "./provider";

export const onesignal = describeProvider<"onesignal", OneSignalSettings>({
  name: "onesignal",
  settings: ["ONESIGNAL_APP_ID", "ONESIGNAL_API_KEY", "ONESIGNAL_EXTERNAL_ID", "ONESIGNAL_API_BASE"],
  appOverrides: {},
  payloadBytes: (message) => oneSignalPayloadBytes(oneSignalBody("", [], message, "")),
  misconfigurations: ONESIGNAL_MISCONFIGURATIONS,
  create: createOneSignalProvider,
  check: checkOneSignal,
});
