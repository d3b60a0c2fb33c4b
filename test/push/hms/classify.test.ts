import { describe, expect, it } from "vitest";
import { classifyHms, type HmsVerdict, illegalTokens } from "../../../src/push/hms/classify";

const NOW = Date.UTC(2026, 10, 20, 9, 0, 0);
const TOKENS = ["tokenA", "tokenB", "tokenC"];

const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => ({ status, headers: new Headers(headers), body });
const each = (result: unknown): HmsVerdict => ({ kind: "results", results: TOKENS.map(() => result) }) as HmsVerdict;

const rows: { name: string; status: number; body: unknown; headers?: Record<string, string>; expected: HmsVerdict }[] = [
  {
    name: "200 80000000: sent to every token, with the request id",
    status: 200,
    body: { code: "80000000", msg: "Success", requestId: "req-1" },
    expected: each({ kind: "sent", id: "req-1" }),
  },
  {
    name: "200 80100000: the illegal tokens in msg are dead, the others sent",
    status: 200,
    body: { code: "80100000", msg: JSON.stringify({ success: 2, failure: 1, illegal_tokens: ["tokenB"] }), requestId: "req-2" },
    expected: {
      kind: "results",
      results: [
        { kind: "sent", id: "req-2" },
        { kind: "invalid_token", reason: "80100000" },
        { kind: "sent", id: "req-2" },
      ],
    },
  },
  {
    name: "200 80100000 with a msg that cannot be read: all sent (resending could show it twice)",
    status: 200,
    body: { code: "80100000", msg: "partly", requestId: "req-3" },
    expected: each({ kind: "sent", id: "req-3" }),
  },
  {
    name: "400 80300007: every token dead (the pruning brake decides)",
    status: 400,
    body: { code: "80300007", msg: "All the tokens are invalid" },
    expected: each({ kind: "invalid_token", reason: "80300007", detail: "All the tokens are invalid" }),
  },
  { name: "401 80200001: mint a new access token", status: 401, body: { code: "80200001", msg: "Oauth authentication error" }, expected: { kind: "refresh_credentials", reason: "80200001" } },
  { name: "401 80200003: mint a new access token", status: 401, body: { code: "80200003", msg: "Oauth token expired" }, expected: { kind: "refresh_credentials", reason: "80200003" } },
  { name: "401 without a code: mint a new access token", status: 401, body: "Unauthorized", expected: { kind: "refresh_credentials", reason: "http_401" } },
  {
    name: "403 80300002: the app may not push, a setting to fix",
    status: 403,
    body: { code: "80300002", msg: "no permission" },
    expected: each({ kind: "misconfigured", reason: "80300002", detail: "no permission" }),
  },
  {
    name: "413 80300008: the payload is our bug",
    status: 413,
    body: { code: "80300008", msg: "The message body size exceeds the default value" },
    expected: each({ kind: "failed", reason: "80300008", detail: "The message body size exceeds the default value" }),
  },
  {
    name: "400 80300010: too many tokens is our bug",
    status: 400,
    body: { code: "80300010", msg: "token count" },
    expected: each({ kind: "failed", reason: "80300010", detail: "token count" }),
  },
  {
    name: "500 81000001: Huawei's internal error is retried",
    status: 500,
    body: { code: "81000001", msg: "System inner error" },
    expected: each({ kind: "retry", reason: "81000001", detail: "System inner error" }),
  },
  {
    name: "503 flow control is retried after Retry-After",
    status: 503,
    body: "Service Unavailable",
    headers: { "retry-after": "30" },
    expected: each({ kind: "retry", reason: "http_503", retryAfter: 30 }),
  },
  { name: "429 is retried, the delay left to the consumer", status: 429, body: null, expected: each({ kind: "retry", reason: "http_429" }) },
  { name: "200 without a code is not a success", status: 200, body: {}, expected: each({ kind: "failed", reason: "hms_bad_answer" }) },
];

describe("classifyHms", () => {
  it.each(rows)("$name", ({ status, body, headers, expected }) => {
    expect(classifyHms(answer(status, body, headers), TOKENS, NOW)).toStrictEqual(expected);
  });

  it("keeps the provider's text without the tokens it names", () => {
    const verdict = classifyHms(answer(400, { code: "80100003", msg: "Illegal payload, token tokenA is bad" }), TOKENS, NOW);
    expect(verdict).toEqual(each({ kind: "failed", reason: "80100003", detail: "Illegal payload, token … is bad" }));
  });

  it("reads illegal_tokens only from a JSON msg", () => {
    expect(illegalTokens(JSON.stringify({ illegal_tokens: ["a", 3, "b"] }))).toEqual(["a", "b"]);
    expect(illegalTokens("not json")).toEqual([]);
    expect(illegalTokens(undefined)).toEqual([]);
  });
});
