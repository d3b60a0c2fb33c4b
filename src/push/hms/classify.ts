/**
 * Turns a Push Kit `messages:send` answer into a result per token. The
 * answer is `{ code, msg, requestId }`; `code` decides, the HTTP status
 * only where there is no code. From Huawei's result-code table (Push Kit
 * server API; the HTTP status each comes with in brackets):
 *
 * - 80000000 (200): sent to every token.
 * - 80100000 (200): partly: `msg` is a JSON string
 *   `{"success":n,"failure":m,"illegal_tokens":[...]}`; the listed tokens
 *   are dead, the others sent.
 * - 80300007 (400): every token is invalid: dead tokens, through the
 *   pruning brake like any provider's (a wrong App ID gets this for every
 *   token, which is what the brake is for).
 * - 80200001 / 80200003 (401): our access token refused or expired: mint
 *   another and try once more (provider.ts), then a setting to fix.
 * - 80300002 (403): the app may not push: a setting to fix.
 * - 80300008 (413) payload too big, 80300010 (400) token count, 80100001 /
 *   80100003 / 80100004 (400) a bad request: our bug, failed.
 * - 81000001 (500) Huawei's internal error, HTTP 503 (flow control) and
 *   429: retried, honouring Retry-After.
 */
import { providerDetail } from "../detail";
import type { PushResult } from "../provider";
import { asObject, retryLater } from "../verdict";
import { HMS_MISCONFIGURATIONS } from "./misconfiguration";

export const HMS_SUCCESS = "80000000";
export const HMS_PARTIAL = "80100000";
export const HMS_ALL_TOKENS_INVALID = "80300007";
const REFRESH = new Set(["80200001", "80200003"]);
const RETRY = new Set(["81000001"]);

/** One answer as the classifier reads it. */
export interface HmsAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

export type HmsVerdict = { kind: "results"; results: PushResult[] } | { kind: "refresh_credentials"; reason: string };

/** The result for each of `tokens` (in order) from one answer; `now` (epoch ms) reads a Retry-After date. */
export function classifyHms(answer: HmsAnswer, tokens: readonly string[], now: number): HmsVerdict {
  const fields = asObject(answer.body);
  const code = typeof fields.code === "string" || typeof fields.code === "number" ? String(fields.code) : "";
  const all = (result: PushResult): HmsVerdict => ({ kind: "results", results: tokens.map(() => result) });
  if (code === HMS_SUCCESS) return all({ kind: "sent", id: requestIdOf(fields) });
  if (code === HMS_PARTIAL) return { kind: "results", results: partly(fields, tokens) };
  const detail = providerDetail(fields.msg, tokens);
  const withDetail = <R extends PushResult>(result: R): R => (detail ? { ...result, detail } : result);
  if (REFRESH.has(code) || (code === "" && answer.status === 401)) return { kind: "refresh_credentials", reason: code || "http_401" };
  if (code === HMS_ALL_TOKENS_INVALID) return all(withDetail({ kind: "invalid_token", reason: code }));
  if (code !== "" && Object.hasOwn(HMS_MISCONFIGURATIONS, code)) return all(withDetail({ kind: "misconfigured", reason: code }));
  const reason = code !== "" ? code : `http_${answer.status}`;
  if (RETRY.has(code) || answer.status === 429 || answer.status >= 500) return all(withDetail(retryLater(reason, answer.headers, now)));
  if (answer.status >= 200 && answer.status < 300 && code === "") return all({ kind: "failed", reason: "hms_bad_answer" });
  return all(withDetail({ kind: "failed", reason }));
}

function requestIdOf(fields: Record<string, unknown>): string {
  return typeof fields.requestId === "string" ? fields.requestId : "";
}

/**
 * 80100000: the tokens `msg` lists as illegal are dead, the others sent.
 * A `msg` that cannot be read leaves them all sent: some surely were, and
 * sending again could show the notification twice.
 */
function partly(fields: Record<string, unknown>, tokens: readonly string[]): PushResult[] {
  const illegal = new Set(illegalTokens(fields.msg));
  const id = requestIdOf(fields);
  return tokens.map((token) => (illegal.has(token) ? { kind: "invalid_token", reason: HMS_PARTIAL } : { kind: "sent", id }));
}

/** The `illegal_tokens` of a partial answer's `msg` (a JSON string), or none. */
export function illegalTokens(msg: unknown): string[] {
  if (typeof msg !== "string") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(msg);
  } catch {
    return [];
  }
  const listed = asObject(parsed).illegal_tokens;
  return Array.isArray(listed) ? listed.filter((t): t is string => typeof t === "string") : [];
}
