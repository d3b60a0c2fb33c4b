/**
 * Checks one notification of a `notifications.sent` event. A notification
 * that fails is not an error of the event: it comes back as a rejection
 * (recorded in the ledger as `rejected`) and the others are still queued.
 *
 * Only what the relay uses is checked. `phone_number` and any field the
 * relay does not know are never read, so they can never cost a user a
 * reminder, and the phone number never reaches the queue, D1 or a log.
 */
import { MAX_ID_LENGTH } from "../vocabulary";
import { tapLink, UnsafePathError } from "../link";
import { MAX_PAYLOAD_BYTES, shortenToBytes } from "../push/payload";
import type { QueuedNotification } from "../queue/message";
import { isWellFormed, NOT_WELL_FORMED, toWellFormed } from "../text";
import { hasTokenParam } from "../token-param";

/** Why a notification was rejected; stable, for tests, logs and alerts. */
export type RejectionCode = "not_an_object" | "required" | "invalid_type" | "too_long" | "not_well_formed" | "invalid_path" | "too_large";

/** The notification's fields as the ledger keeps them: the valid ones, the others null. */
export interface KeptFields {
  user_id: string | null;
  custom_id: string | null;
  title: string | null;
  body: string | null;
  path: string | null;
}

export interface RejectedNotification {
  /** Index in `data.notifications[]`. */
  index: number;
  /** The notification's field (`title`), or null when the notification itself is not an object. */
  field: keyof KeptFields | null;
  code: RejectionCode;
  /** Says what is wrong without repeating the value (a path may carry a token). */
  message: string;
  kept: KeptFields;
}

/** What checking a notification needs from the event and the configuration. */
export interface NotificationContext {
  /** The org id tap links are built with. */
  orgId: string;
  /** Why a (path, url) cannot be delivered within the providers' limits (src/push/room.ts), or null. */
  pathFit: (path: string, url: string) => string | null;
}

export type Checked = { ok: true; notification: QueuedNotification } | { ok: false; rejection: RejectedNotification };

type Problem = { code: RejectionCode; message: string };
type FieldResult = { value: string | null } | { problem: Problem };

const kindOf = (value: unknown) => (value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`);

/**
 * Title: any string, made well-formed (a lone surrogate becomes U+FFFD, as
 * D1 and every provider would read it). Text beyond 4,096 bytes can never
 * be shown (the whole push is at most that) and is cut here, the way the
 * push would cut it, so one notification always fits a queue message.
 */
function text(value: unknown): FieldResult {
  if (value === undefined || value === null) return { problem: { code: "required", message: "is required: a string" } };
  if (typeof value !== "string") return { problem: { code: "invalid_type", message: `must be a string, not ${kindOf(value)}` } };
  return { value: shortenToBytes(toWellFormed(value), MAX_PAYLOAD_BYTES) };
}

/**
 * Body: as the title, and not empty. OneSignal refuses a push without
 * content and Push Kit one without a body, and no stand-in text would show
 * well on every phone (the title twice, or an invented line), so an empty
 * body is refused here, on that notification alone, with its field error:
 * the sender sees the template mistake, and the rest of the event goes out.
 */
function bodyText(value: unknown): FieldResult {
  const result = text(value);
  if ("value" in result && result.value!.trim() === "") return { problem: { code: "required", message: "is required: a non-empty string" } };
  return result;
}

/**
 * user_id and custom_id. A whole number is taken as its decimal text: the
 * id 1234 and a device registered as "1234" are the same user. A number
 * beyond 2^53 is refused: JSON parsing may already have changed its last
 * digits, and a wrong id could reach another user.
 */
function id(value: unknown, required: boolean): FieldResult {
  const missing = value === undefined || value === null || (typeof value === "string" && value.trim() === "");
  if (missing) return required ? { problem: { code: "required", message: "is required: a non-empty string" } } : { value: null };
  if (typeof value === "number") {
    if (Number.isSafeInteger(value)) return { value: String(value) };
    return { problem: { code: "invalid_type", message: "must be a string, or a whole number below 2^53" } };
  }
  if (typeof value !== "string") return { problem: { code: "invalid_type", message: `must be a string, not ${kindOf(value)}` } };
  if (value.length > MAX_ID_LENGTH) return { problem: { code: "too_long", message: `must be at most ${MAX_ID_LENGTH} characters` } };
  // A key D1 would store as another string: its record step could never find it again.
  if (!isWellFormed(value)) return { problem: { code: "not_well_formed", message: NOT_WELL_FORMED } };
  return { value };
}

/**
 * The tap path: well-formed, with no token parameter in any spelling, one
 * the link builder accepts (src/link.ts), and short enough that every
 * provider's push keeps room for the text (push/room.ts).
 */
function path(value: unknown, context: NotificationContext): FieldResult {
  if (value === undefined || value === null) return { problem: { code: "required", message: "is required: a string starting with /" } };
  if (typeof value !== "string") return { problem: { code: "invalid_type", message: `must be a string, not ${kindOf(value)}` } };
  if (!isWellFormed(value)) return { problem: { code: "not_well_formed", message: NOT_WELL_FORMED } };
  if (hasTokenParam(value)) {
    return { problem: { code: "invalid_path", message: "must not carry a token parameter (in any spelling): the app adds a fresh sign-in token on tap" } };
  }
  let url: string;
  try {
    url = tapLink(context.orgId, value);
  } catch (error) {
    if (error instanceof UnsafePathError) return { problem: { code: "invalid_path", message: error.message } };
    throw error;
  }
  const tooLarge = context.pathFit(value, url);
  if (tooLarge !== null) return { problem: { code: "too_large", message: tooLarge } };
  return { value };
}

const FIELDS = ["title", "body", "path", "user_id", "custom_id"] as const;

/** Checks `raw`, the notification at `index`; never throws for bad input. */
export function checkNotification(raw: unknown, index: number, context: NotificationContext): Checked {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    const kept = { user_id: null, custom_id: null, title: null, body: null, path: null };
    return { ok: false, rejection: { index, field: null, code: "not_an_object", message: `must be an object, not ${kindOf(raw)}`, kept } };
  }
  const record = raw as Record<string, unknown>;
  const results: Record<(typeof FIELDS)[number], FieldResult> = {
    title: text(record.title),
    body: bodyText(record.body),
    path: path(record.path, context),
    user_id: id(record.user_id, true),
    custom_id: id(record.custom_id, false),
  };
  const valueOf = (result: FieldResult) => ("value" in result ? result.value : null);
  const kept: KeptFields = {
    title: valueOf(results.title),
    body: valueOf(results.body),
    path: valueOf(results.path),
    user_id: valueOf(results.user_id),
    custom_id: valueOf(results.custom_id),
  };
  for (const field of FIELDS) {
    const result = results[field];
    if ("problem" in result) return { ok: false, rejection: { index, field, ...result.problem, kept } };
  }
  const { title, body, path: tapPath, user_id, custom_id } = kept;
  return { ok: true, notification: { i: index, title: title!, body: body!, path: tapPath!, user_id: user_id!, custom_id } };
}
