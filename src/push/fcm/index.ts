/**
 * Firebase Cloud Messaging (HTTP v1), as the relay knows it: one
 * descriptor for the registry (src/push/providers.ts).
 */
import { MAX_COLLAPSE_KEY_BYTES } from "../collapse-key";
import { describeProvider } from "../descriptor";
import { fcmPayloadBytes, fcmRequestBody } from "./message";
import { checkFcm } from "./check";
import { FCM_MISCONFIGURATIONS } from "./misconfiguration";
import { createFcmProvider, type FcmSettings } from "./provider";

/** FCM registration tokens: about 160 URL-safe characters today; the API takes up to 4,096. */
const FCM_TOKEN = /^[A-Za-z0-9_:.-]{32,4096}$/;
/** The payload is measured with the longest collapse key a push can carry. */
const LONGEST_COLLAPSE_KEY = "k".repeat(MAX_COLLAPSE_KEY_BYTES);

export const fcm = describeProvider<"fcm", FcmSettings>({
  name: "fcm",
  devices: {
    normalize: (token) =>
      FCM_TOKEN.test(token) ? { token } : { problem: "an FCM token must be 32 to 4096 characters of A-Z, a-z, 0-9, '_', ':', '.', '-'" },
  },
  settings: ["FCM_SERVICE_ACCOUNT", "FCM_API_BASE", "ANDROID_CHANNEL_ID"],
  appOverrides: {
    fcm_service_account_secret: { setting: "FCM_SERVICE_ACCOUNT", secret: true },
    android_channel_id: { setting: "ANDROID_CHANNEL_ID", secret: false },
  },
  payloadBytes: (message, now) => fcmPayloadBytes(fcmRequestBody(message, LONGEST_COLLAPSE_KEY, now)),
  misconfigurations: FCM_MISCONFIGURATIONS,
  create: createFcmProvider,
  check: checkFcm,
});
