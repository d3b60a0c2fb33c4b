/**
 * Push Kit answers (and settings) that mean one of our settings is wrong,
 * whatever the token. Source: Huawei's Push Kit server API result codes
 * (80200001 "OAuth authentication error", among its causes an access token
 * of one App ID used for another; 80200003 "OAuth token expired"; 80300002
 * "the current app does not have the permission to send messages").
 */
import type { Misconfiguration } from "../misconfiguration";

export const HMS_MISCONFIGURATIONS: Readonly<Record<string, Misconfiguration>> = {
  HMS_APP_ID: { check: "HMS_APP_ID (or the app's hms_app_id) is not set while HMS_APP_SECRET is: copy the App ID from AppGallery Connect (Project settings, App information).", clearedBy: "any" },
  HMS_APP_SECRET: {
    check:
      "Huawei's token endpoint refused HMS_APP_ID with HMS_APP_SECRET (or the app's hms_app_id with the secret hms_app_secret_secret names), or the secret is not set: copy the App ID and App Secret from AppGallery Connect (Project settings, App information).",
    clearedBy: "any",
  },
  "80200001": {
    check: "Push Kit refused our access token even freshly minted (80200001): the App ID in the send path must be the App ID the token was minted for, the same HMS_APP_ID (or hms_app_id).",
    clearedBy: "any",
  },
  "80200003": { check: "Push Kit says our access token expired even freshly minted (80200003): check the clock of the token endpoint (HMS_OAUTH_URL).", clearedBy: "any" },
  "80300002": {
    check: "The app may not send push messages (80300002): enable Push Kit for the app in AppGallery Connect (Grow, Push Kit) and check that HMS_APP_ID is that app's.",
    clearedBy: "any",
  },
};
