/**
 * FCM's settings check: an access token through the shared cache, then a
 * `validate_only` message (FCM checks it and delivers nothing) to a token
 * that cannot exist. Refused only for its token (INVALID_ARGUMENT about the
 * token, or UNREGISTERED), the service account, its key, the project and
 * the permission to send are right; 401, 403 and 404 say which is not.
 * What it cannot tell: that the project is the one the app's tokens come
 * from (a made-up token belongs to no project; SENDER_ID_MISMATCH on the
 * first real push says that), nor the APNs key uploaded to Firebase.
 */
import { type SettingsCheck, busy, failed, notReached, passed, unanswered, whatToCheck } from "../check";
import type { ProviderContext } from "../descriptor";
import { PushFailure } from "../failure";
import { request } from "../http";
import { fcmAccessToken } from "./auth";
import { classifyFcm } from "./classify";
import { type FcmConfig, fcmConfig } from "./config";
import { FCM_MISCONFIGURATIONS } from "./misconfiguration";
import { DEFAULT_FCM_API_BASE, type FcmSettings } from "./provider";

/** Not a registration token FCM could ever have issued: `!` is outside their alphabet. */
export const FCM_CHECK_TOKEN = "learnink-relay-settings-check!not-a-registration-token";

/** Asks FCM whether `app`'s service account may send in its project; null when FCM is not configured. */
export async function checkFcm({ settingsFor, deps, cache }: ProviderContext<FcmSettings>, app: string): Promise<SettingsCheck | null> {
  const resolved = settingsFor(app);
  if (resolved.kind === "unusable") return notReached("FCM", resolved.result, FCM_MISCONFIGURATIONS);
  const state = await fcmConfig(resolved.settings.FCM_SERVICE_ACCOUNT);
  if (state.kind === "not_configured") return null;
  if (state.kind === "misconfigured") return failed(whatToCheck(FCM_MISCONFIGURATIONS, state.setting));
  const { config } = state;
  let accessToken: string;
  try {
    accessToken = await fcmAccessToken(config, deps, cache);
  } catch (error) {
    if (!(error instanceof PushFailure)) throw error;
    if (error.result.reason === "credentials_rejected") return failed(refusedGrant(config));
    return notReached("Google", error.result, FCM_MISCONFIGURATIONS);
  }
  const base = (resolved.settings.FCM_API_BASE?.trim() || DEFAULT_FCM_API_BASE).replace(/\/+$/, "");
  const outcome = await request(deps, `${base}/v1/projects/${encodeURIComponent(config.projectId)}/messages:send`, {
    method: "POST",
    headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json; charset=utf-8" },
    body: JSON.stringify({ validate_only: true, message: { token: FCM_CHECK_TOKEN, notification: { title: "Settings check", body: "Never delivered" } } }),
  });
  if (outcome.kind !== "answer") return failed(unanswered("FCM", outcome, deps.timeoutMs));
  return fcmVerdict(config, outcome.status, classifyFcm(outcome.status, outcome.headers, outcome.body, deps.now()));
}

const who = (config: FcmConfig) => `service account ${config.clientEmail} in project ${config.projectId}`;

function refusedGrant(config: FcmConfig): string {
  return `Google refuses the key of ${config.clientEmail} (the OAuth token request was refused): the key in FCM_SERVICE_ACCOUNT was deleted or disabled, or the account removed. Create a new key for the account (Google Cloud console, IAM, Service accounts, Keys) and set FCM_SERVICE_ACCOUNT to the downloaded JSON.`;
}

/** What FCM's answer to the validate_only message says about the settings. */
function fcmVerdict(config: FcmConfig, status: number, verdict: ReturnType<typeof classifyFcm>): SettingsCheck {
  if (verdict.kind === "invalid_token" || verdict.kind === "sent") {
    return passed(`FCM accepts ${who(config)}: a validate_only message was refused only for its made-up token. Whether the app's tokens come from this project shows on the first push (SENDER_ID_MISMATCH).`);
  }
  if (status === 404) {
    return failed(`FCM knows no project ${config.projectId} (404): is project_id in FCM_SERVICE_ACCOUNT the id of the app's Firebase project (Project settings, General)?`);
  }
  if (verdict.kind === "misconfigured" && verdict.reason === "PERMISSION_DENIED") {
    return failed(`FCM refuses ${who(config)} (PERMISSION_DENIED): is project_id in FCM_SERVICE_ACCOUNT the app's Firebase project, and the account one of that project? If both are, ${whatToCheck(FCM_MISCONFIGURATIONS, "PERMISSION_DENIED").replace(/^The service account may not send: /, "")}`);
  }
  if (verdict.kind === "misconfigured") return failed(`FCM refuses ${who(config)} (${verdict.reason}): ${whatToCheck(FCM_MISCONFIGURATIONS, verdict.reason)}`);
  if (verdict.kind === "refresh_credentials") {
    return failed(`FCM does not accept the access token of ${who(config)} (401 ${verdict.reason}): is project_id in FCM_SERVICE_ACCOUNT the account's own project, and is its key still valid?`);
  }
  if (verdict.kind === "retry") return busy("FCM", verdict.reason);
  return failed(`FCM refused the check message (${status} ${verdict.reason}${"detail" in verdict && verdict.detail ? `: ${verdict.detail}` : ""}).`);
}
