/**
 * APNs' settings check: a push, with the provider token the sends use
 * (from the shared cache: no extra token update, which Apple limits to one
 * per 20 minutes), to a device token that cannot exist. Apple answers
 * BadDeviceToken for it only once the key, team and topic are accepted;
 * InvalidProviderToken, TopicDisallowed, DeviceTokenNotForTopic, BadTopic
 * or Forbidden name what is wrong. Nothing can reach a phone: no device
 * has that token. It asks the production host (keys serve both
 * environments) and says plainly when Apple does not answer: a Worker
 * reaches APNs over HTTP/2 only once deployed.
 */
import { type SettingsCheck, busy, failed, notReached, passed, unanswered, whatToCheck } from "../check";
import type { ProviderContext } from "../descriptor";
import { PushFailure } from "../failure";
import { type HttpOutcome, request } from "../http";
import type { ProviderDeps } from "../provider";
import { asObject } from "../verdict";
import { apnsProviderToken } from "./auth";
import { type ApnsConfig, apnsBase, apnsConfig } from "./config";
import { apnsHeaders } from "./message";
import { APNS_MISCONFIGURATIONS } from "./misconfiguration";
import type { ApnsProviderSettings } from "./provider";

/**
 * Shaped like a device token (32 bytes in hex), so Apple judges the key,
 * team and topic as for any push, but all zeros: a token Apple never
 * issues, so no device can hold it. (A malformed token could be refused
 * for its shape before the topic is looked at.)
 */
export const APNS_CHECK_TOKEN = "0".repeat(64);

/** Asks APNs whether `app`'s key, team and topic are accepted; null when APNs is not configured. */
export async function checkApns({ settingsFor, deps, cache }: ProviderContext<ApnsProviderSettings>, app: string): Promise<SettingsCheck | null> {
  const resolved = settingsFor(app);
  if (resolved.kind === "unusable") return notReached("APNs", resolved.result, APNS_MISCONFIGURATIONS);
  const state = await apnsConfig(resolved.settings);
  if (state.kind === "not_configured") return null;
  if (state.kind === "misconfigured") return failed(whatToCheck(APNS_MISCONFIGURATIONS, state.setting));
  let jwt: string;
  try {
    jwt = await apnsProviderToken(state.config, deps, cache);
  } catch (error) {
    // Only a hold can stop it: a send had the token refused moments ago.
    if (error instanceof PushFailure) return failed(apnsRefusal(state.config, "InvalidProviderToken"));
    throw error;
  }
  const base = apnsBase(resolved.settings.APNS_API_BASE, "production");
  const outcome = await request(deps, `${base}/3/device/${APNS_CHECK_TOKEN}`, {
    method: "POST",
    headers: apnsHeaders(jwt, state.config.topic, "settings-check", deps.now()),
    body: JSON.stringify({ aps: { alert: { title: "Settings check", body: "Never delivered" } } }),
  });
  return apnsVerdict(state.config, outcome, deps);
}

function apnsVerdict(config: ApnsConfig, outcome: HttpOutcome, deps: ProviderDeps): SettingsCheck {
  if (outcome.kind !== "answer") return failed(apnsSilent(outcome, deps.timeoutMs));
  const given = asObject(outcome.body).reason;
  const reason = typeof given === "string" && given !== "" ? given : `http_${outcome.status}`;
  if (reason === "BadDeviceToken" || outcome.status === 200) {
    return passed(`APNs accepts key ${config.keyId} of team ${config.teamId} for topic ${config.topic}: a push to a made-up token was refused only for its token.`);
  }
  if (outcome.status === 429 || outcome.status >= 500) return busy("APNs", reason);
  return failed(apnsRefusal(config, reason));
}

/** What APNs' refusal `reason` says is wrong, naming the key, team and topic it was given. */
export function apnsRefusal(config: ApnsConfig, reason: string): string {
  const { keyId, teamId, topic } = config;
  switch (reason) {
    case "TopicDisallowed":
    case "DeviceTokenNotForTopic":
    case "BadTopic":
      return `APNs refuses topic ${topic} for team ${teamId} (${reason}): is APNS_TOPIC the app's bundle id, and does team ${teamId} own the app?`;
    case "InvalidProviderToken":
      return `APNs refuses the provider token of key ${keyId} for team ${teamId} (InvalidProviderToken): is APNS_KEY_ID the id of APNS_KEY, APNS_TEAM_ID the team that owns the key, and is the key not revoked (Apple Developer, Keys)?`;
    case "ExpiredProviderToken":
      return `APNs says the provider token of key ${keyId} is expired: check the Worker's clock; sends sign a new one by themselves.`;
    case "TooManyProviderTokenUpdates":
      return `APNs says the token of key ${keyId} changed too often: does another sender use key ${keyId}? Give it its own key.`;
    default:
      return `APNs refused key ${keyId} of team ${teamId} for topic ${topic} (${reason}): ${whatToCheck(APNS_MISCONFIGURATIONS, reason)}`;
  }
}

/** No answer from Apple: say so, and what is known about reaching APNs from a Worker. */
function apnsSilent(outcome: Exclude<HttpOutcome, { kind: "answer" }>, timeoutMs: number): string {
  return `${unanswered("APNs", outcome, timeoutMs)} A Worker reaches APNs over HTTP/2 only once deployed (never under wrangler dev), and some deployed Workers have seen Apple never answer. iOS apps that use the Firebase SDK can be reached through FCM instead: register their FCM tokens with provider "fcm".`;
}
