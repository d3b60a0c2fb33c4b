/**
 * Paging, for the operations API and the console alike: a `limit` of at
 * most MAX_PAGE, and a cursor that is the key of the last row of a page,
 * opaque to clients (base64url of a JSON list) and checked on the way back
 * in, so a cursor that was edited is a 400, not a query.
 */
import { ValidationError } from "../errors";

export const MAX_PAGE = 1_000;

/** `?limit=`, 1 to MAX_PAGE; `fallback` when absent. */
export function pageLimit(value: string | undefined, fallback = MAX_PAGE): number {
  if (value === undefined) return fallback;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new ValidationError("invalid_request", "limit", `must be an integer from 1 to ${MAX_PAGE}`);
  }
  return limit;
}

type KeyPart = string | number;
type Decoded<Shape extends readonly ("string" | "number")[]> = { [K in keyof Shape]: Shape[K] extends "number" ? number : string };

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(value: string): string {
  const binary = atob(value.replace(/-/g, "+").replace(/_/g, "/"));
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

/** The cursor that continues after the row whose key is `key` (e.g. its index and device token). */
export function encodeCursor(...key: KeyPart[]): string {
  return toBase64Url(JSON.stringify(key));
}

/**
 * The key inside a cursor this API returned, its parts of the types `shape`
 * names ("number" is an integer); undefined when there is no cursor.
 */
export function decodeCursor<const Shape extends readonly ("string" | "number")[]>(
  value: string | undefined,
  shape: Shape,
): Decoded<Shape> | undefined {
  if (value === undefined || value === "") return undefined;
  let key: unknown;
  try {
    key = JSON.parse(fromBase64Url(value));
  } catch (error) {
    throw new ValidationError("invalid_request", "cursor", "is not a cursor this API returned", error);
  }
  const fits =
    Array.isArray(key) &&
    key.length === shape.length &&
    key.every((part, i) => (shape[i] === "number" ? Number.isSafeInteger(part) : typeof part === "string"));
  if (!fits) throw new ValidationError("invalid_request", "cursor", "is not a cursor this API returned");
  return key as Decoded<Shape>;
}
