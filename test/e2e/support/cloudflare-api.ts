/**
 * A stand-in for the part of the Cloudflare API that `npm run deploy` and
 * the wrangler it runs use, on 127.0.0.1, so the deploy can be tested end to
 * end offline: wrangler talks to it through CLOUDFLARE_API_BASE_URL.
 *
 * It keeps real state and checks what the real API checks: the bearer
 * token, that a database, queue or Worker exists before it is used, that a
 * name is not taken twice, that an uploaded Worker's bindings point at
 * resources that exist. D1 runs the SQL it is sent in SQLite (node:sqlite),
 * so migrations really apply. Every request is recorded; a route the
 * stand-in does not know answers 404 with the API's "Could not route"
 * error (code 7003) and is listed in `unknown`, which a test expects empty.
 *
 * Faults make it answer as real accounts sometimes do: `account.inject()`
 * gives a route (method and path, or a pattern) a status and an error code,
 * once or always, with a Retry-After for a 429. A token without a
 * permission is a 403 with code 10000 ("Authentication error"), as the
 * real API answers it.
 *
 * Lists page as the API documents each one: Worker versions (`result.items`)
 * and D1 databases by `page` and `per_page` with `result_info` {page,
 * per_page, count, total_count}; a queue's consumers in one page (the API's
 * "SinglePage", no result_info). The queue list is typed a single page by
 * the API's own SDK, yet wrangler 4.164 pages it by total_count: it carries
 * the same result_info, so either reading works.
 *
 * The shapes follow wrangler 4.164's use of the API (its bundled
 * cloudflare client and the calls in wrangler-dist/cli.js).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { unstable_splitSqlQuery } from "wrangler";

/** One request as it arrived. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  status: number;
  /** When it arrived (ms since the epoch). */
  at: number;
}

/** An answer the stand-in gives instead of routing: see `CloudflareAccount.inject`. */
export interface Fault {
  /** Only requests with this method (any when unset). */
  method?: string;
  /** The path below /client/v4, exactly or as a pattern. */
  path: string | RegExp;
  status: number;
  code: number;
  message?: string;
  /** "once" (the default): the next matching request only; "always": every one. */
  times?: "once" | "always";
  /** Sent as the Retry-After header (seconds), as a 429 carries it. */
  retryAfter?: number;
}

interface ApiError {
  code: number;
  message: string;
}

class Failure extends Error {
  readonly status: number;
  readonly errors: ApiError[];
  constructor(status: number, errors: ApiError[]) {
    super(errors.map((e) => e.message).join("; "));
    this.status = status;
    this.errors = errors;
  }
}

const fail = (status: number, code: number, message: string) => new Failure(status, [{ code, message }]);

interface D1Database {
  uuid: string;
  name: string;
  created_at: string;
  sqlite: DatabaseSync;
}

interface QueueConsumer {
  consumer_id: string;
  type: "worker";
  /** The API's name for the Worker (wrangler 4.164 reads `script` from a queue's consumers; the consumers list names it `script_name`). */
  script: string;
  script_name: string;
  queue_name: string;
  settings: Record<string, unknown>;
  /** Empty when none, as the API documents it. */
  dead_letter_queue: string;
  created_on: string;
}

interface Queue {
  queue_id: string;
  queue_name: string;
  created_on: string;
  modified_on: string;
  consumers: QueueConsumer[];
}

interface WorkerVersion {
  id: string;
  number: number;
  created_on: string;
  annotations: Record<string, string>;
  bindings: Record<string, unknown>[];
  /** The uploaded modules (name -> content), for tests that look at what was deployed. */
  modules: Map<string, string>;
  mainModule: string;
  compatibility_date: string;
}

interface Deployment {
  id: string;
  created_on: string;
  source: string;
  strategy: "percentage";
  versions: { version_id: string; percentage: number }[];
  annotations: Record<string, string>;
}

interface WorkerScript {
  id: string;
  created_on: string;
  modified_on: string;
  versions: WorkerVersion[];
  deployments: Deployment[];
  secrets: Map<string, string>;
  schedules: { cron: string; created_on: string; modified_on: string }[];
  subdomainEnabled: boolean;
  previewsEnabled: boolean;
  observability: unknown;
}

export interface CloudflareApiOptions {
  token: string;
  accountId: string;
  accountName?: string;
  email?: string;
  /** The account's workers.dev subdomain; null: none registered yet. */
  subdomain?: string | null;
}

