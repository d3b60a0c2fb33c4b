/**
 * What `npm run deploy` has to do, decided from the project's wrangler
 * config, the migrations folder and what the account already has. Pure
 * (no network, no processes), so the rules are table-tested, the
 * `--dry-run` plan is exactly the list the real run works through, and
 * `--check` reports exactly what a deploy would repair: planSteps is the
 * one function that decides what differs.
 */
import { createHash } from "node:crypto";
import { type ConsumerConfig, type ExpectedBinding, type LiveBinding, type LiveConsumer, bindingDifferences, consumerDifferences, sameCrons } from "./drift.ts";
import { type SecretSpec, secretPutCommand } from "./secrets.ts";

/** A `[[queues.consumers]]` entry as wrangler resolves it. */
export interface WranglerConsumer {
  queue: string;
  dead_letter_queue?: string;
  max_batch_size?: number;
  max_batch_timeout?: number;
  max_retries?: number;
  retry_delay?: number;
  max_concurrency?: number | null;
}

/** The parts of wrangler's resolved config the deploy needs (a structural subset of wrangler's `Config`). */
export interface WranglerConfigSubset {
  name?: string;
  account_id?: string;
  workers_dev?: boolean;
  routes?: unknown[];
  vars: Record<string, unknown>;
  d1_databases: { binding: string; database_name?: string; database_id?: string; migrations_dir?: string; migrations_table?: string }[];
  queues: { producers?: { binding: string; queue: string }[]; consumers?: WranglerConsumer[] };
  ratelimits?: { name: string; namespace_id: string; simple: { limit: number; period: number } }[];
  triggers: { crons?: string[] };
}

export interface DeployDatabase {
  binding: string;
  name: string;
  /** Set only when the config pins an id (then it must exist; nothing is created). */
  id: string | null;
  migrationsDir: string;
  migrationsTable: string;
}

/** The resources the Worker needs, by name. */
export interface DeployConfig {
  worker: string;
  accountId: string | null;
  databases: DeployDatabase[];
  /** Every queue the Worker produces to, consumes or dead-letters into, in config order. */
  queues: string[];
  producers: { binding: string; queue: string }[];
  consumers: ConsumerConfig[];
  crons: string[];
  /** Whether the Worker answers on workers.dev (wrangler's default: on unless routes are set). */
  workersDev: boolean;
  vars: Record<string, string>;
  ratelimits: { name: string; value: string }[];
}

export class ConfigError extends Error {}

function databasesOf(config: WranglerConfigSubset): DeployDatabase[] {
  return config.d1_databases.map((db) => {
    if (!db.database_name) throw new ConfigError(`the D1 binding ${db.binding} needs a database_name (the database is found or created by name)`);
    return {
      binding: db.binding,
      name: db.database_name,
      id: db.database_id ? db.database_id : null,
      migrationsDir: db.migrations_dir ?? "migrations",
      migrationsTable: db.migrations_table ?? "d1_migrations",
    };
  });
}

/** A consumer in the API's terms: wrangler sends max_batch_timeout as milliseconds (max_wait_time_ms). */
function consumerOf(consumer: WranglerConsumer): ConsumerConfig {
  const settings: ConsumerConfig = { queue: consumer.queue };
  if (consumer.max_batch_size !== undefined) settings.batchSize = consumer.max_batch_size;
  if (consumer.max_batch_timeout !== undefined) settings.maxWaitTimeMs = consumer.max_batch_timeout * 1000;
  if (consumer.max_retries !== undefined) settings.maxRetries = consumer.max_retries;
  if (consumer.retry_delay !== undefined) settings.retryDelay = consumer.retry_delay;
  if (typeof consumer.max_concurrency === "number") settings.maxConcurrency = consumer.max_concurrency;
  if (consumer.dead_letter_queue) settings.deadLetterQueue = consumer.dead_letter_queue;
  return settings;
}

function queuesOf(config: WranglerConfigSubset): string[] {
  const queues: string[] = [];
  const add = (name: string | undefined) => {
    if (name && !queues.includes(name)) queues.push(name);
  };
  for (const producer of config.queues.producers ?? []) add(producer.queue);
  for (const consumer of config.queues.consumers ?? []) {
    add(consumer.queue);
    add(consumer.dead_letter_queue);
  }
  return queues;
}

