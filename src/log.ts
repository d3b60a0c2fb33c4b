/**
 * Structured logs: one JSON object per line, searchable in Workers
 * observability (`event = "delivery"`, `status = "failed"`, ...). Callers pass
 * only ids, codes and numbers; no secret, token value or phone number is ever
 * a field here.
 */

export type LogEvent =
  | "webhook_accepted"
  | "webhook_rejected"
  | "webhook_api_version"
  | "delivery"
  | "delivery_batch"
  | "expo_receipts"
  | "alert"
  | "dead_letter"
  | "credentials"
  | "consumer_error"
  | "retention"
  | "conversion"
  | "quarantine"
  | "console"
  | "rate_limited"
  | "rate_limit_unavailable"
  | "not_configured"
  | "internal_error";

export type LogFields = Record<string, string | number | boolean | null | undefined>;

/**
 * A device token as logs and the console show it: its last 6 characters,
 * enough to tell a user's devices apart, never enough to send to.
 */
export function shortToken(token: string): string {
  return token === "" ? "" : `…${token.slice(-6)}`;
}

export function log(event: LogEvent, fields: LogFields, level: "info" | "warn" | "error" = "info"): void {
  const line = JSON.stringify({ event, level, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