/** What the stand-in holds, for assertions. */
export class CloudflareAccount {
  readonly databases = new Map<string, D1Database>();
  readonly queues = new Map<string, Queue>();
  readonly scripts = new Map<string, WorkerScript>();
  readonly requests: RecordedRequest[] = [];
  readonly unknown: RecordedRequest[] = [];
  readonly faults: Fault[] = [];
  /** SQL statements that wrote (not SELECTs), over every database. */
  sqlWrites = 0;
  subdomain: string | null;
  readonly options: CloudflareApiOptions;

  constructor(options: CloudflareApiOptions) {
    this.options = options;
    this.subdomain = options.subdomain === undefined ? "learnink-test" : options.subdomain;
  }

  /** Requests that changed something (anything but GET and D1 queries, counted in `sqlWrites`), as "METHOD /path". */
  mutations(): string[] {
    return this.requests.filter((r) => r.method !== "GET" && !r.path.endsWith("/query") && r.status < 400).map((r) => `${r.method} ${r.path}`);
  }

  /** Answers the next matching request (or every one) with a failure instead of routing it. */
  inject(fault: Fault): void {
    this.faults.push(fault);
  }

  /** The fault a request meets, if any; a "once" fault is used up. */
  faultFor(method: string, path: string): Fault | undefined {
    const index = this.faults.findIndex((f) => (!f.method || f.method === method) && (typeof f.path === "string" ? f.path === path : f.path.test(path)));
    const fault = this.faults[index];
    if (fault && (fault.times ?? "once") === "once") this.faults.splice(index, 1);
    return fault;
  }

  /** Rows of a query on a stand-in database, by name. */
  query(database: string, sql: string): Record<string, unknown>[] {
    const db = this.databases.get(database);
    if (!db) throw new Error(`no database ${database}`);
    return db.sqlite.prepare(sql).all() as Record<string, unknown>[];
  }

  close(): void {
    for (const db of this.databases.values()) db.sqlite.close();
  }
}

export interface CloudflareApiStandin {
  /** The value for CLOUDFLARE_API_BASE_URL. */
  baseUrl: string;
  account: CloudflareAccount;
  close(): Promise<void>;
}

const now = () => new Date().toISOString();
const hexId = () => randomUUID().replaceAll("-", "");

function envelope(result: unknown, resultInfo?: Record<string, number>) {
  return { success: true, errors: [], messages: [], result, ...(resultInfo ? { result_info: resultInfo } : {}) };
}

/** One page of a list, with the result_info wrangler pages by. */
function page<T>(items: T[], query: URLSearchParams, perPageDefault = 20) {
  const perPage = Number(query.get("per_page") ?? perPageDefault);
  const pageNumber = Number(query.get("page") ?? 1);
  const slice = items.slice((pageNumber - 1) * perPage, pageNumber * perPage);
  return envelope(slice, { page: pageNumber, per_page: perPage, count: slice.length, total_count: items.length });
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function jsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const value = JSON.parse(body.toString("utf8")) as unknown;
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw fail(400, 10026, "Could not parse the request body as JSON");
}

/** The parts of a multipart/form-data body, by field name. */
async function formParts(request: IncomingMessage, body: Buffer): Promise<Map<string, { text: string; type: string }>> {
  const form = await new Request("http://standin/", {
    method: "POST",
    headers: { "content-type": request.headers["content-type"] ?? "" },
    body: new Uint8Array(body),
  }).formData();
  const parts = new Map<string, { text: string; type: string }>();
  for (const [name, value] of form.entries()) {
    parts.set(name, typeof value === "string" ? { text: value, type: "text/plain" } : { text: await value.text(), type: value.type });
  }
  return parts;
}

function d1Info(db: D1Database) {
  const tables = db.sqlite.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
  return {
    uuid: db.uuid,
    name: db.name,
    version: "production",
    created_at: db.created_at,
    num_tables: tables.n,
    file_size: 12288,
    read_replication: { mode: "disabled" },
  };
}

