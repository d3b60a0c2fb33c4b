/**
 * OneSignal's settings check: a read-only call with the App API key, View
 * messages (`GET /notifications?app_id=...&limit=1`), which OneSignal
 * answers only for a known App ID with that app's key. Chosen over a
 * notification to an external id that cannot exist (which OneSignal
 * answers with invalid_aliases and creates nothing) because a read cannot
 * notify anyone even if such an id did exist, and it uses no idempotency
 * key. What it cannot tell: whether the app sets its users' external ids
 * (a user without one is `no_device` on the first reminder). OneSignal's
 * app is the relay's, so only the default app is checked.
 *
 * Sources: OneSignal's "View messages" reference (up to 50 per request,
 * `limit`, App API key); its TypeScript client (@onesignal/node-onesignal
 * 5.18, `getNotifications`: GET /notifications with `app_id` and `limit`
 * in the query, the App API key as the `Authorization: Key` header).
 */
import { type SettingsCheck, busy, failed, notReached, passed, unanswered, whatToCheck } from "../check";
import type { ProviderContext } from "../descriptor";
import { request } from "../http";
import { asObject } from "../verdict";
import { oneSignalConfig, type OneSignalSettings } from "./config";
import { ONESIGNAL_MISCONFIGURATIONS } from "./misconfiguration";
import { ONESIGNAL_APP } from "./provider";

/** Asks OneSignal whether the App ID and App API key are accepted; null when OneSignal is off or `app` is not the relay's. */
export async function checkOneSignal({ settingsFor, deps }: ProviderContext<OneSignalSettings>, app: string): Promise<SettingsCheck | null> {
  if (app !== ONESIGNAL_APP) return null;
  const resolved = settingsFor(app);
  if (resolved.kind === "unusable") return notReached("OneSignal", resolved.result, ONESIGNAL_MISCONFIGURATIONS);
  const config = oneSignalConfig(resolved.settings);
  if (config.kind === "off") return null;
  if (config.kind === "misconfigured") return failed(whatToCheck(ONESIGNAL_MISCONFIGURATIONS, config.setting));
  const query = new URLSearchParams({ app_id: config.appId, limit: "1" });
  const outcome = await request(deps, `${config.base}/notifications?${query}`, {
    method: "GET",
    headers: { authorization: `Key ${config.apiKey}`, accept: "application/json" },
  });
  if (outcome.kind !== "answer") return failed(unanswered("OneSignal", outcome, deps.timeoutMs));
  const { status } = outcome;
  if (status >= 200 && status < 300) return passed(`OneSignal accepts the App API key for app ${config.appId} (a read of its latest message).`);
  if (status === 429 || status >= 500) return busy("OneSignal", status);
  if (status === 401 || status === 403) return failed(whatToCheck(ONESIGNAL_MISCONFIGURATIONS, "ONESIGNAL_API_KEY"));
  const errors = asObject(outcome.body).errors;
  if (/app_id/i.test(JSON.stringify(errors ?? ""))) return failed(`OneSignal does not know app ${config.appId}: ${whatToCheck(ONESIGNAL_MISCONFIGURATIONS, "ONESIGNAL_APP_ID")}`);
  return failed(`OneSignal refused the check request (${status}).`);
}
