/**
 * One error base with a stable `code` per failure. The HTTP layer turns any
 * RelayError into `{ "error": { "code", "message" } }` with its status; the
 * delivery side uses the same codes in the ledger and in logs.
 */

export type ErrorCode =
  | "unauthorized"
  | "forbidden"
  | "rate_limited"
  | "invalid_signature"
  | "invalid_json"
  | "invalid_event"
  | "invalid_request"
  | "invalid_path"
  | "payload_too_large"
  | "not_found"
  | "method_not_allowed"
  | "not_configured"
  | "queue_unavailable"
  | "ledger_unavailable"
  | "internal_error";

export class RelayError extends Error {
  readonly code: ErrorCode;
  readonly status: 400 | 401 | 403 | 404 | 405 | 413 | 429 | 500 | 503;
  /** The offending field, for validation errors (`notifications[3].title`). */
  readonly field: string | undefined;

  constructor(
    code: ErrorCode,
    status: RelayError["status"],
    message: string,
    options: { cause?: unknown; field?: string } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.field = options.field;
  }
}

/** Missing or wrong Svix signature, or a timestamp outside the tolerance. */
export class VerificationError extends RelayError {
  constructor(message: string, cause?: unknown) {
    super("invalid_signature", 401, message, { cause });
  }
}

/** Input that is well-formed HTTP but not what the contract accepts. */
export class ValidationError extends RelayError {
  constructor(
    code: "invalid_json" | "invalid_event" | "invalid_request",
    field: string | undefined,
    message: string,
    cause?: unknown,
  ) {
    super(code, 400, field ? `${field}: ${message}` : message, { cause, field });
  }
}

/**
 * A secret or variable the operator has not set, or set unusably. The
 * answer names no setting (a caller who may not even be authenticated
 * would learn what to attack); `detail` names it for the log. Never echoes
 * its value.
 */
export class ConfigurationError extends RelayError {
  /** What the log says: the setting and what is wrong with it. */
  readonly detail: string;

  constructor(name: string, problem = "is not configured on this relay", cause?: unknown) {
    super("not_configured", 500, "this relay is missing a setting or cannot use one; its log names which", { cause });
    this.detail = `${name} ${problem}`;
  }
}

/** A credential that is missing, malformed, expired or badly signed. The message never quotes it. */
export class AuthError extends RelayError {
  constructor(message = "a valid Authorization: Bearer <API key or device token> header is required") {
    super("unauthorized", 401, message);
  }
}

/** A valid credential used beyond what it may do, or a console form without its CSRF token. */
export class ForbiddenError extends RelayError {
  constructor(message: string) {
    super("forbidden", 403, message);
  }
}

/** Over a rate limit; the answer carries `Retry-After: retryAfterSeconds`. */
export class RateLimitedError extends RelayError {
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number) {
    super("rate_limited", 429, message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class NotFoundError extends RelayError {
  constructor(message: string) {
    super("not_found", 404, message);
  }
}

/** A known route called with a method it does not serve; the answer carries `Allow`. */
export class MethodNotAllowedError extends RelayError {
  readonly allowed: readonly string[];

  constructor(message: string, allowed: readonly string[]) {
    super("method_not_allowed", 405, message);
    this.allowed = allowed;
  }
}

/** The queue refused the event: answering 503 makes Svix retry it. */
export class QueueUnavailableError extends RelayError {
  constructor(cause: unknown) {
    super("queue_unavailable", 503, "the push queue did not accept the event; retry later", { cause });
  }
}

/** D1 did not record the event's rejected notifications: answering 503 makes Svix retry it. */
export class LedgerUnavailableError extends RelayError {
  constructor(cause: unknown) {
    super("ledger_unavailable", 503, "the delivery ledger did not record the event; retry later", { cause });
  }
}