/** Runs a D1 /query request: every statement in one transaction, a result per statement. */
function runD1Query(account: CloudflareAccount, db: D1Database, sql: string, params: SQLInputValue[]) {
  const statements = unstable_splitSqlQuery(sql);
  const results: unknown[] = [];
  db.sqlite.exec("BEGIN");
  try {
    for (const statement of statements) {
      const started = performance.now();
      const prepared = db.sqlite.prepare(statement);
      const readsRows = prepared.columns().length > 0;
      const rows = readsRows ? prepared.all(...(statements.length === 1 ? params : [])) : [];
      const run = readsRows ? { changes: 0, lastInsertRowid: 0 } : prepared.run(...(statements.length === 1 ? params : []));
      if (!readsRows) account.sqlWrites++;
      results.push({
        results: rows,
        success: true,
        meta: {
          changed_db: !readsRows,
          changes: Number(run.changes),
          duration: performance.now() - started,
          last_row_id: Number(run.lastInsertRowid),
          rows_read: rows.length,
          rows_written: Number(run.changes),
          size_after: 12288,
        },
      });
    }
    db.sqlite.exec("COMMIT");
  } catch (error) {
    db.sqlite.exec("ROLLBACK");
    throw fail(400, 7500, `${error instanceof Error ? error.message : String(error)}: SQLITE_ERROR`);
  }
  return results;
}

/** The resources a Worker's bindings name must exist, as the real upload checks. */
function checkBindings(account: CloudflareAccount, bindings: Record<string, unknown>[]): void {
  for (const binding of bindings) {
    if (binding.type === "d1" && !account.databases.has(String(binding.id)) && ![...account.databases.values()].some((d) => d.uuid === binding.id)) {
      throw fail(400, 10021, `binding ${String(binding.name)} of type d1 must have a valid \`id\` specified [code: 10021]`);
    }
    if (binding.type === "queue" && !account.queues.has(String(binding.queue_name))) {
      throw fail(400, 11000, `Queue "${String(binding.queue_name)}" does not exist [code: 11000]`);
    }
  }
}

function databaseBy(account: CloudflareAccount, idOrName: string): D1Database {
  const db = [...account.databases.values()].find((d) => d.uuid === idOrName || d.name === idOrName);
  if (!db) throw fail(404, 7404, `The database ${idOrName} could not be found [code: 7404]`);
  return db;
}

function queueById(account: CloudflareAccount, id: string): Queue {
  const queue = [...account.queues.values()].find((q) => q.queue_id === id);
  if (!queue) throw fail(404, 11000, "Queue does not exist [code: 11000]");
  return queue;
}

function scriptBy(account: CloudflareAccount, name: string): WorkerScript {
  const script = account.scripts.get(name);
  if (!script) throw fail(404, 10007, "This Worker does not exist on your account. [code: 10007]");
  return script;
}

function activeVersion(script: WorkerScript): WorkerVersion | undefined {
  const id = script.deployments.at(-1)?.versions[0]?.version_id;
  return script.versions.find((v) => v.id === id);
}

function versionView(v: WorkerVersion) {
  return {
    id: v.id,
    number: v.number,
    metadata: { created_on: v.created_on, modified_on: v.created_on, source: "wrangler", author_id: "standin", author_email: "deployer@example.com" },
    annotations: v.annotations,
    resources: {
      script: { etag: v.id, handlers: ["fetch", "queue", "scheduled"], last_deployed_from: "wrangler" },
      script_runtime: { compatibility_date: v.compatibility_date, compatibility_flags: [], usage_model: "standard" },
      bindings: v.bindings,
    },
  };
}

