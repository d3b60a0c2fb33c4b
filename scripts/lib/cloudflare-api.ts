/**
 * Reads from the Cloudflare API with the credentials wrangler already has
 * (`wrangler auth token --json`), for what no wrangler command prints as
 * data: which queues exist, which migrations a database recorded, which
 * version is deployed, the account's workers.dev subdomain. Everything that
 * changes the account goes through wrangler itself. Honours
 * CLOUDFLARE_API_BASE_URL as wrangler does.
 */

export const DEFAULT_API_BASE = "https://api.cloudflare.com/client/v4";

/** What `wrangler auth token --json` prints. */
export type Credentials = { type: "api_token" | "oauth"; token: string } | { type: "api_key"; key: string; email: string };

/** An answer with `success: false`; `code` is the API's first error code. */
export class CloudflareApiError extends Error {
  readonly status: number;
  readonly code: number | null;
  constructor(path: string, status: number, errors: { code?: number; message?: string }[]) {
    super(`${path}: ${errors.map((e) => `${e.message ?? "error"}${e.code ? ` [code ${e.code}]` : ""}`).join("; ") || `HTTP ${status}`}`);
    this.status = status;
    this.code = errors[0]?.code ?? null;
  }
}

interface Envelope<T> {
  success: boolean;
  errors?: { code?: number; message?: string }[];
  result: T;
  result_info?: { page?: number; per_page?: number; total_count?: number };
}

export interface CloudflareApi {
  /** GET `path` (below the API base); the envelope's `result`. */
  get<T>(path: string, query?: Record<string, string>): Promise<T>;
  /** Every page of a paged list. */
  list<T>(path: string, query?: Record<string, string>): Promise<T[]>;
  /** POST a JSON body; the envelope's `result`. */
  post<T>(path: string, body: unknown): Promise<T>;
}

export function cloudflareApi(credentials: Credentials, base = process.env.CLOUDFLARE_API_BASE_URL || DEFAULT_API_BASE, doFetch: typeof fetch = fetch): CloudflareApi {
  const headers: Record<string, string> =
    credentials.type === "api_key" ? { "x-auth-key": credentials.key, "x-auth-email": credentials.email } : { authorization: `Bearer ${credentials.token}` };

  async function call<T>(method: string, path: string, query: Record<string, string> = {}, body?: unknown): Promise<Envelope<T>> {
    const url = new URL(`${base.replace(/\/$/, "")}${path}`);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const response = await doFetch(url, {
      method,
      headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let envelope: Envelope<T>;
    try {
      envelope = JSON.parse(text) as Envelope<T>;
    } catch {
      throw new CloudflareApiError(path, response.status, [{ message: `not JSON: ${text.slice(0, 200)}` }]);
    }
    if (!response.ok || !envelope.success) throw new CloudflareApiError(path, response.status, envelope.errors ?? []);
    return envelope;
  }

  return {
    get: async (path, query) => (await call<never>("GET", path, query)).result,
    post: async (path, body) => (await call<never>("POST", path, {}, body)).result,
    async list<T>(path: string, query: Record<string, string> = {}) {
      const items: T[] = [];
      for (let page = 1; ; page++) {
        const envelope = await call<T[]>("GET", path, { ...query, page: String(page) });
        items.push(...envelope.result);
        const info = envelope.result_info;
        if (!info?.per_page || info.total_count === undefined || page * info.per_page >= info.total_count) return items;
      }
    },
  };
}
