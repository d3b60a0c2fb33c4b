/**
 * What the console's pages carry about a device never holds its token in
 * the clear: the quarantine forms name a device, and the pagers' cursors
 * continue after a row keyed by one. Both are sealed here (AES-GCM under a
 * key derived from the admin key, RELAY_API_KEY) and opened only by the
 * Worker, so the page source shows a shortened token and an opaque value;
 * nothing in it can be sent to. Removing a key from RELAY_API_KEY voids
 * what was sealed with it, like its sessions.
 */
import { secretList } from "../config";
import { ValidationError } from "../errors";

const LABEL = "learnink-push-relay console seal v1";
const IV_BYTES = 12;
const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

/** The AES-GCM key for one admin key: SHA-256 of the label and the key, cached per isolate. */
function sealKey(adminKey: string): Promise<CryptoKey> {
  let key = keys.get(adminKey);
  if (!key) {
    key = crypto.subtle
      .digest("SHA-256", encoder.encode(`${LABEL}\u0000${adminKey}`))
      .then((raw) => crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]));
    keys.set(adminKey, key);
  }
  return key;
}

const toBase64Url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

function fromBase64Url(value: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]+$/.test(value)) return null;
  try {
    return Uint8Array.from(atob(value.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** `text` sealed with the first admin key, as base64url. */
export async function seal(env: Env, text: string): Promise<string> {
  const [adminKey] = secretList(env.RELAY_API_KEY, "RELAY_API_KEY");
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await sealKey(adminKey!), encoder.encode(text)));
  const out = new Uint8Array(IV_BYTES + sealed.length);
  out.set(iv);
  out.set(sealed, IV_BYTES);
  return toBase64Url(out);
}

/** The text `value` sealed, or null when no admin key opens it (edited, or sealed under a removed key). */
export async function unseal(env: Env, value: string): Promise<string | null> {
  const bytes = fromBase64Url(value);
  if (bytes === null || bytes.length <= IV_BYTES) return null;
  for (const adminKey of secretList(env.RELAY_API_KEY, "RELAY_API_KEY")) {
    try {
      const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.slice(0, IV_BYTES) }, await sealKey(adminKey), bytes.slice(IV_BYTES));
      return new TextDecoder().decode(plain);
    } catch {
      // Another admin key may have sealed it (rotation).
    }
  }
  return null;
}

/** A pager's cursor as the page carries it: sealed; null stays null. */
export async function sealCursor(env: Env, cursor: string | null): Promise<string | null> {
  return cursor === null ? null : seal(env, cursor);
}

/** The cursor a page's link carried, opened; undefined without one; 400 for one this console did not seal. */
export async function openCursor(env: Env, value: string | undefined, field = "cursor"): Promise<string | undefined> {
  if (value === undefined || value === "") return undefined;
  const cursor = await unseal(env, value);
  if (cursor === null) throw new ValidationError("invalid_request", field, "is not a cursor this console made");
  return cursor;
}