/** Reads the deploy's view of the config; throws ConfigError for what it cannot work with. */
export function deployConfig(config: WranglerConfigSubset): DeployConfig {
  if (!config.name) throw new ConfigError("wrangler.toml has no `name`: the Worker needs one");
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.vars)) vars[name] = typeof value === "string" ? value : JSON.stringify(value);
  return {
    worker: config.name,
    accountId: config.account_id ?? null,
    databases: databasesOf(config),
    queues: queuesOf(config),
    producers: (config.queues.producers ?? []).map(({ binding, queue }) => ({ binding, queue })),
    consumers: (config.queues.consumers ?? []).map(consumerOf),
    crons: config.triggers.crons ?? [],
    workersDev: config.workers_dev ?? (config.routes ?? []).length === 0,
    vars,
    ratelimits: (config.ratelimits ?? []).map((r) => ({ name: r.name, value: `${r.namespace_id}:${r.simple.limit}/${r.simple.period}` })),
  };
}

/** The bindings an upload of this config gives the Worker (secrets aside), the databases resolved to their ids. */
export function expectedBindings(config: DeployConfig, databases: Map<string, string>): ExpectedBinding[] {
  return [
    ...config.databases.map((db) => ({ type: "d1", name: db.binding, value: db.id ?? databases.get(db.name) ?? "" })),
    ...config.producers.map((p) => ({ type: "queue", name: p.binding, value: p.queue })),
    ...Object.entries(config.vars).map(([name, value]) => ({ type: "plain_text", name, value })),
    ...config.ratelimits.map((r) => ({ type: "ratelimit", name: r.name, value: r.value })),
  ];
}

/** Migration files not yet recorded as applied, in order. */
export function pendingMigrations(files: string[], applied: Iterable<string>): string[] {
  const done = new Set(applied);
  return [...files].sort().filter((file) => !done.has(file));
}

/** What the account holds of what the Worker needs (read before anything changes). */
export interface AccountState {
  /** Database name -> uuid, for the databases that exist. */
  databases: Map<string, string>;
  queues: Set<string>;
  /** Database name -> migrations recorded in its migrations table (empty when it has none yet). */
  appliedMigrations: Map<string, string[]>;
  /** The fingerprint the deployed Worker was uploaded with; null when not deployed or deployed by other means. */
  deployedFingerprint: string | null;
  workerExists: boolean;
  secrets: Set<string>;
  /** The account's workers.dev subdomain, or null when none is registered. */
  subdomain: string | null;
  /** Queue name -> its consumers, for the existing queues the config consumes. */
  consumers: Map<string, LiveConsumer[]>;
  /** The Worker's crons; empty when it does not exist. */
  crons: string[];
  /** Whether the Worker answers on workers.dev; null when it does not exist. */
  workersDev: boolean | null;
  /** The active version's bindings; null when no single version is active. */
  activeBindings: LiveBinding[] | null;
}

export type Step =
  | { kind: "create_database"; name: string }
  | { kind: "create_queue"; name: string }
  | { kind: "apply_migrations"; database: DeployDatabase; pending: string[] }
  | { kind: "deploy"; reason: "new" | "changed" | "bindings"; detail?: string[] }
  | { kind: "attach_consumer"; queue: string }
  | { kind: "update_consumer"; queue: string; differences: string[] }
  | { kind: "update_crons"; live: string[]; wanted: string[] }
  | { kind: "set_workers_dev"; enabled: boolean };

/** Steps `wrangler triggers deploy` repairs in one go (and a Worker upload applies too). */
export const isTriggerStep = (step: Step) => step.kind === "attach_consumer" || step.kind === "update_consumer" || step.kind === "update_crons" || step.kind === "set_workers_dev";

function resourceSteps(config: DeployConfig, state: AccountState, migrationFiles: Map<string, string[]>): Step[] {
  const steps: Step[] = [];
  for (const db of config.databases) {
    if (!state.databases.has(db.name)) {
      if (db.id) throw new ConfigError(`wrangler.toml pins database_id ${db.id} for ${db.name}, which this account does not have: remove the id to let the deploy create the database`);
      steps.push({ kind: "create_database", name: db.name });
    }
  }
  for (const queue of config.queues) if (!state.queues.has(queue)) steps.push({ kind: "create_queue", name: queue });
  for (const db of config.databases) {
    const pending = pendingMigrations(migrationFiles.get(db.name) ?? [], state.appliedMigrations.get(db.name) ?? []);
    if (pending.length > 0) steps.push({ kind: "apply_migrations", database: db, pending });
  }
  return steps;
}

function uploadStep(config: DeployConfig, state: AccountState, fingerprint: string): Step | null {
  if (!state.workerExists) return { kind: "deploy", reason: "new" };
  if (state.deployedFingerprint !== fingerprint) return { kind: "deploy", reason: "changed" };
  const differences = state.activeBindings ? bindingDifferences(expectedBindings(config, state.databases), state.activeBindings) : [];
  return differences.length > 0 ? { kind: "deploy", reason: "bindings", detail: differences } : null;
}

