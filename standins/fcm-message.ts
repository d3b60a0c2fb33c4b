/**
 * Checks an FCM HTTP v1 send body the way FCM does: proto-JSON field names
 * (unknown ones are refused), string types where the API wants strings,
 * `data` as a map of strings without reserved keys, a well-formed token,
 * and the 4,096-byte payload limit.
 */
import { invalidArgument, invalidJson } from "./google-errors.ts";
import type { Answer } from "./http.ts";
import { invalidTokenArgument } from "./presets.ts";

/** FCM's limit for what reaches the device: `notification` and `data` as JSON. */
export const FCM_PAYLOAD_LIMIT = 4096;

type Json = Record<string, unknown>;

const REQUEST_FIELDS = ["message", "validate_only", "validateOnly"];
const MESSAGE_FIELDS = [
  "name",
  "data",
  "notification",
  "android",
  "webpush",
  "apns",
  "fcm_options",
  "fcmOptions",
  "token",
  "topic",
  "condition",
];
const NOTIFICATION_FIELDS = ["title", "body", "image"];
/** The proto's `token` is free text, but FCM refuses anything that cannot be a registration token. */
const TOKEN_SHAPE = /^[A-Za-z0-9_:.-]+$/;
const RESERVED_DATA_KEY = /^(from|notification|message_type)$|^(google|gcm)/;
const DURATION = /^\d+(\.\d{1,9})?s$/;

export type FcmCheck =
  | { ok: true; message: Json; token: string; payload: Json; validateOnly: boolean }
  | { ok: false; answer: Answer; token: string; eventId: string | null };

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function unknownField(fields: Json, allowed: string[], at: string): Answer | null {
  for (const name of Object.keys(fields)) {
    if (!allowed.includes(name)) {
      const where = at === "" ? "" : ` at '${at}'`;
      return invalidJson(`Invalid JSON payload received. Unknown name "${name}"${where}: Cannot find field.`, at || undefined);
    }
  }
  return null;
}

function notString(field: string, value: unknown): Answer {
  return invalidJson(`Invalid value at '${field}' (TYPE_STRING), ${JSON.stringify(value)}`, field);
}

/** A map<string, string> field (message.data, android.data, apns.headers). */
function stringMap(value: unknown, field: string): Answer | null {
  if (!isObject(value)) {
    const description = `Invalid value at '${field}' (type.googleapis.com/google.protobuf.Struct), ${JSON.stringify(value)}`;
    return invalidJson(description, field);
  }
  let index = 0;
  for (const entry of Object.values(value)) {
    if (typeof entry !== "string") return notString(`${field}[${index}].value`, entry);
    index++;
  }
  return null;
}

function checkNotification(notification: unknown): Answer | null {
  if (notification === undefined) return null;
  if (!isObject(notification)) return invalidJson("Invalid value at 'message.notification'", "message.notification");
  const unknown = unknownField(notification, NOTIFICATION_FIELDS, "message.notification");
  if (unknown) return unknown;
  for (const name of NOTIFICATION_FIELDS) {
    const value = notification[name];
    if (value !== undefined && typeof value !== "string") return notString(`message.notification.${name}`, value);
  }
  return null;
}

function checkData(data: unknown): Answer | null {
  if (data === undefined) return null;
  const problem = stringMap(data, "message.data");
  if (problem) return problem;
  for (const key of Object.keys(data as Json)) {
    if (RESERVED_DATA_KEY.test(key)) return invalidArgument(`Invalid data payload key: ${key}`, "message.data");
  }
  return null;
}

function checkAndroid(android: unknown): Answer | null {
  if (android === undefined) return null;
  if (!isObject(android)) return invalidJson("Invalid value at 'message.android'", "message.android");
  const { priority, ttl, data } = android;
  if (priority !== undefined && !(typeof priority === "string" && /^(normal|high)$/i.test(priority))) {
    return invalidJson(
      `Invalid value at 'message.android.priority' (type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), ${JSON.stringify(priority)}`,
      "message.android.priority",
    );
  }
  if (ttl !== undefined && !(typeof ttl === "string" && DURATION.test(ttl))) {
    return invalidJson(
      `Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration), ${JSON.stringify(ttl)}`,
      "message.android.ttl",
    );
  }
  return data === undefined ? null : stringMap(data, "message.android.data");
}

function checkApns(apns: unknown): Answer | null {
  if (apns === undefined) return null;
  if (!isObject(apns)) return invalidJson("Invalid value at 'message.apns'", "message.apns");
  if (apns.headers !== undefined) {
    const problem = stringMap(apns.headers, "message.apns.headers");
    if (problem) return problem;
  }
  if (apns.payload !== undefined && !isObject(apns.payload)) {
    return invalidJson("Invalid value at 'message.apns.payload'", "message.apns.payload");
  }
  return null;
}

function eventIdOf(message: Json): string | null {
  const eventId = isObject(message.data) ? message.data.event_id : undefined;
  return typeof eventId === "string" ? eventId : null;
}

/** Parses and checks a send request body. */
export function checkFcmBody(raw: Buffer): FcmCheck {
  let request: unknown;
  try {
    request = JSON.parse(raw.toString("utf8"));
  } catch {
    return { ok: false, token: "", eventId: null, answer: invalidJson("Invalid JSON payload received. Unexpected token.") };
  }
  if (!isObject(request)) {
    return { ok: false, token: "", eventId: null, answer: invalidJson("Invalid JSON payload received. Expected an object.") };
  }
  const message = request.message;
  const token = isObject(message) && typeof message.token === "string" ? message.token : "";
  const eventId = isObject(message) ? eventIdOf(message) : null;
  const fail = (answer: Answer): FcmCheck => ({ ok: false, answer, token, eventId });

  const unknownRequestField = unknownField(request, REQUEST_FIELDS, "");
  if (unknownRequestField) return fail(unknownRequestField);
  const validateOnly = request.validate_only ?? request.validateOnly ?? false;
  if (typeof validateOnly !== "boolean") {
    return fail(invalidJson(`Invalid value at 'validate_only' (TYPE_BOOL), ${JSON.stringify(validateOnly)}`, "validate_only"));
  }
  if (!isObject(message)) return fail(invalidArgument("Request contains an invalid argument.", "message"));
  const unknownMessageField = unknownField(message, MESSAGE_FIELDS, "message");
  if (unknownMessageField) return fail(unknownMessageField);
  if (message.token === undefined) return fail(invalidArgument("Recipient of the message is not set.", "message.token"));
  if (typeof message.token !== "string") return fail(notString("message.token", message.token));
  if (!TOKEN_SHAPE.test(message.token)) return fail(invalidTokenArgument());

  const problem =
    checkNotification(message.notification) ??
    checkData(message.data) ??
    checkAndroid(message.android) ??
    checkApns(message.apns);
  if (problem) return fail(problem);

  const size = Buffer.byteLength(JSON.stringify({ notification: message.notification, data: message.data }));
  if (size > FCM_PAYLOAD_LIMIT) {
    return fail(
      invalidArgument(`Message is too big: the payload is ${size} bytes, the limit is ${FCM_PAYLOAD_LIMIT} bytes.`, "message"),
    );
  }
  return { ok: true, message, token: message.token, payload: request, validateOnly };
}
