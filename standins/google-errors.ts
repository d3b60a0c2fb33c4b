/**
 * Error answers in Google's shapes: the OAuth token endpoint's flat
 * `{ error, error_description }` and the `google.rpc.Status` body FCM uses,
 * whose precise code sits in an `FcmError` detail.
 */
import { json, type Answer } from "./http.ts";

const FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError";
const BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest";
const ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo";

/** A token-endpoint refusal, e.g. `invalid_grant`. */
export function oauthError(error: string, description: string): Answer {
  return json(400, { error, error_description: description });
}

/** A google.rpc.Status answer with the given details. */
export function rpcError(code: number, status: string, message: string, details?: unknown[]): Answer {
  return json(code, { error: details ? { code, message, status, details } : { code, message, status } });
}

/** An FCM send error carrying `FcmError.errorCode` (plus any further details). */
export function fcmError(code: number, status: string, message: string, errorCode: string, more: unknown[] = []): Answer {
  return rpcError(code, status, message, [{ "@type": FCM_ERROR_TYPE, errorCode }, ...more]);
}

/** A `google.rpc.BadRequest` detail naming the offending field. */
export function fieldViolation(field: string | undefined, description: string): unknown {
  return { "@type": BAD_REQUEST_TYPE, fieldViolations: [field === undefined ? { description } : { field, description }] };
}

/** 400 INVALID_ARGUMENT about the message (FcmError INVALID_ARGUMENT and the field). */
export function invalidArgument(message: string, field?: string): Answer {
  return fcmError(400, "INVALID_ARGUMENT", message, "INVALID_ARGUMENT", [fieldViolation(field, message)]);
}

/** 400 for JSON Google's front end cannot map onto the request type (no FcmError: FCM never saw it). */
export function invalidJson(description: string, field?: string): Answer {
  return rpcError(400, "INVALID_ARGUMENT", description, [fieldViolation(field, description)]);
}

const INVALID_CREDENTIALS =
  "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";
const MISSING_CREDENTIALS =
  "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";

/** The plain 401 Google's front end answers for a missing, unknown or expired access token. */
export function unauthenticated(
  reason: "CREDENTIALS_MISSING" | "ACCESS_TOKEN_EXPIRED" | "ACCESS_TOKEN_TYPE_UNSUPPORTED",
): Answer {
  return rpcError(401, "UNAUTHENTICATED", reason === "CREDENTIALS_MISSING" ? MISSING_CREDENTIALS : INVALID_CREDENTIALS, [
    {
      "@type": ERROR_INFO_TYPE,
      reason,
      domain: "googleapis.com",
      metadata: { method: "google.firebase.fcm.v1.FcmService.SendMessage", service: "fcm.googleapis.com" },
    },
  ]);
}

/**
 * 403 PERMISSION_DENIED, no FcmError: what Google answers an access token
 * whose account has no role in the project named in the path (or when the
 * project does not exist). The message as public reports quote it
 * (xtrinch/fcm-django#213, firebase/firebase-admin-dotnet#435).
 */
export function permissionDenied(projectId: string): Answer {
  return rpcError(
    403,
    "PERMISSION_DENIED",
    `Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/${projectId}' (or it may not exist).`,
    [{ "@type": ERROR_INFO_TYPE, reason: "IAM_PERMISSION_DENIED", domain: "cloudresourcemanager.googleapis.com", metadata: { permission: "cloudmessaging.messages.create", resource: `projects/${projectId}` } }],
  );
}

/** The reason a recorded request is filed under: FcmError code, else the rpc status. */
export function googleReason(body: unknown): string | null {
  const error = (body as { error?: { status?: unknown; details?: unknown } } | null)?.error;
  if (!error || typeof error !== "object") return null;
  if (Array.isArray(error.details)) {
    for (const detail of error.details as { "@type"?: unknown; errorCode?: unknown }[]) {
      if (detail?.["@type"] === FCM_ERROR_TYPE && typeof detail.errorCode === "string") return detail.errorCode;
    }
  }
  return typeof error.status === "string" ? error.status : null;
}