/** Consumers, crons and workers.dev of an existing Worker (a first upload sets them all). */
function triggerSteps(config: DeployConfig, state: AccountState): Step[] {
  if (!state.workerExists) return [];
  const steps: Step[] = [];
  for (const wanted of config.consumers) {
    const live = (state.consumers.get(wanted.queue) ?? []).find((c) => c.script === config.worker);
    const differences = live ? consumerDifferences(wanted, live) : [];
    if (!live) steps.push({ kind: "attach_consumer", queue: wanted.queue });
    else if (differences.length > 0) steps.push({ kind: "update_consumer", queue: wanted.queue, differences });
  }
  if (!sameCrons(state.crons, config.crons)) steps.push({ kind: "update_crons", live: state.crons, wanted: config.crons });
  if (state.workersDev !== config.workersDev) steps.push({ kind: "set_workers_dev", enabled: config.workersDev });
  return steps;
}

/**
 * The changes to make, in order: resources first (a deploy needs every
 * queue to exist, the dead-letter one included, which wrangler 4.164 does
 * not provision), then migrations (the new code may need the new schema),
 * then the upload, then the triggers an upload would have set (a consumer,
 * crons, workers.dev) where the live ones differ. An empty list means
 * everything read back matched.
 */
export function planSteps(config: DeployConfig, state: AccountState, migrationFiles: Map<string, string[]>, fingerprint: string): Step[] {
  const upload = uploadStep(config, state, fingerprint);
  return [...resourceSteps(config, state, migrationFiles), ...(upload ? [upload] : []), ...triggerSteps(config, state)];
}

function describeDeploy(step: Extract<Step, { kind: "deploy" }>, worker: string): string {
  if (step.reason === "new") return `deploy the Worker ${worker} (first upload)`;
  if (step.reason === "changed") return `deploy the Worker ${worker} (code or config changed)`;
  return `deploy the Worker ${worker} (the active version's bindings differ: ${(step.detail ?? []).join("; ")})`;
}

/** One line per step, as the plan (and `--check`) prints it. */
export function describeStep(step: Step, worker: string): string {
  switch (step.kind) {
    case "create_database":
      return `create D1 database ${step.name}`;
    case "create_queue":
      return `create queue ${step.name}`;
    case "apply_migrations":
      return `apply ${step.pending.length} migration(s) to ${step.database.name}: ${step.pending.join(", ")}`;
    case "deploy":
      return describeDeploy(step, worker);
    case "attach_consumer":
      return `attach the consumer of ${step.queue} (${worker} is not consuming it)`;
    case "update_consumer":
      return `set the consumer of ${step.queue} to the configured settings (${step.differences.join("; ")})`;
    case "update_crons":
      return `set the crons to ${step.wanted.join(", ") || "none"} (live: ${step.live.join(", ") || "none"})`;
    case "set_workers_dev":
      return `turn workers.dev ${step.enabled ? "on" : "off"}`;
  }
}

/** What a run read back and found as configured: its closing report. */
export function verifiedSummary(config: DeployConfig, state: AccountState, migrationFiles: Map<string, string[]>): string[] {
  const lines: string[] = [];
  for (const db of config.databases) lines.push(`D1 ${db.name}: all ${(migrationFiles.get(db.name) ?? []).length} migration(s) applied`);
  for (const consumer of config.consumers) {
    const settings = [
      consumer.batchSize !== undefined ? `batch ${consumer.batchSize}` : null,
      consumer.maxWaitTimeMs !== undefined ? `timeout ${consumer.maxWaitTimeMs / 1000} s` : null,
      consumer.maxRetries !== undefined ? `${consumer.maxRetries} retries` : null,
      consumer.retryDelay !== undefined ? `retry delay ${consumer.retryDelay} s` : null,
      `dead letters to ${consumer.deadLetterQueue ?? "none"}`,
    ].filter((s) => s !== null);
    lines.push(`queue ${consumer.queue}: consumed by ${config.worker} (${settings.join(", ")})`);
  }
  lines.push(`crons: ${config.crons.join(", ") || "none"}`);
  lines.push(`workers.dev: ${config.workersDev ? "on" : "off"}`);
  lines.push(`active version: ${state.deployedFingerprint ?? "?"}, with the ${expectedBindings(config, state.databases).length} configured bindings`);
  return lines;
}

