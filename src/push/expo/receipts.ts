/**
 * Expo's push receipts: `POST /--/api/v2/push/getReceipts` with up to 1,000
 * ticket ids answers the receipts it has (an id without one is left out:
 * not ready yet, or past Expo's 24 hours). Expo suggests reading them about
 * 15 minutes after sending.
 */
import { request } from "../http";
import type { ProviderDeps } from "../provider";
import { asObject, noAnswer } from "../verdict";
import { classifyRequestFailure } from "./classify";
import { type ExpoSettings, expoConfig, expoHeaders } from "./config";

/** Expo answers at most 1,000 receipts per request (PUSH_TOO_MANY_RECEIPTS beyond). */
export const EXPO_MAX_RECEIPT_IDS = 1000;

export type ReceiptsAnswer =
  | { kind: "receipts"; receipts: Record<string, unknown> }
  | { kind: "retry"; reason: string; retryAfter?: number }
  | { kind: "misconfigured"; reason: string }
  | { kind: "failed"; reason: string };

/** The receipts of `ids` (at most 1,000), read with the app's settings. */
export async function fetchReceipts(settings: ExpoSettings, ids: readonly string[], deps: ProviderDeps): Promise<ReceiptsAnswer> {
  const config = expoConfig(settings);
  const outcome = await request(deps, `${config.base}/--/api/v2/push/getReceipts`, {
    method: "POST",
    headers: expoHeaders(config),
    body: JSON.stringify({ ids }),
  });
  if (outcome.kind !== "answer") return noAnswer(outcome);
  if (outcome.status < 200 || outcome.status >= 300) {
    const verdict = classifyRequestFailure(outcome.status, outcome.headers, outcome.body, deps.now());
    return verdict.kind === "retry" || verdict.kind === "misconfigured" || verdict.kind === "failed" ? verdict : { kind: "failed", reason: "expo_bad_answer" };
  }
  const data = asObject(outcome.body).data;
  return { kind: "receipts", receipts: asObject(data) };
}