/** A new version from an upload's metadata and modules; secrets carry over from the active version. */
async function newVersion(account: CloudflareAccount, script: WorkerScript, upload: { request: IncomingMessage; body: Buffer }, trigger: string): Promise<WorkerVersion> {
  const parts = await formParts(upload.request, upload.body);
  const metadataPart = parts.get("metadata");
  if (!metadataPart) throw fail(400, 10021, "Expected a metadata part");
  const metadata = JSON.parse(metadataPart.text) as {
    main_module?: string;
    bindings?: Record<string, unknown>[];
    compatibility_date?: string;
    annotations?: Record<string, string>;
    observability?: unknown;
  };
  if (!metadata.main_module || !parts.has(metadata.main_module)) throw fail(400, 10021, "No such module: the main_module is not in the upload [code: 10021]");
  // `bindings_inherit`: an "inherit" binding keeps what the active version bound under that name.
  const previous = activeVersion(script)?.bindings ?? [];
  const bindings = (metadata.bindings ?? []).map((binding) => {
    if (binding.type !== "inherit") return binding;
    const inherited = previous.find((b) => b.name === binding.name);
    if (!inherited) throw fail(400, 10021, `binding ${String(binding.name)} cannot be inherited: the active version has no such binding [code: 10021]`);
    return inherited;
  });
  checkBindings(account, bindings);
  const modules = new Map<string, string>();
  for (const [name, part] of parts) if (name !== "metadata") modules.set(name, part.text);
  const version: WorkerVersion = {
    id: randomUUID(),
    number: script.versions.length + 1,
    created_on: now(),
    annotations: { ...metadata.annotations, "workers/triggered_by": trigger },
    bindings: bindings.filter((b) => b.type !== "secret_text"),
    modules,
    mainModule: metadata.main_module,
    compatibility_date: metadata.compatibility_date ?? "",
  };
  for (const binding of bindings) if (binding.type === "secret_text") script.secrets.set(String(binding.name), String(binding.text));
  script.versions.push(version);
  script.observability = metadata.observability ?? script.observability;
  script.modified_on = now();
  return version;
}

function deploy(script: WorkerScript, version: WorkerVersion, annotations: Record<string, string> = {}): Deployment {
  const deployment: Deployment = {
    id: randomUUID(),
    created_on: now(),
    source: "wrangler",
    strategy: "percentage",
    versions: [{ version_id: version.id, percentage: 100 }],
    annotations,
  };
  script.deployments.push(deployment);
  return deployment;
}

/** A copy of the active version with the secrets changed, deployed at once (what `secret put` does). */
function secretVersion(script: WorkerScript): WorkerVersion {
  const active = activeVersion(script);
  if (!active) throw fail(404, 10007, "This Worker has no deployed version. [code: 10007]");
  const version: WorkerVersion = {
    ...active,
    id: randomUUID(),
    number: script.versions.length + 1,
    created_on: now(),
    annotations: { "workers/triggered_by": "secret" },
  };
  script.versions.push(version);
  deploy(script, version, { "workers/triggered_by": "secret" });
  return version;
}

/** A request as the route functions see it. */
interface Req {
  account: CloudflareAccount;
  request: IncomingMessage;
  method: string;
  path: string;
  query: URLSearchParams;
  body: Buffer;
  segments: string[];
  at: (i: number) => string;
  /** The path below /accounts/:account_id. */
  rest: string;
}

/** What a route function returns for a request that is not its own. */
const NOT_ROUTED = Symbol("not routed");

const noRoute = (path: string) => fail(404, 7003, `Could not route to ${path}, perhaps your object identifier is invalid? [code: 7003]`);

/** The user-level routes, which an account-owned token cannot use. */
function userRoute({ account, method, path, query }: Req): unknown {
  const { accountId } = account.options;
  if (method === "GET" && path === "/user/tokens/verify") return envelope({ id: hexId(), status: "active" });
  if (method === "GET" && path === "/user") return envelope({ id: "user-standin", email: account.options.email ?? "deployer@example.com" });
  if (method === "GET" && path === "/accounts") return page([{ id: accountId, name: account.options.accountName ?? "Stand-in account" }], query);
  if (method === "GET" && path === "/memberships") {
    return page([{ id: "membership", account: { id: accountId, name: account.options.accountName ?? "Stand-in account" }, roles: ["Administrator"], status: "accepted" }], query);
  }
  return NOT_ROUTED;
}

function d1Route({ account, method, query, body, segments, at, rest }: Req): unknown {
  if (rest === "/d1/database" && method === "GET") {
    const name = query.get("name");
    return page([...account.databases.values()].filter((d) => !name || d.name === name).map(d1Info), query, 1000);
  }
  if (rest === "/d1/database" && method === "POST") {
    const { name } = jsonBody(body);
    if (typeof name !== "string" || !/^[a-z0-9][a-z0-9-]*$/.test(name)) throw fail(400, 7400, "The database name is invalid [code: 7400]");
    if (account.databases.has(name)) throw fail(400, 7502, `A database with that name already exists [code: 7502]`);
    const db: D1Database = { uuid: randomUUID(), name, created_at: now(), sqlite: new DatabaseSync(":memory:") };
    account.databases.set(name, db);
    return envelope({ uuid: db.uuid, name: db.name, created_at: db.created_at, version: "production" });
  }
  if (at(2) === "d1" && at(3) === "database" && segments.length === 5 && method === "GET") return envelope(d1Info(databaseBy(account, decodeURIComponent(at(4)))));
  if (at(2) === "d1" && at(3) === "database" && at(5) === "query" && method === "POST") {
    const db = databaseBy(account, at(4));
    const { sql, params } = jsonBody(body);
    if (typeof sql !== "string") throw fail(400, 7400, "Missing sql [code: 7400]");
    return envelope(runD1Query(account, db, sql, Array.isArray(params) ? (params as SQLInputValue[]) : []));
  }
  return NOT_ROUTED;
}

