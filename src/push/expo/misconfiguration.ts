/**
 * Expo answers that mean the app's push credentials at Expo, or our access
 * token, are wrong: the same for every device, never a dead token.
 */
import type { Misconfiguration } from "../misconfiguration";

export const EXPO_MISCONFIGURATIONS: Readonly<Record<string, Misconfiguration>> = {
  InvalidCredentials: {
    check:
      "Expo has no valid push credentials for the app these tokens come from (an APNs key or FCM credentials revoked or never uploaded): run `eas credentials` for the app and upload new ones. Its users' Expo push tokens stay the same.",
    clearedBy: "any",
  },
  MismatchSenderId: {
    check: "The FCM credentials uploaded to Expo belong to another Firebase project than the app's google-services.json: upload the app's own (`eas credentials`).",
    clearedBy: "any",
  },
  EXPO_ACCESS_TOKEN: {
    check:
      "Expo refused the request as UNAUTHORIZED: the project has enhanced push security on and EXPO_ACCESS_TOKEN (or the app's expo_access_token_secret) is missing, revoked or of another account. Create an access token at expo.dev and set it.",
    clearedBy: "any",
  },
};
