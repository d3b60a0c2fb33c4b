/**
 * The Expo provider: `POST /--/api/v2/push/send` with up to 100 messages,
 * one push ticket back for each, in order. A single push is a list of one.
 * Each push names its app, whose access token (if any) the request carries;
 * the consumer hands over one app's messages at a time, and a mixed list is
 * split by app here. Receipts are read later (receipts.ts).
 */
import type { ProviderContext } from "../descriptor";
import { providerDetail } from "../detail";
import { type HttpOutcome, request } from "../http";
import type { ProviderDeps, PushMessage, PushProvider, PushResult } from "../provider";
import { asObject } from "../verdict";
import { classifyRequestFailure, classifyTicket } from "./classify";
import { type ExpoConfig, type ExpoSettings, expoConfig, expoHeaders } from "./config";
import { projectsOf, sendByProject } from "./projects";
import { expoMessage } from "./message";

/** Expo takes at most 100 notifications per request (PUSH_TOO_MANY_NOTIFICATIONS beyond). */
export const EXPO_MAX_MESSAGES = 100;

/** An Expo provider over each app's settings. */
export function createExpoProvider({ settingsFor, deps }: ProviderContext<ExpoSettings>): PushProvider {
  const sendBatch = async (messages: readonly PushMessage[]): Promise<PushResult[]> => {
    const app = messages[0]?.app;
    if (app === undefined) return [];
    if (messages.length > EXPO_MAX_MESSAGES || messages.some((m) => m.app !== app)) return splitAndSend(messages, sendBatch);
    const resolved = settingsFor(app);
    if (resolved.kind === "unusable") return messages.map(() => resolved.result);
    return post(expoConfig(resolved.settings), messages, deps);
  };
  return {
    name: "expo",
    maxBatch: EXPO_MAX_MESSAGES,
    async send(message) {
      const [result] = await sendBatch([message]);
      return result ?? { kind: "failed", reason: "expo_no_ticket" };
    },
    sendBatch,
  };
}

/**
 * One request for `messages` (one app, at most 100): a result per message,
 * in order. A request that mixes Expo projects is refused as a whole
 * (PUSH_TOO_MANY_EXPERIENCE_IDS) with the tokens of each project in its
 * details: it is split by project and each part sent once (`split` false).
 */
async function post(config: ExpoConfig, messages: readonly PushMessage[], deps: ProviderDeps, split = true): Promise<PushResult[]> {
  const outcome = await request(deps, `${config.base}/--/api/v2/push/send`, {
    method: "POST",
    headers: expoHeaders(config),
    body: JSON.stringify(messages.map((message) => expoMessage(message, config.channelId))),
  });
  if (outcome.kind !== "answer") return messages.map(() => answerLost(outcome));
  if (outcome.status < 200 || outcome.status >= 300) {
    const projects = split ? projectsOf(outcome.body, messages) : null;
    if (projects) return sendByProject(projects, messages, (part) => post(config, part, deps, false));
    const verdict = classifyRequestFailure(outcome.status, outcome.headers, outcome.body, deps.now());
    return messages.map(() => verdict);
  }
  const data = asObject(outcome.body).data;
  // A list answers a list; Expo answers a single ticket object only to a single message sent without a list.
  const tickets = Array.isArray(data) ? data : [data];
  // Expo accepted the request: a message without its ticket is not sent again (it may well have gone out).
  return messages.map((m, i) => (i < tickets.length ? classifyTicket(tickets[i], m.token) : { kind: "failed", reason: "expo_no_ticket" }));
}

/**
 * No answer: Expo may have taken the request and pushed every message in
 * it, and Expo has no collapse key, so a resend would show each one twice.
 * Nothing is sent again blind: each delivery fails as `answer_lost`, which
 * a replay (or an operator who checked) can send again.
 */
function answerLost(outcome: Exclude<HttpOutcome, { kind: "answer" }>): PushResult {
  const detail = outcome.kind === "timeout" ? "no answer within the timeout" : providerDetail(outcome.error);
  return detail ? { kind: "failed", reason: "answer_lost", detail } : { kind: "failed", reason: "answer_lost" };
}

/** Sends a list that spans apps or exceeds 100 messages as several requests, keeping the order of results. */
async function splitAndSend(
  messages: readonly PushMessage[],
  sendBatch: (messages: readonly PushMessage[]) => Promise<PushResult[]>,
): Promise<PushResult[]> {
  const results: PushResult[] = new Array(messages.length);
  const groups = new Map<string, number[]>();
  messages.forEach((m, i) => {
    const group = groups.get(m.app) ?? [];
    groups.set(m.app, group);
    group.push(i);
  });
  for (const indexes of groups.values()) {
    for (let start = 0; start < indexes.length; start += EXPO_MAX_MESSAGES) {
      const chunk = indexes.slice(start, start + EXPO_MAX_MESSAGES);
      const answered = await sendBatch(chunk.map((i) => messages[i]!));
      chunk.forEach((i, k) => (results[i] = answered[k]!));
    }
  }
  return results;
}
