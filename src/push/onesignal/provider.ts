/**
 * The OneSignal provider: users without a device registered in the relay,
 * reached through OneSignal by external id. One Create message request
 * (`POST /notifications?c=push`) per group of notifications of one event
 * with the same text and tap path, up to 20,000 users, carrying an
 * idempotency key derived from the event and the notifications it holds.
 * The consumer hands over one queue message's rows at a time, so a retry
 * forms exactly the same groups and keys (see idempotency.ts).
 */
import { unusableSettings } from "../configured";
import type { ProviderContext } from "../descriptor";
import { request } from "../http";
import type { PushMessage, PushProvider, PushResult } from "../provider";
import { noAnswer } from "../verdict";
import { classifyOneSignal } from "./classify";
import { externalIdOf, oneSignalConfig, type OneSignalSettings } from "./config";
import { idempotencyKey } from "./idempotency";
import { oneSignalBody } from "./message";

/** OneSignal: `include_aliases` targets at most 20,000 users per request. */
export const ONESIGNAL_MAX_ALIASES = 20_000;

/** The OneSignal app is the relay's, not a device's: its results are recorded under the default app. */
export const ONESIGNAL_APP = "default";

/** A OneSignal provider over `settings`. */
export function createOneSignalProvider({ settingsFor, deps }: ProviderContext<OneSignalSettings>): PushProvider {
  const sendBatch = async (messages: readonly PushMessage[]): Promise<PushResult[]> => {
    // OneSignal's app is the relay's: its settings are the default app's, which are always usable.
    const resolved = settingsFor(ONESIGNAL_APP);
    if (resolved.kind === "unusable") return messages.map(() => resolved.result);
    const config = oneSignalConfig(resolved.settings);
    if (config.kind === "off") return messages.map(() => ({ kind: "failed", reason: "provider_not_configured" }));
    if (config.kind === "misconfigured") return messages.map(() => unusableSettings("onesignal", ONESIGNAL_APP, config.setting));
    const results: PushResult[] = new Array(messages.length);
    for (const group of groupsOf(messages)) {
      const first = messages[group[0]!]!;
      const externalIds = [...new Set(group.map((i) => externalIdOf(messages[i]!.token)))];
      const key = await idempotencyKey(first.event_id, group.map((i) => messages[i]!.index));
      const body = oneSignalBody(config.appId, externalIds, first, key);
      const outcome = await request(deps, `${config.base}/notifications?c=push`, {
        method: "POST",
        headers: { authorization: `Key ${config.apiKey}`, "content-type": "application/json; charset=utf-8", accept: "application/json" },
        body: JSON.stringify(body),
      });
      const byUser = new Map<string, PushResult>();
      if (outcome.kind === "answer") {
        const answers = classifyOneSignal(outcome, externalIds, deps.now());
        externalIds.forEach((id, k) => byUser.set(id, answers[k]!));
      }
      for (const i of group) results[i] = byUser.get(externalIdOf(messages[i]!.token)) ?? (outcome.kind === "answer" ? { kind: "failed", reason: "onesignal_bad_answer" } : noAnswer(outcome));
    }
    return results;
  };
  return {
    name: "onesignal",
    maxBatch: ONESIGNAL_MAX_ALIASES,
    sameMessageOnly: true,
    async send(message) {
      const [result] = await sendBatch([message]);
      return result ?? { kind: "failed", reason: "onesignal_bad_answer" };
    },
    sendBatch,
  };
}

/**
 * The messages' indexes grouped by event and visible content (title, body,
 * path, and so the tap link), at most 20,000 per group, in first-seen order.
 */
function groupsOf(messages: readonly PushMessage[]): number[][] {
  const groups = new Map<string, number[][]>();
  const order: number[][] = [];
  messages.forEach((m, i) => {
    const key = JSON.stringify([m.event_id, m.title, m.body, m.path, m.url]);
    const chunks = groups.get(key) ?? [];
    groups.set(key, chunks);
    let last = chunks.at(-1);
    if (!last || last.length >= ONESIGNAL_MAX_ALIASES) {
      last = [];
      chunks.push(last);
      order.push(last);
    }
    last.push(i);
  });
  return order;
}
