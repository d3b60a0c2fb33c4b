/**
 * Turns an APNs answer into a Verdict. APNs answers `{ "reason" }` on
 * every error; success carries the `apns-id` header.
 */
import { APNS_MISCONFIGURATIONS } from "./misconfiguration";
import { asObject, retryLater, type Verdict } from "../verdict";

/** Reasons that mean our provider JWT was refused: sign a new one. */
const REFRESH = new Set(["ExpiredProviderToken", "InvalidProviderToken"]);

/** A dead token, with the time APNs says it stopped being valid when the answer gives one. */
function deadSince(reason: string, timestamp: unknown): Verdict {
  const since = typeof timestamp === "number" ? timestamp : typeof timestamp === "string" ? Number(timestamp) : NaN;
  return Number.isFinite(since) && since > 0 ? { kind: "invalid_token", reason, since } : { kind: "invalid_token", reason };
}

/** Classifies one answer of `POST /3/device/{token}`; `now` (epoch ms) reads a Retry-After date. */
export function classifyApns(status: number, headers: Headers, body: unknown, now: number): Verdict {
  if (status >= 200 && status < 300) return { kind: "sent", id: headers.get("apns-id") ?? "" };
  const given = asObject(body).reason;
  const told = typeof given === "string" && given !== "" ? given : undefined;
  const reason = told ?? `http_${status}`;
  // 410: the app was uninstalled or the token expired (Unregistered, ExpiredToken), since `timestamp` (ms).
  if (status === 410) return deadSince(told ?? "Unregistered", asObject(body).timestamp);
  // provider.ts tries the other environment's host before it believes this one.
  if (reason === "BadDeviceToken") return { kind: "invalid_token", reason };
  // Our JWT refused: sign another first (provider.ts makes a second refusal a setting to fix).
  if (status === 403 && REFRESH.has(reason)) return { kind: "refresh_credentials", reason };
  // What a wrong APNS_TOPIC (DeviceTokenNotForTopic, TopicDisallowed, BadTopic, MissingTopic) or key
  // (Forbidden, MissingProviderToken, BadCertificate, ...) gets for every token.
  if (Object.hasOwn(APNS_MISCONFIGURATIONS, reason)) return { kind: "misconfigured", reason };
  // Apple closed an idle connection: nothing is wrong with the push.
  if (reason === "IdleTimeout") return retryLater(reason, headers, now);
  // TooManyRequests, and TooManyProviderTokenUpdates (a new JWT would only make it worse).
  if (status === 429 || status >= 500) return retryLater(reason, headers, now);
  return { kind: "failed", reason };
}
