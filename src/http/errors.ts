/**
 * The one place an error becomes an answer's words. Whatever failed, the
 * answer says the code, a message written by the relay and at most the
 * method and the route's pattern (`/v1/devices/:token`): never the path,
 * query, headers or body as sent, since any of them may hold a device
 * token or a key. What an operator needs beyond that (a setting's name, an
 * unexpected exception) goes to the log.
 */
import type { Context } from "hono";
import { ConfigurationError, MethodNotAllowedError, RateLimitedError, RelayError } from "../errors";
import { log } from "../log";

/** The JSON an error answer carries. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** Methods worth naming in a message; any other method is input and is not repeated. */
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** `method` as a message may name it: a standard method, else a placeholder. */
export function methodName(method: string): string {
  return KNOWN_METHODS.has(method) ? method : "this method";
}

/** Any thrown value as a RelayError; an unexpected one is a 500 `internal_error` that says nothing more. */
export function asRelayError(error: unknown): RelayError {
  return error instanceof RelayError ? error : new RelayError("internal_error", 500, "internal error", { cause: error });
}

/** Logs what the answer leaves out: the setting behind a 500 not_configured, the exception behind an internal error. */
export function logHidden(error: unknown, route: string): void {
  if (error instanceof ConfigurationError) log("not_configured", { route, setting: error.detail }, "error");
  else if (!(error instanceof RelayError)) log("internal_error", { route, error: String(error) }, "error");
}

/** `{ "error": { "code", "message", "field"? } }` for `error`. */
export function errorBody(error: RelayError): ErrorBody {
  const body: ErrorBody["error"] = { code: error.code, message: error.message };
  if (error.field) body.field = error.field;
  return { error: body };
}

/** The headers an error answer carries besides its body: `Retry-After` for 429, `Allow` for 405. */
export function setErrorHeaders(c: Context, error: RelayError): void {
  if (error instanceof RateLimitedError) c.header("retry-after", String(error.retryAfterSeconds));
  if (error instanceof MethodNotAllowedError) c.header("allow", error.allowed.join(", "));
}

/** The JSON answer for `error`. */
export function errorResponse(c: Context, error: RelayError): Response {
  setErrorHeaders(c, error);
  return c.json(errorBody(error), error.status);
}