function queuesRoute({ account, method, query, body, segments, at, rest }: Req): unknown {
  if (rest === "/queues" && method === "GET") {
    const names = query.getAll("name");
    const queues = [...account.queues.values()].filter((q) => names.length === 0 || names.includes(q.queue_name));
    return page(queues.map(queueView), query, 100);
  }
  if (rest === "/queues" && method === "POST") {
    const { queue_name: name } = jsonBody(body);
    if (typeof name !== "string" || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) throw fail(400, 11003, "Invalid queue name [code: 11003]");
    if (account.queues.has(name)) throw fail(409, 11009, "A queue with this name already exists [code: 11009]");
    const queue: Queue = { queue_id: hexId(), queue_name: name, created_on: now(), modified_on: now(), consumers: [] };
    account.queues.set(name, queue);
    return envelope(queueView(queue));
  }
  if (at(2) === "queues" && segments.length === 4 && method === "GET") return envelope(queueView(queueById(account, at(3))));
  if (at(2) === "queues" && at(4) === "consumers") {
    const queue = queueById(account, at(3));
    if (method === "GET" && segments.length === 5) return envelope(queue.consumers);
    if (method === "DELETE" && segments.length === 6) {
      const index = queue.consumers.findIndex((c) => c.consumer_id === at(5));
      if (index === -1) throw fail(404, 11008, "Consumer not found [code: 11008]");
      queue.consumers.splice(index, 1);
      return envelope(null);
    }
    const input = jsonBody(body);
    const script = String(input.script_name ?? input.script ?? "");
    if (method === "POST" && segments.length === 5) {
      scriptBy(account, script);
      if (queue.consumers.some((c) => c.script === script)) throw fail(400, 11004, "A consumer for this Worker already exists on the queue [code: 11004]");
      const consumer = consumerFrom(account, input, { script, queue: queue.queue_name });
      queue.consumers.push(consumer);
      return envelope(consumer);
    }
    const existing = queue.consumers.find((c) => c.consumer_id === at(5));
    if (!existing) throw fail(404, 11008, "Consumer not found [code: 11008]");
    if (method === "PUT") {
      Object.assign(existing, consumerFrom(account, input, { script: script || existing.script, queue: queue.queue_name }), { consumer_id: existing.consumer_id });
      return envelope(existing);
    }
  }
  return NOT_ROUTED;
}

function workersRoute({ account, method, body, segments, at, rest }: Req): unknown {
  if (rest === "/workers/subdomain" && method === "GET") {
    if (account.subdomain === null) throw fail(404, 10007, "This account has no workers.dev subdomain [code: 10007]");
    return envelope({ subdomain: account.subdomain });
  }
  if (at(2) === "workers" && at(3) === "services" && segments.length === 5 && method === "GET") {
    const name = at(4);
    const script = account.scripts.get(name);
    if (!script) throw fail(404, 10090, "workers.api.error.service_not_found [code: 10090]");
    return envelope({
      id: name,
      default_environment: {
        environment: "production",
        created_on: script.created_on,
        modified_on: script.modified_on,
        script: { id: name, tag: script.id, tags: [], last_deployed_from: "wrangler", handlers: ["fetch", "queue", "scheduled"] },
      },
      created_on: script.created_on,
      modified_on: script.modified_on,
    });
  }
  if (at(2) === "workers" && at(3) === "workers" && segments.length === 5) {
    const name = at(4);
    const script = scriptBy(account, name);
    if (method === "PATCH") {
      const input = jsonBody(body) as { subdomain?: { enabled?: boolean; previews_enabled?: boolean } };
      if (input.subdomain?.enabled !== undefined) script.subdomainEnabled = input.subdomain.enabled;
      if (input.subdomain?.previews_enabled !== undefined) script.previewsEnabled = input.subdomain.previews_enabled;
    }
    if (method === "GET" || method === "PATCH") {
      return envelope({
        id: script.id,
        name,
        created_on: script.created_on,
        updated_on: script.modified_on,
        subdomain: { enabled: script.subdomainEnabled, previews_enabled: script.previewsEnabled },
        observability: script.observability,
        logpush: false,
        tags: [],
      });
    }
  }
  return NOT_ROUTED;
}