/** The plan without the account: what each step does when it is needed (`--dry-run`). */
export function dryRunPlan(config: DeployConfig, migrationFiles: Map<string, string[]>, secrets: SecretSpec[]): string[] {
  const lines = [`Worker ${config.worker}${config.accountId ? ` on account ${config.accountId}` : ""}`];
  for (const db of config.databases) {
    const files = migrationFiles.get(db.name) ?? [];
    lines.push(`  D1 ${db.name} (binding ${db.binding}): ${db.id ? `id ${db.id} from wrangler.toml` : "created if missing"}`);
    lines.push(`     then the migrations not yet applied, of ${files.length} in ${db.migrationsDir}/: ${files.join(", ") || "none"}`);
  }
  for (const queue of config.queues) lines.push(`  queue ${queue}: created if missing`);
  lines.push(`  Worker upload (wrangler deploy) when the bundle or wrangler.toml differ from the deployed one, or the active version's bindings differ`);
  for (const consumer of config.consumers) lines.push(`  consumer of ${consumer.queue}: ${config.worker}, with the settings in wrangler.toml (attached or corrected when it differs)`);
  lines.push(`  crons ${config.crons.join(", ") || "none"}; workers.dev ${config.workersDev ? "on" : "off"} (set again when they differ)`);
  lines.push("  then everything is read back: the run ends with what it verified");
  lines.push("  secrets checked (set with `wrangler secret put`, never stored here):");
  for (const spec of secrets) lines.push(`     ${spec.name} (${spec.required ? "required" : "optional"}): ${spec.what}`);
  return lines;
}

export interface MissingSecrets {
  required: SecretSpec[];
  optional: SecretSpec[];
}

export function missingSecrets(specs: SecretSpec[], present: Set<string>): MissingSecrets {
  const missing = specs.filter((spec) => !present.has(spec.name));
  return { required: missing.filter((s) => s.required), optional: missing.filter((s) => !s.required) };
}

/** The report of missing secrets: each with what it is, what fails without it, and the command that sets it. */
export function describeMissingSecrets(missing: MissingSecrets): string[] {
  const lines: string[] = [];
  for (const spec of [...missing.required, ...missing.optional]) {
    lines.push(`  ${spec.name} (${spec.required ? "required" : "optional"}): ${spec.what}; until then ${spec.without}`);
    lines.push(`      ${secretPutCommand(spec)}`);
  }
  return lines;
}

/** Settings in wrangler.toml that still hold their placeholder, or miss what a set secret needs. */
export function settingsWarnings(vars: Record<string, string>, secrets: Set<string>): string[] {
  const warnings: string[] = [];
  if (vars.LEARNINK_ORG_ID === "your-org-id" || vars.LEARNINK_ORG_ID === "") {
    warnings.push("LEARNINK_ORG_ID in wrangler.toml [vars] is not your organisation id yet: tap links would point to the wrong place");
  }
  if (secrets.has("APNS_KEY")) {
    const unset = ["APNS_KEY_ID", "APNS_TEAM_ID", "APNS_TOPIC"].filter((name) => !vars[name]);
    if (unset.length > 0) warnings.push(`APNS_KEY is set but ${unset.join(", ")} ${unset.length === 1 ? "is" : "are"} empty in wrangler.toml [vars]: APNs deliveries fail`);
  }
  return warnings;
}

/**
 * Identifies what an upload would deploy: the bundle wrangler builds and
 * the config it deploys with. Sent as the version's tag, so the next run
 * can tell the deployed Worker is already this one.
 */
export function fingerprint(bundle: { name: string; content: Buffer | string }[], configText: string): string {
  const hash = createHash("sha256");
  for (const file of [...bundle].sort((a, b) => a.name.localeCompare(b.name))) hash.update(`${file.name}\0`).update(file.content).update("\0");
  hash.update(configText);
  return `build-${hash.digest("hex").slice(0, 16)}`;
}

/** A Worker version as the API lists it (newest first). */
export interface VersionSummary {
  id: string;
  annotations?: Record<string, string | undefined>;
}

/**
 * The fingerprint of the code the active deployment runs. A secret change
 * makes a new version of the same code without our tag, so those are
 * skipped back to the upload they copied.
 */
export function deployedFingerprint(activeVersionId: string | null, newestFirst: VersionSummary[]): string | null {
  if (!activeVersionId) return null;
  let index = newestFirst.findIndex((v) => v.id === activeVersionId);
  if (index === -1) return null;
  while (newestFirst[index]?.annotations?.["workers/triggered_by"] === "secret") index++;
  const tag = newestFirst[index]?.annotations?.["workers/tag"];
  return tag?.startsWith("build-") ? tag : null;
}

/** The Worker's workers.dev origin. */
export const workersDevOrigin = (worker: string, subdomain: string) => `https://${worker}.${subdomain}.workers.dev`;
