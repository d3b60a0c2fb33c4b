/**
 * Svix signature check on the raw body, before anything parses it. Each of
 * the space-separated secrets in LEARNINK_WEBHOOK_SECRET is tried, so a
 * secret can be rotated without a window of rejected webhooks. The svix
 * library enforces the 5-minute timestamp tolerance in both directions.
 */
import { Webhook, WebhookVerificationError } from "svix";
import { secretList } from "../config";
import { ConfigurationError, ValidationError, VerificationError } from "../errors";

export interface SvixHeaders {
  id: string;
  timestamp: string;
  signature: string;
}

/** Reads the `svix-*` headers, or the `webhook-*` names some senders use. */
export function svixHeaders(headers: Headers): SvixHeaders {
  const read = (name: string) => headers.get(`svix-${name}`) ?? headers.get(`webhook-${name}`) ?? "";
  const found = { id: read("id"), timestamp: read("timestamp"), signature: read("signature") };
  const missing = Object.entries(found).filter(([, v]) => v === "").map(([k]) => `svix-${k}`);
  if (missing.length > 0) throw new VerificationError(`missing header ${missing.join(", ")}`);
  return found;
}

/** Strict, and keeping a byte order mark: the text encodes back to exactly the bytes received. */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The body as the text Svix signed. The svix library verifies text (it
 * encodes it back to UTF-8), so a body that is not UTF-8 cannot be
 * verified byte for byte: a lenient decode would turn a genuine signature
 * into a misleading 401. Such a body can never be a LearnInk event (JSON
 * travels as UTF-8, RFC 8259 section 8.1), so it is refused as 400
 * `invalid_json` before the signature check; the answer reveals nothing
 * about the configuration.
 */
export function bodyText(bytes: ArrayBuffer): string {
  try {
    return utf8.decode(bytes);
  } catch (error) {
    throw new ValidationError("invalid_json", undefined, "the body is not valid UTF-8, so not JSON", error);
  }
}

/** Parsed `Webhook` instances are cached per secret string (one per isolate). */
let cached: { source: string; hooks: Webhook[] } | undefined;

function webhooksFor(secrets: string | undefined): Webhook[] {
  if (cached && cached.source === (secrets ?? "")) return cached.hooks;
  const hooks = secretList(secrets, "LEARNINK_WEBHOOK_SECRET").map((secret) => {
    try {
      return new Webhook(secret);
    } catch {
      // Never echo the secret itself: only say which setting is wrong.
      throw new ConfigurationError("a valid whsec_ value in LEARNINK_WEBHOOK_SECRET");
    }
  });
  cached = { source: secrets ?? "", hooks };
  return hooks;
}

/**
 * Throws VerificationError unless one of the secrets signed `rawBody` with
 * these headers within the tolerance. Returns the Svix message id.
 */
export function verifyWebhook(rawBody: string, headers: SvixHeaders, secrets: string | undefined): string {
  const hooks = webhooksFor(secrets);
  const svix = { "svix-id": headers.id, "svix-timestamp": headers.timestamp, "svix-signature": headers.signature };
  let last: unknown;
  for (const hook of hooks) {
    try {
      hook.verify(rawBody, svix);
      return headers.id;
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      last = error;
      // A stale or future timestamp fails the same way under every secret.
      if (/timestamp/i.test(error.message)) break;
    }
  }
  throw new VerificationError(reasonOf(last), last);
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : "";
  if (/too old/i.test(message)) return "svix-timestamp is more than 5 minutes old";
  if (/too new/i.test(message)) return "svix-timestamp is more than 5 minutes in the future";
  if (/invalid signature headers/i.test(message)) return "svix-timestamp is not a number";
  return "no signature matches any configured webhook secret";
}
