/**
 * OneSignal settings that are missing or refused: what an operator sets.
 */
import type { Misconfiguration } from "../misconfiguration";

export const ONESIGNAL_MISCONFIGURATIONS: Readonly<Record<string, Misconfiguration>> = {
  ONESIGNAL_API_KEY: {
    check:
      "OneSignal refused the App API key (401/403), or ONESIGNAL_API_KEY is not set: copy the app's API key from OneSignal (Settings, Keys & IDs) into the ONESIGNAL_API_KEY secret.",
    clearedBy: "any",
  },
  ONESIGNAL_APP_ID: {
    check: "OneSignal does not know ONESIGNAL_APP_ID (app_id not found), or it is not set: copy the App ID from OneSignal (Settings, Keys & IDs).",
    clearedBy: "any",
  },
  ONESIGNAL_EXTERNAL_ID: {
    check: 'ONESIGNAL_EXTERNAL_ID must be "custom_id" (the default) or "user_id": which id of the user the app sets as its OneSignal external id.',
    clearedBy: "any",
  },
};