/** A Worker script: its upload, versions and deployments, then its settings. */
async function scriptRoute(req: Req): Promise<unknown> {
  const { account, request, method, query, body, segments, at } = req;
  const name = at(4);
  const tail = segments.slice(5).join("/");
  if (tail === "" && method === "PUT") {
    let script = account.scripts.get(name);
    if (!script) {
      script = { id: hexId(), created_on: now(), modified_on: now(), versions: [], deployments: [], secrets: new Map(), schedules: [], subdomainEnabled: false, previewsEnabled: false, observability: null };
      account.scripts.set(name, script);
    }
    try {
      const version = await newVersion(account, script, { request, body }, "upload");
      deploy(script, version);
      return envelope({ id: name, etag: version.id, deployment_id: version.id, startup_time_ms: 5, handlers: ["fetch", "queue", "scheduled"], last_deployed_from: "wrangler" });
    } catch (error) {
      if (script.versions.length === 0) account.scripts.delete(name);
      throw error;
    }
  }
  const script = scriptBy(account, name);
  if (tail === "versions" && method === "POST") return envelope({ ...versionView(await newVersion(account, script, { request, body }, "upload")), startup_time_ms: 5 });
  if (tail === "versions" && method === "GET") {
    const newestFirst = [...script.versions].reverse().map(versionView);
    const listed = page(newestFirst, query, 10);
    return { ...listed, result: { items: listed.result } };
  }
  if (at(5) === "versions" && segments.length === 7 && method === "GET") {
    const version = script.versions.find((v) => v.id === at(6));
    if (!version) throw fail(404, 10217, "Version not found [code: 10217]");
    return envelope(versionView(version));
  }
  if (tail === "deployments" && method === "POST") {
    const input = jsonBody(body) as { versions?: { version_id: string; percentage: number }[]; annotations?: Record<string, string> };
    const version = script.versions.find((v) => v.id === input.versions?.[0]?.version_id);
    if (!version) throw fail(400, 10217, "Version not found [code: 10217]");
    return envelope(deploy(script, version, input.annotations ?? {}));
  }
  if (tail === "deployments" && method === "GET") return envelope({ deployments: [...script.deployments].reverse() });
  return scriptSettingsRoute(req, script, tail);
}

/** A Worker script's secrets, crons, workers.dev switch and settings. */
function scriptSettingsRoute({ method, body }: Req, script: WorkerScript, tail: string): unknown {
  if (tail === "secrets" && method === "GET") return envelope([...script.secrets.keys()].map((n) => ({ name: n, type: "secret_text" })));
  if (tail === "secrets" && method === "PUT") {
    const { name: secretName, text, type } = jsonBody(body);
    if (typeof secretName !== "string" || typeof text !== "string" || type !== "secret_text") throw fail(400, 10021, "Invalid secret [code: 10021]");
    script.secrets.set(secretName, text);
    secretVersion(script);
    return envelope({ name: secretName, type });
  }
  if (tail === "schedules" && method === "PUT") {
    const crons = JSON.parse(body.toString("utf8") || "[]") as { cron: string }[];
    script.schedules = crons.map((c) => ({ cron: c.cron, created_on: now(), modified_on: now() }));
    return envelope({ schedules: script.schedules });
  }
  if (tail === "schedules" && method === "GET") return envelope({ schedules: script.schedules });
  if (tail === "subdomain" && method === "GET") return envelope({ enabled: script.subdomainEnabled, previews_enabled: script.previewsEnabled });
  if (tail === "subdomain" && method === "POST") {
    const input = jsonBody(body);
    script.subdomainEnabled = input.enabled === true;
    script.previewsEnabled = input.previews_enabled === true;
    return envelope({ enabled: script.subdomainEnabled, previews_enabled: script.previewsEnabled });
  }
  if (tail === "settings" && method === "GET") return envelope({ bindings: activeVersion(script)?.bindings ?? [], observability: script.observability });
  if (tail === "script-settings" && method === "PATCH") {
    const input = jsonBody(body);
    if (input.observability !== undefined) script.observability = input.observability;
    return envelope({ observability: script.observability, logpush: false, tail_consumers: null });
  }
  return NOT_ROUTED;
}

