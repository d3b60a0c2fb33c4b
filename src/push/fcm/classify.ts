/**
 * Turns an FCM HTTP v1 answer into a Verdict. The precise code is the
 * `errorCode` of the `google.firebase.fcm.v1.FcmError` detail; the
 * top-level status can be generic (a 401 is UNAUTHENTICATED whether our
 * access token expired or the APNs key inside Firebase is wrong).
 */
import { FCM_MISCONFIGURATIONS } from "./misconfiguration";
import { providerDetail } from "../detail";
import { asObject, retryLater, type Verdict } from "../verdict";

const FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError";
const BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest";

interface FcmError {
  /** FcmError errorCode, else the status (`INVALID_ARGUMENT`), else `http_<status>`. */
  code: string;
  /** The request was refused because of the registration token, not our payload. */
  aboutToken: boolean;
  /** Google's `error.message`, for the operator. */
  message: string;
}

/** Classifies one answer of `messages:send`; `now` (epoch ms) reads a Retry-After date. */
export function classifyFcm(status: number, headers: Headers, body: unknown, now: number): Verdict {
  if (status >= 200 && status < 300) {
    const name = asObject(body).name;
    return { kind: "sent", id: typeof name === "string" ? name : "" };
  }
  const { code, aboutToken, message } = readError(status, body);
  if (code === "UNREGISTERED") return { kind: "invalid_token", reason: code };
  if (code === "INVALID_ARGUMENT" && aboutToken) return { kind: "invalid_token", reason: code };
  // SENDER_ID_MISMATCH (another project's service account), THIRD_PARTY_AUTH_ERROR (a 401 about the
  // APNs credentials in Firebase, not our token), PERMISSION_DENIED: a setting to fix, not a dead token.
  if (Object.hasOwn(FCM_MISCONFIGURATIONS, code)) return { kind: "misconfigured", reason: code };
  if (status === 401) return { kind: "refresh_credentials", reason: code };
  if (status === 429 || code === "QUOTA_EXCEEDED") return retryLater(code, headers, now);
  if (status >= 500 || code === "UNAVAILABLE" || code === "INTERNAL") return retryLater(code, headers, now);
  // A final failure keeps Google's words: what in our request was wrong.
  const detail = providerDetail(message);
  return detail ? { kind: "failed", reason: code, detail } : { kind: "failed", reason: code };
}

function readError(status: number, body: unknown): FcmError {
  const error = asObject(asObject(body).error);
  const details = Array.isArray(error.details) ? error.details.map(asObject) : [];
  const fcmCode = details.find((d) => d["@type"] === FCM_ERROR)?.errorCode;
  const code =
    typeof fcmCode === "string" ? fcmCode : typeof error.status === "string" ? error.status : `http_${status}`;
  const onToken = details
    .filter((d) => d["@type"] === BAD_REQUEST)
    .flatMap((d) => (Array.isArray(d.fieldViolations) ? d.fieldViolations.map(asObject) : []))
    .some((v) => v.field === "message.token");
  const message = typeof error.message === "string" ? error.message : "";
  const saysToken = /registration token/i.test(message) && /not a valid|invalid/i.test(message);
  return { code, aboutToken: onToken || saysToken, message };
}
