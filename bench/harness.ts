/**
 * The local relay the bench and `load --self` drive: the deploy bundle in
 * workerd through Miniflare, with the bindings, queue consumers and vars
 * that wrangler.toml declares (read by wrangler itself, so the batch size,
 * batch timeout, retries and dead-letter queue are the deployed ones), D1
 * migrated from migrations/*.sql, and the FCM, APNs and OAuth stand-ins as
 * the providers.
 */
import { randomBytes } from "node:crypto";
import { readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from "wrangler";
import { startStandins, workerConfig } from "../standins/index.ts";
import { buildWorker } from "./build.ts";
import { findWorkerdPids } from "./cpu.ts";
import { RelayLog } from "./logs.ts";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The part of D1's API the bench uses (the Workers types are not installed for Node code). */
/** What D1 reports about a statement: what its bill counts. */
export interface D1Meta {
  rows_read?: number;
  rows_written?: number;
  size_after?: number;
}

export interface D1Statement {
  bind(...values: unknown[]): D1Statement;
  all<T>(): Promise<{ results: T[]; meta: D1Meta }>;
  run(): Promise<{ meta: D1Meta }>;
  first<T>(): Promise<T | null>;
}

export interface D1 {
  prepare(sql: string): D1Statement;
  batch(statements: D1Statement[]): Promise<{ meta: D1Meta }[]>;
}

export interface LocalRelay {
  /** Where workerd serves the Worker. */
  url: string;
  /** Where the stand-ins listen (control API under /__standin/). */
  standinUrl: string;
  /** The stand-in OneSignal app the relay sends to (when started with `oneSignal`). */
  oneSignalAppId: string;
  /** The webhook secret (whsec_...) and API key this relay was given. */
  secret: string;
  apiKey: string;
  /** False when started without queue consumers (messages then stay queued). */
  consumes: boolean;
  /** The queue PUSH_QUEUE sends to (its consumer's log lines name it). */
  pushQueue: string;
  /** Its consumer's `max_batch_timeout` from wrangler.toml, in seconds. */
  batchTimeoutS: number;
  /** The D1 database bound as DB, reached from Node. */
  db: D1;
  log: RelayLog;
  workerdPids: number[];

  versions: { workerd: string; miniflare: string; wrangler: string };
  close(): Promise<void>;
}

/** Miniflare as wrangler itself loads it, so the bench runs the workerd that `wrangler dev` runs. */
async function loadMiniflare(): Promise<{ module: typeof import("miniflare"); version: string; workerd: string }> {
  const fromRoot = createRequire(join(ROOT, "package.json"));
  const fromWrangler = createRequire(fromRoot.resolve("wrangler"));
  const entry = fromWrangler.resolve("miniflare");
  const module = (await import(pathToFileURL(entry).href)) as typeof import("miniflare");
  const version = (JSON.parse(await readFile(fromWrangler.resolve("miniflare/package.json"), "utf8")) as { version: string }).version;
  const fromMiniflare = createRequire(entry);
  const workerd = (JSON.parse(await readFile(fromMiniflare.resolve("workerd/package.json"), "utf8")) as { version: string }).version;
  return { module, version, workerd };
}

async function applyMigrations(db: D1): Promise<void> {
  const dir = join(ROOT, "migrations");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  for (const file of files) {
    const statements = unstable_splitSqlQuery(await readFile(join(dir, file), "utf8"));
    if (statements.length > 0) await db.batch(statements.map((sql) => db.prepare(sql)));
  }
}

function pushQueueOf(producers: unknown): string {
  const producer = (producers as Record<string, { queueName?: string } | undefined> | undefined)?.PUSH_QUEUE;
  if (!producer?.queueName) throw new Error("wrangler.toml binds no PUSH_QUEUE producer");
  return producer.queueName;
}

/** The `max_batch_timeout` of the queue's consumer (Queues' default, 5 s, when unset). */
function batchTimeoutOf(consumers: unknown, queue: string): number {
  const consumer = (consumers as Record<string, { maxBatchTimeout?: number } | undefined> | undefined)?.[queue];
  return consumer?.maxBatchTimeout ?? 5;
}

export interface RelayOptions {
  /** Keep the Worker's error lines off the console. */
  quiet?: boolean;
  /** Run without the queue consumers: ingress alone, messages stay queued (analysis only). */
  consume?: boolean;
  /**
   * Turn OneSignal on (the stand-in's app, external id = LearnInk's user_id,
   * as the bench's users have no custom_id): users without a device then go
   * to OneSignal. Off by default, so the other figures stay comparable.
   */
  oneSignal?: boolean;
}

export async function startLocalRelay(options: RelayOptions = {}): Promise<LocalRelay> {
  const [scriptPath, miniflare, standins] = await Promise.all([buildWorker(ROOT), loadMiniflare(), startStandins()]);
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  const apiKey = randomBytes(24).toString("base64url");
  // modulesRules describe how wrangler would bundle; the bundle is already built.
  const { modulesRules: _rules, ...workerOptions } = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.toml")).workerOptions;
  const log = new RelayLog({ quiet: options.quiet ?? false });
  const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = miniflare.module;
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      ...workerOptions,
      rootPath: ROOT,
      modules: [{ type: "ESModule", path: scriptPath, contents: await readFile(scriptPath, "utf8") }],
      modulesRoot: dirname(scriptPath),
      bindings: {
        ...(workerOptions.bindings as Record<string, string> | undefined),
        ...workerConfig(standins.url, standins.keys),
        ...(options.oneSignal ? { ONESIGNAL_EXTERNAL_ID: "user_id" } : { ONESIGNAL_APP_ID: "", ONESIGNAL_API_KEY: "" }),
        LEARNINK_ORG_ID: "bench-org",
        LEARNINK_WEBHOOK_SECRET: secret,
        RELAY_API_KEY: apiKey,
      },
      port: 0,
      ...(options.consume === false ? { queueConsumers: {} } : {}),
      cf: false,
      // Miniflare's per-request log line is a dev convenience production does not pay for.
      logRequests: false,
      log: new Log(LogLevel.WARN),
      handleStructuredLogs: ({ level, message }) => log.add(message, level),
    }),
  );
  const url = (await mf.ready).href.replace(/\/$/, "");
  const db = (await mf.getD1Database("DB")) as D1;
  await applyMigrations(db);
  const { version: wrangler } = JSON.parse(
    await readFile(createRequire(join(ROOT, "package.json")).resolve("wrangler/package.json"), "utf8"),
  ) as { version: string };
  return {
    url,
    standinUrl: standins.url.replace(/\/$/, ""),
    oneSignalAppId: standins.keys.onesignal.appId,
    consumes: options.consume !== false,
    pushQueue: pushQueueOf(workerOptions.queueProducers),
    batchTimeoutS: batchTimeoutOf(workerOptions.queueConsumers, pushQueueOf(workerOptions.queueProducers)),
    secret,
    apiKey,
    db,
    log,
    workerdPids: findWorkerdPids(),
    versions: { workerd: miniflare.workerd, miniflare: miniflare.version, wrangler },
    async close() {
      await mf.dispose();
      await standins.close();
      await rm(dirname(scriptPath), { recursive: true, force: true });
    },
  };
}