/** Answers one request: the result envelope, or throws a Failure. */
async function route(account: CloudflareAccount, request: IncomingMessage, target: { method: string; path: string; query: URLSearchParams }): Promise<unknown> {
  const { method, path, query } = target;
  if (request.headers.authorization !== `Bearer ${account.options.token}`) throw fail(400, 6003, "Invalid request headers [code: 6003]");
  const segments = path.split("/").filter((s) => s !== "");
  const at = (i: number) => segments[i] ?? "";
  const req: Req = { account, request, method, path, query, body: await readBody(request), segments, at, rest: `/${segments.slice(2).join("/")}` };
  const user = userRoute(req);
  if (user !== NOT_ROUTED) return user;
  if (at(0) !== "accounts") throw noRoute(path);
  if (at(1) !== account.options.accountId) throw fail(403, 10000, "Authentication error [code: 10000]");
  for (const area of [d1Route, queuesRoute, workersRoute]) {
    const answer = area(req);
    if (answer !== NOT_ROUTED) return answer;
  }
  const answer = at(2) === "workers" && at(3) === "scripts" ? await scriptRoute(req) : NOT_ROUTED;
  if (answer !== NOT_ROUTED) return answer;
  throw noRoute(path);
}

function queueView(queue: Queue) {
  return {
    queue_id: queue.queue_id,
    queue_name: queue.queue_name,
    created_on: queue.created_on,
    modified_on: queue.modified_on,
    producers_total_count: 0,
    producers: [],
    consumers_total_count: queue.consumers.length,
    consumers: queue.consumers,
    settings: { delivery_delay: 0, delivery_paused: false, message_retention_period: 345600 },
  };
}

function consumerFrom(account: CloudflareAccount, input: Record<string, unknown>, names: { script: string; queue: string }): QueueConsumer {
  const deadLetter = input.dead_letter_queue;
  if (typeof deadLetter === "string" && deadLetter !== "" && !account.queues.has(deadLetter)) {
    throw fail(400, 11000, `Queue "${deadLetter}" does not exist [code: 11000]`);
  }
  // Settings wrangler leaves out (undefined) are absent from its JSON: the API keeps only what was sent.
  return {
    consumer_id: hexId(),
    type: "worker",
    script: names.script,
    script_name: names.script,
    queue_name: names.queue,
    settings: (input.settings as Record<string, unknown> | undefined) ?? {},
    dead_letter_queue: typeof deadLetter === "string" ? deadLetter : "",
    created_on: now(),
  };
}

/** Starts the stand-in on a free loopback port. */
export async function startCloudflareApi(options: CloudflareApiOptions): Promise<CloudflareApiStandin> {
  const account = new CloudflareAccount(options);
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://standin");
    const method = request.method ?? "GET";
    const path = url.pathname.replace(/^\/client\/v4/, "");
    const record: RecordedRequest = { method, path, query: url.search, status: 200, at: Date.now() };
    account.requests.push(record);
    const fault = account.faultFor(method, path);
    if (fault) {
      record.status = fault.status;
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
      response.writeHead(fault.status, headers);
      const message = fault.message ?? (fault.status === 403 ? "Authentication error" : `Injected failure (HTTP ${fault.status})`);
      response.end(JSON.stringify({ success: false, errors: [{ code: fault.code, message }], messages: [], result: null }));
      return;
    }
    route(account, request, { method, path, query: url.searchParams }).then(
      (result) => {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify(result));
      },
      (error: unknown) => {
        const failure = error instanceof Failure ? error : fail(500, 10000, error instanceof Error ? error.message : String(error));
        record.status = failure.status;
        if (failure.errors[0]?.code === 7003) account.unknown.push(record);
        response.writeHead(failure.status, { "content-type": "application/json" });
        response.end(JSON.stringify({ success: false, errors: failure.errors, messages: [], result: null }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/client/v4`,
    account,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          account.close();
          resolve();
        });
      }),
  };
}
