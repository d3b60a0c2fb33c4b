/**
 * Turns an APNs answer into a Verdict. APNs answers `{ "reason" }` on
 * every error; success carries the `apns-id` header.
 */
import { isMisconfiguration } from "../misconfiguration";
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
  // DeviceTokenNotForTopic, TopicDisallowed, BadTopic, MissingTopic: what a wrong APNS_TOPIC gets for every token.
  if (isMisconfiguration("apns", reason)) return { kind: "misconfigured", reason };
  if (status === 403 && REFRESH.has(reason)) return { kind: "refresh_credentials", reason };
  // TooManyRequests, and TooManyProviderTokenUpdates (a new JWT would only make it worse).
  if (status === 429 || status >= 500) return retryLater(reason, headers, now);
  return { kind: "failed", reason };
}
