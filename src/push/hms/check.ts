/**
 * Huawei Push Kit's settings check: an access token minted (or reused)
 * through the shared cache, which proves the App ID and App Secret, then
 * a `validate_only` message (Push Kit checks it and delivers nothing) to
 * a token that cannot exist, which proves the token is honoured for that
 * App ID and the app may push: success, or 80300007 (all tokens invalid),
 * is right; 80200001, 80200003 and 80300002 name what is wrong. What it
 * cannot tell: that the app's phones registered with this App ID.
 */
import { type SettingsCheck, busy, failed, notReached, passed, unanswered, whatToCheck } from "../check";
import type { ProviderContext } from "../descriptor";
import { PushFailure } from "../failure";
import { request } from "../http";
import type { PushMessage } from "../provider";
import { asObject } from "../verdict";
import { hmsAccessToken } from "./auth";
import { type HmsSettings, hmsConfig, hmsSendUrl } from "./config";
import { hmsRequestBody } from "./message";
import { HMS_MISCONFIGURATIONS } from "./misconfiguration";

/** Not a Push Kit token any phone could hold. */
export const HMS_CHECK_TOKEN = "learnink-relay-settings-check-not-a-push-kit-token";

/** Push Kit's answers that mean the message was fine and only the token was not. */
const ACCEPTED = new Set(["80000000", "80100000", "80300007"]);

const CHECK_MESSAGE: PushMessage = {
  token: HMS_CHECK_TOKEN, app: "", environment: "production", title: "Settings check", body: "Never delivered",
  path: "/", url: "https://m.learn.ink/", event_id: "settings-check", index: 0,
};

/** Asks Push Kit whether `app`'s App ID and App Secret are accepted; null when HMS is not configured. */
export async function checkHms({ settingsFor, deps, cache }: ProviderContext<HmsSettings>, app: string): Promise<SettingsCheck | null> {
  const resolved = settingsFor(app);
  if (resolved.kind === "unusable") return notReached("Push Kit", resolved.result, HMS_MISCONFIGURATIONS);
  const state = hmsConfig(resolved.settings);
  if (state.kind === "off") return null;
  if (state.kind === "misconfigured") return failed(whatToCheck(HMS_MISCONFIGURATIONS, state.setting));
  let accessToken: string;
  try {
    accessToken = await hmsAccessToken(state.config, { deps, cache });
  } catch (error) {
    if (error instanceof PushFailure) return notReached("Huawei", error.result, HMS_MISCONFIGURATIONS);
    throw error;
  }
  const outcome = await request(deps, hmsSendUrl(state.config), {
    method: "POST",
    headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json; charset=utf-8", accept: "application/json" },
    body: JSON.stringify(hmsRequestBody([HMS_CHECK_TOKEN], CHECK_MESSAGE, "settings-check", true)),
  });
  if (outcome.kind !== "answer") return failed(unanswered("Push Kit", outcome, deps.timeoutMs));
  const code = String(asObject(outcome.body).code ?? `http_${outcome.status}`);
  if (ACCEPTED.has(code)) return passed(`Push Kit accepts App ID ${state.config.appId} with its App Secret: a validate_only message was refused only for its made-up token.`);
  if (outcome.status === 429 || outcome.status >= 500) return busy("Push Kit", code);
  if (Object.hasOwn(HMS_MISCONFIGURATIONS, code)) return failed(whatToCheck(HMS_MISCONFIGURATIONS, code));
  if (outcome.status === 401) return failed(whatToCheck(HMS_MISCONFIGURATIONS, "80200001"));
  return failed(`Push Kit refused the check message (${outcome.status} ${code}).`);
}
