/**
 * Expo's settings check. Expo needs no credential unless the project turned
 * on enhanced push security; then EXPO_ACCESS_TOKEN must be accepted, and
 * that is all the relay can ask Expo about. It asks with a read: push
 * receipts for an id no push ever had (`getReceipts`, authorized with the
 * same bearer as sends; an unknown id reads as nothing). A push to a token
 * that cannot exist (DeviceNotRegistered) would prove no more, since Expo
 * cannot tie an unknown token to a project, and a read cannot notify
 * anyone even by mistake. What it cannot tell: the app's own push
 * credentials at Expo (InvalidCredentials shows on a real push's ticket
 * or receipt). Without an access token there is nothing to check.
 */
import { type SettingsCheck, busy, failed, notReached, passed, unanswered, whatToCheck } from "../check";
import type { ProviderContext } from "../descriptor";
import { request } from "../http";
import { requestErrorCode } from "./classify";
import { type ExpoSettings, expoConfig, expoHeaders } from "./config";
import { EXPO_MISCONFIGURATIONS } from "./misconfiguration";

/** A receipt id no push ever had (Expo's are UUIDs; this one is all zeros). */
export const EXPO_CHECK_RECEIPT_ID = "00000000-0000-4000-8000-000000000000";

/** Asks Expo whether `app`'s access token is accepted; null when the app sets none. */
export async function checkExpo({ settingsFor, deps }: ProviderContext<ExpoSettings>, app: string): Promise<SettingsCheck | null> {
  const resolved = settingsFor(app);
  if (resolved.kind === "unusable") return notReached("Expo", resolved.result, EXPO_MISCONFIGURATIONS);
  const config = expoConfig(resolved.settings);
  if (config.accessToken === undefined) return null;
  const outcome = await request(deps, `${config.base}/--/api/v2/push/getReceipts`, {
    method: "POST",
    headers: expoHeaders(config),
    body: JSON.stringify({ ids: [EXPO_CHECK_RECEIPT_ID] }),
  });
  if (outcome.kind !== "answer") return failed(unanswered("Expo", outcome, deps.timeoutMs));
  const { status } = outcome;
  if (status >= 200 && status < 300) {
    return passed("Expo accepts EXPO_ACCESS_TOKEN (a read of push receipts). Whether Expo holds valid APNs and FCM credentials for the app shows on the first push.");
  }
  const code = requestErrorCode(status, outcome.body);
  if (status === 429 || status >= 500) return busy("Expo", code);
  if (status === 401 || status === 403 || code === "UNAUTHORIZED") return failed(whatToCheck(EXPO_MISCONFIGURATIONS, "EXPO_ACCESS_TOKEN"));
  return failed(`Expo refused the check request (${status} ${code}).`);
}
