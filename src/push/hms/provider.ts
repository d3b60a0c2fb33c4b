/**
 * The Huawei Push Kit provider: one `messages:send` per notification and
 * app, carrying the tokens of that notification's Huawei phones (up to
 * 1,000), with a cached access token that is minted again once if Push Kit
 * refuses it; refused again, it is a setting to fix (`misconfigured`).
 */
import { log } from "../../log";
import { collapseKey } from "../collapse-key";
import { unusableSettings } from "../configured";
import type { ProviderContext } from "../descriptor";
import { PushFailure } from "../failure";
import { request } from "../http";
import type { PushMessage, PushProvider, PushResult } from "../provider";
import { noAnswer } from "../verdict";
import { type HmsAuth, hmsAccessToken, hmsCredentialName } from "./auth";
import { classifyHms, type HmsVerdict } from "./classify";
import { type HmsConfig, type HmsSettings, hmsConfig, hmsSendUrl } from "./config";
import { HMS_MAX_TOKENS, hmsRequestBody } from "./message";

/** A Push Kit provider over each app's settings. */
export function createHmsProvider({ settingsFor, deps, cache }: ProviderContext<HmsSettings>): PushProvider {
  const auth: HmsAuth = { deps, cache };
  const sendBatch = async (messages: readonly PushMessage[]): Promise<PushResult[]> => {
    const results: PushResult[] = new Array(messages.length);
    for (const group of groupsOf(messages)) {
      const first = messages[group[0]!]!;
      const answered = await sendGroup(first, group.map((i) => messages[i]!.token));
      group.forEach((i, k) => (results[i] = answered[k]!));
    }
    return results;
  };
  const sendGroup = async (message: PushMessage, tokens: string[]): Promise<PushResult[]> => {
    const app = settingsFor(message.app);
    if (app.kind === "unusable") return tokens.map(() => app.result);
    const state = hmsConfig(app.settings);
    if (state.kind === "off") return tokens.map(() => ({ kind: "failed", reason: "provider_not_configured" }));
    if (state.kind === "misconfigured") return tokens.map(() => unusableSettings("hms", message.app, state.setting));
    try {
      return await sendWithRefresh(state.config, auth, message, tokens);
    } catch (error) {
      if (error instanceof PushFailure) return tokens.map(() => error.result);
      throw error;
    }
  };
  return {
    name: "hms",
    maxBatch: HMS_MAX_TOKENS,
    async send(message) {
      const [result] = await sendBatch([message]);
      return result ?? { kind: "failed", reason: "hms_bad_answer" };
    },
    sendBatch,
  };
}

/** At most two sends: the push, and once more with a fresh access token if Push Kit refused ours. */
async function sendWithRefresh(config: HmsConfig, auth: HmsAuth, message: PushMessage, tokens: string[]): Promise<PushResult[]> {
  const body = JSON.stringify(hmsRequestBody(tokens, message, await collapseKey(message.event_id, message.index)));
  const post = async (accessToken: string): Promise<HmsVerdict> => {
    const outcome = await request(auth.deps, hmsSendUrl(config), {
      method: "POST",
      headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json; charset=utf-8", accept: "application/json" },
      body,
    });
    if (outcome.kind !== "answer") return { kind: "results", results: tokens.map(() => noAnswer(outcome)) };
    return classifyHms(outcome, tokens, auth.deps.now());
  };
  const token = await hmsAccessToken(config, auth);
  let verdict = await post(token);
  if (verdict.kind === "refresh_credentials") verdict = await post(await hmsAccessToken(config, auth, token));
  if (verdict.kind === "results") return verdict.results;
  // Refused twice: not an expired token but a setting (another app's id in the path, a revoked secret).
  log("credentials", { provider: "hms", reason: "credentials_rejected", hms_code: verdict.reason, app_id: config.appId }, "error");
  auth.cache.refused(await hmsCredentialName(config));
  const reason = Object.hasOwn(HMS_REFUSALS, verdict.reason) ? verdict.reason : "80200001";
  return tokens.map(() => ({ kind: "misconfigured", reason }));
}

/** The refusals the misconfiguration table explains; a bare 401 reads as 80200001. */
const HMS_REFUSALS = { "80200001": true, "80200003": true };

/**
 * The messages' indexes grouped by app and everything a request carries
 * but the tokens (the notification's event, index, text and tap link), at
 * most 1,000 per group, in first-seen order. Two phones of one user get
 * one request; different notifications never share one.
 */
function groupsOf(messages: readonly PushMessage[]): number[][] {
  const groups = new Map<string, number[]>();
  const order: number[][] = [];
  messages.forEach((m, i) => {
    const key = JSON.stringify([m.app, m.event_id, m.index, m.title, m.body, m.path, m.url]);
    let group = groups.get(key);
    if (!group || group.length >= HMS_MAX_TOKENS) {
      group = [];
      groups.set(key, group);
      order.push(group);
    }
    group.push(i);
  });
  return order;
}
