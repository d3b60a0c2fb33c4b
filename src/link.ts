/**
 * The tap link the app opens in its WebView, and the rules a notification's
 * `path` must meet so that the link stays inside the organisation. The link
 * never carries a sign-in token: the app fetches a fresh one from its own
 * backend on tap, so a path that brings one along (or leads elsewhere) is
 * refused here, at the webhook (the notification is `rejected`) and again
 * whenever a link is built (defence in depth: old ledger rows, replays).
 *
 * It lives apart from both sides: the webhook checks paths with it, the
 * delivery side builds links with it, and the two meet only at the queue
 * message.
 */
import { ConfigurationError, RelayError } from "./errors";
import { hasTokenParam } from "./token-param";

/** A `token` parameter in a query or fragment, with or without a value. */
const TOKEN_PARAM = /[?&;#]token(?=[=&;#]|$)/i;

export const LINK_ORIGIN = "https://m.learn.ink";

/** Why a path cannot become a tap link. The message never repeats the path: it may hold a token. */
export class UnsafePathError extends RelayError {
  constructor(message: string) {
    super("invalid_path", 400, message, { field: "path" });
  }
}

/**
 * Undoes %XX escapes of ASCII characters until nothing changes, so `%2e%2e`,
 * `%252e` and `%5C` are seen as what a server or WebView may eventually
 * read. Only ASCII is decoded: every character these rules look for is
 * ASCII, and this never throws on a stray `%` ("100% done").
 */
export function decodeAsciiEscapes(text: string): string {
  let current = text;
  for (;;) {
    const next = current.replace(/%([0-7][0-9a-f])/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (next === current) return current;
    current = next;
  }
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Null when `path` is a safe tap-link path, else what is wrong with it.
 * Checked on the text as sent and on its decoded form.
 */
export function pathProblem(path: string): string | null {
  if (!path.startsWith("/")) return "must start with /";
  const decoded = decodeAsciiEscapes(path);
  if (CONTROL.test(decoded)) return "must not contain control characters (also percent-encoded)";
  if (decoded.includes("\\")) return "must not contain a backslash (also percent-encoded)";
  // "//host" is a link to another host; a scheme cannot follow a leading "/" any other way.
  if (decoded.startsWith("//")) return "must be a path on the organisation's site, not //host or a URL with a scheme";
  // The part before the query, decoded: "%2e%2e", ".%2E" and "%2F..%2F" are ".." segments too.
  const pathPart = decodeAsciiEscapes(path.split(/[?#]/, 1)[0]!);
  // "..;x" too: some servers drop a ";" parameter before resolving the segment.
  if (pathPart.split("/").some((segment) => segment === ".." || segment.startsWith("..;"))) {
    return "must not contain '..' segments (also percent-encoded)";
  }
  // Decoded (an encoded ? or &, a ; parameter), and by every name a lenient reader could see (token-param.ts).
  if (TOKEN_PARAM.test(decoded) || hasTokenParam(path)) return "must not carry a token parameter: the app adds a fresh sign-in token on tap";
  return null;
}

/** Whether links can be built under `orgId`: not empty and not a dot segment ("." or ".." would leave it). */
export function isUsableOrgId(orgId: string | undefined): orgId is string {
  return orgId !== undefined && orgId !== "" && orgId !== "." && orgId !== "..";
}

/** The organisation's part of the link: `/{orgId}/`, percent-encoded. */
function orgPrefix(orgId: string | undefined): string {
  if (!isUsableOrgId(orgId)) throw new ConfigurationError("LEARNINK_ORG_ID");
  return `/${encodeURIComponent(orgId)}/`;
}

/**
 * https://m.learn.ink/{orgId}{path}?webview=true, keeping any query the
 * path has. Throws UnsafePathError for a path that `pathProblem` refuses or
 * whose link would leave `https://m.learn.ink/{orgId}/` or carry a token,
 * and ConfigurationError for an unusable org id: it never builds a bad URL.
 */
export function tapLink(orgId: string | undefined, path: string): string {
  const problem = pathProblem(path);
  if (problem !== null) throw new UnsafePathError(problem);
  const prefix = orgPrefix(orgId);
  const url = new URL(`${LINK_ORIGIN}${prefix}${path.slice(1)}`);
  // What the URL parser made of it, checked again: the rules above are the reason, this is the guarantee.
  if (url.origin !== LINK_ORIGIN || !url.pathname.startsWith(prefix)) {
    throw new UnsafePathError("must stay inside the organisation's site");
  }
  if (TOKEN_PARAM.test(decodeAsciiEscapes(url.search + url.hash)) || hasTokenParam(url.search + url.hash)) {
    throw new UnsafePathError("must not carry a token parameter: the app adds a fresh sign-in token on tap");
  }
  // Most paths have no query: setting it directly spares re-serializing one.
  if (url.search === "") url.search = "?webview=true";
  else url.searchParams.set("webview", "true");
  return url.toString();
}
