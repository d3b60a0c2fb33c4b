/**
 * The one line the dev run prints per accepted push, so a developer sees
 * what would have reached the phone.
 */
import type { RecordedPush } from "./types.ts";

function shortToken(token: string): string {
  return token.length <= 10 ? token : `${token.slice(0, 4)}…${token.slice(-4)}`;
}

const NAMES = { fcm: "FCM", apns: "APNs", expo: "Expo", onesignal: "OneSignal", hms: "Huawei" } as const;

/** e.g. `[stand-in FCM] → token abcd…1234  "Title" — body  (path /courses/1, event msg_…)` */
export function pushLine(push: RecordedPush): string {
  const provider = NAMES[push.provider];
  const details = [push.path !== null && `path ${push.path}`, push.event_id !== null && `event ${push.event_id}`].filter(Boolean);
  const suffix = details.length > 0 ? `  (${details.join(", ")})` : "";
  const to = push.provider === "onesignal" ? `user ${push.token}` : `token ${shortToken(push.token)}`;
  return `[stand-in ${provider}] → ${to}  "${push.title ?? ""}" — ${push.body ?? ""}${suffix}`;
}
