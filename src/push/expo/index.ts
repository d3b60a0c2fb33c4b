/**
 * Expo's push service, as the relay knows it: one descriptor for the
 * registry (src/push/providers.ts). Receipts are read later by the
 * delivery side (src/delivery/expo-receipts.ts) through receipts.ts.
 */
import { describeProvider } from "../descriptor";
import type { ExpoSettings } from "./config";
import { expoMessage, expoPayloadBytes } from "./message";
import { checkExpo } from "./check";
import { EXPO_MISCONFIGURATIONS } from "./misconfiguration";
import { createExpoProvider } from "./provider";

/**
 * An Expo push token as `getExpoPushTokenAsync` returns it and Expo's SDK
 * checks it (`isExpoPushToken`): `ExponentPushToken[...]` or
 * `ExpoPushToken[...]`. The part in brackets is about 22 characters today.
 */
const EXPO_TOKEN = /^Expo(nent)?PushToken\[[A-Za-z0-9_-]{1,256}\]$/;

export const expo = describeProvider<"expo", ExpoSettings>({
  name: "expo",
  devices: {
    normalize: (token) =>
      EXPO_TOKEN.test(token) ? { token } : { problem: "an Expo push token looks like ExponentPushToken[...] or ExpoPushToken[...]" },
  },
  settings: ["EXPO_ACCESS_TOKEN", "EXPO_API_BASE", "ANDROID_CHANNEL_ID"],
  appOverrides: {
    expo_access_token_secret: { setting: "EXPO_ACCESS_TOKEN", secret: true },
    android_channel_id: { setting: "ANDROID_CHANNEL_ID", secret: false },
  },
  payloadBytes: (message) => expoPayloadBytes(expoMessage(message)),
  misconfigurations: EXPO_MISCONFIGURATIONS,
  create: createExpoProvider,
  check: checkExpo,
});
