/**
 * Reads from the Cloudflare API with the credentials wrangler already has
 * (`wrangler auth token --json`), for what no wrangler command prints as
 * data: which queues exist and who consumes them, which migrations a
 * database recorded, which version is deployed with which bindings, the
 * crons, the workers.dev switch. Everything that changes the account goes
 * through wrangler itself. Honours CLOUDFLARE_API_BASE_URL as wrangler does.
 *
 * A 429 is waited out as its Retry-After says, a few times; a paged list is
 * read to its last page as its result_info says.
 */

export const DEFAULT_API_BASE = "https://api.cloudflare.com/client/v4";

/** What `wrangler auth token --json` prints. */
export type Credentials = { type: "api_token" | "oauth"; token: string } | { type: "api_key"; key: string; email: string };

/** An answer with `success: false`; `code` is the API's first error code. */
export class CloudflareApiError extends Error {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly code: number | null;
  constructor(call: { method: string; path: string }, status: number, errors: { code?: number; message?: string }[]) {
    super(`${call.method} ${call.path}: ${errors.map((e) => `${e.message ?? "error"}${e.code ? ` [code ${e.code}]` : ""}`).join("; ") || `HTTP ${status}`}`);
    this.method = call.method;
    this.path = call.path;
    this.status = status;
    this.code = errors[0]?.code ?? null;
  }
}

/** The API could not be reached at all (DNS, TLS, a refused connection). */
export class CloudflareUnreachable extends Error {}

/** A list's paging, as the API reports it; endpoints fill different subsets. */
export interface ResultInfo {
  page?: number;
  per_page?: number;
  count?: number;
  total_count?: number;
  total_pages?: number;
}

interface Envelope<T> {
  success: boolean;
  errors?: { code?: number; message?: string }[];
  result: T;
  result_info?: ResultInfo;
}

export interface CloudflareApi {
  /** GET `path` (below the API base); the envelope's `result`. */
  get<T>(path: string, query?: Record<string, string>): Promise<T>;
  /**
   * Every page of a paged list. `items` picks the entries out of a page's
   * result (the array itself by default; `result.items` for Worker versions).
   * `until` stops early once an entry answers what the caller looks for.
   */
  list<T>(path: string, options?: ListOptions<T>): Promise<T[]>;
  /** POST a JSON body; the envelope's `result`. */
  post<T>(path: string, body: unknown): Promise<T>;
}

export interface ListOptions<T> {
  query?: Record<string, string>;
  items?: (result: unknown) => T[];
  until?: (items: T[]) => boolean;
}

/**
 * Tries per call while the API answers 429, each after the wait its
 * Retry-After asks. wrangler 4.164 tries 3 times; the deploy reads some
 * twenty paths in a row, so it allows a little more before giving up.
 */
const RATE_LIMIT_TRIES = 5;
/** The longest Retry-After waited out (seconds), as wrangler 4.164 (60 s); beyond it the run stops with the API's error. */
const MAX_RETRY_AFTER_S = 60;

/** Seconds a 429 asks to wait: Retry-After as seconds or as an HTTP date; 1 s when absent. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number {
  if (!header) return 1;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? 1 : Math.max(0, Math.ceil((date - now) / 1000));
}

/** Whether a list has pages after `page`, from its result_info (no info: one page). */
export function hasMorePages(info: ResultInfo | undefined, page: number, read: number, lastPageSize: number): boolean {
  if (!info || lastPageSize === 0) return false;
  if (info.total_pages !== undefined) return page < info.total_pages;
  if (info.total_count !== undefined) return read < info.total_count;
  return info.per_page !== undefined && lastPageSize >= info.per_page;
}

const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** One request; a network failure becomes CloudflareUnreachable (a sentence, not a stack trace). */
async function send(doFetch: typeof fetch, url: URL, init: RequestInit): Promise<Response> {
  try {
    return await doFetch(url, init);
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new CloudflareUnreachable(`Cannot reach the Cloudflare API at ${url.origin} (${cause}): check the network, then run the command again.`);
  }
}

type Call = <T>(method: string, path: string, query?: Record<string, string>, body?: unknown) => Promise<Envelope<T>>;

/** Calls the API: waits out a 429 as its Retry-After says (a few times), throws CloudflareApiError for any failure. */
function caller(credentials: Credentials, base: string, doFetch: typeof fetch, notify: (line: string) => void): Call {
  const headers: Record<string, string> =
    credentials.type === "api_key" ? { "x-auth-key": credentials.key, "x-auth-email": credentials.email } : { authorization: `Bearer ${credentials.token}` };
  return async <T>(method: string, path: string, query: Record<string, string> = {}, body?: unknown): Promise<Envelope<T>> => {
    const url = new URL(`${base.replace(/\/$/, "")}${path}`);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const init: RequestInit = {
      method,
      headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    };
    for (let attempt = 1; ; attempt++) {
      const response = await send(doFetch, url, init);
      const text = await response.text();
      const wait = retryAfterSeconds(response.headers.get("retry-after"));
      if (response.status === 429 && attempt < RATE_LIMIT_TRIES && wait <= MAX_RETRY_AFTER_S) {
        notify(`  (the API asks to slow down: waiting ${wait} s before ${method} ${path} again)`);
        await sleep(wait);
        continue;
      }
      let envelope: Envelope<T>;
      try {
        envelope = JSON.parse(text) as Envelope<T>;
      } catch {
        throw new CloudflareApiError({ method, path }, response.status, [{ message: `not JSON: ${text.slice(0, 200)}` }]);
      }
      if (!response.ok || !envelope.success) throw new CloudflareApiError({ method, path }, response.status, envelope.errors ?? []);
      return envelope;
    }
  };
}

/** Every page of a list, as its result_info says (or until the caller has what it looks for). */
async function listAll<T>(call: Call, path: string, options: ListOptions<T> = {}): Promise<T[]> {
  const pick = options.items ?? ((result: unknown) => result as T[]);
  const items: T[] = [];
  for (let page = 1; ; page++) {
    const envelope = await call<unknown>("GET", path, { ...options.query, page: String(page) });
    const entries = pick(envelope.result);
    items.push(...entries);
    if (options.until?.(items)) return items;
    if (!hasMorePages(envelope.result_info, page, items.length, entries.length)) return items;
  }
}

/** The client; `notify` hears each wait for a 429 (the deploy prints it). */
export function cloudflareApi(
  credentials: Credentials,
  base = process.env.CLOUDFLARE_API_BASE_URL || DEFAULT_API_BASE,
  doFetch: typeof fetch = fetch,
  notify: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): CloudflareApi {
  const call = caller(credentials, base, doFetch, notify);
  return {
    get: async (path, query) => (await call<never>("GET", path, query)).result,
    post: async (path, body) => (await call<never>("POST", path, {}, body)).result,
    list: (path, options) => listAll(call, path, options),
  };
}
