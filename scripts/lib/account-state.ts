/**
 * What the Cloudflare account already has of what the relay needs: its D1
 * databases (and the migrations each recorded), queues and their
 * consumers, the deployed Worker's fingerprint, bindings, secret names,
 * crons and workers.dev switch, the account's workers.dev subdomain. Read
 * before anything changes, so the plan says exactly what a run will do,
 * and again after it, so the run can say what it verified.
 *
 * Only account-level calls: nothing here needs User Details or
 * Memberships, so an account-owned token works.
 */
import { type CloudflareApi, CloudflareApiError } from "./cloudflare-api.ts";
import { type AccountState, type DeployConfig, deployedFingerprint, type VersionSummary } from "./deploy-plan.ts";
import type { LiveBinding, LiveConsumer } from "./drift.ts";

/** The API's "not found" answers for a database (7404), a Worker (10007) or a subdomain (10007). */
const isNotFound = (error: unknown) => error instanceof CloudflareApiError && (error.status === 404 || error.code === 7404 || error.code === 10007);

async function orNull<T>(read: Promise<T>): Promise<T | null> {
  try {
    return await read;
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/**
 * Versions read per page while looking for the active one (the list is
 * newest first, and a secret change adds a version, so the active one is
 * usually on the first page; every page after it is read when not).
 */
const VERSIONS_PER_PAGE = "50";

/** Migration names a database recorded; none when its migrations table does not exist yet. */
async function appliedMigrations(api: CloudflareApi, accountId: string, uuid: string, table: string): Promise<string[]> {
  try {
    const [result] = await api.post<{ results: { name: string }[] }[]>(`/accounts/${accountId}/d1/database/${uuid}/query`, {
      sql: `SELECT name FROM "${table.replaceAll('"', '""')}" ORDER BY id`,
    });
    return (result?.results ?? []).map((row) => row.name);
  } catch (error) {
    if (error instanceof CloudflareApiError && /no such table/i.test(error.message)) return [];
    throw error;
  }
}

async function readDatabases(api: CloudflareApi, accountId: string, config: DeployConfig) {
  const databases = new Map<string, string>();
  const applied = new Map<string, string[]>();
  for (const db of config.databases) {
    const info = await orNull(api.get<{ uuid: string }>(`/accounts/${accountId}/d1/database/${encodeURIComponent(db.id ?? db.name)}`));
    if (!info) continue;
    databases.set(db.name, info.uuid);
    applied.set(db.name, await appliedMigrations(api, accountId, info.uuid, db.migrationsTable));
  }
  return { databases, applied };
}

interface ApiConsumer {
  type?: string;
  script_name?: string;
  script?: string;
  dead_letter_queue?: string;
  settings?: LiveConsumer["settings"];
}

/** The queues that exist (name -> id), and the consumers of the ones the config consumes. */
async function readQueues(api: CloudflareApi, accountId: string, config: DeployConfig) {
  const ids = new Map<string, string>();
  for (const name of config.queues) {
    const found = await api.list<{ queue_name: string; queue_id: string }>(`/accounts/${accountId}/queues`, { query: { name } });
    const queue = found.find((q) => q.queue_name === name);
    if (queue) ids.set(name, queue.queue_id);
  }
  const consumers = new Map<string, LiveConsumer[]>();
  for (const { queue } of config.consumers) {
    const id = ids.get(queue);
    if (!id || consumers.has(queue)) continue;
    const listed = await api.list<ApiConsumer>(`/accounts/${accountId}/queues/${id}/consumers`);
    consumers.set(
      queue,
      listed.filter((c) => (c.type ?? "worker") === "worker").map((c) => ({ script: c.script_name ?? c.script ?? "", settings: c.settings ?? {}, deadLetterQueue: c.dead_letter_queue || null })),
    );
  }
  return { queues: new Set(ids.keys()), consumers };
}

/** The active version's fingerprint (pages back through secret-only versions) and bindings. */
async function readActiveVersion(api: CloudflareApi, worker: string, activeId: string | null) {
  if (!activeId) return { fingerprint: null, bindings: null };
  // Read pages until the active version and the upload it copied are in hand (a secret change copies the version before it).
  const found = (items: VersionSummary[]) => {
    const index = items.findIndex((v) => v.id === activeId);
    if (index === -1) return false;
    return items.slice(index).some((v) => v.annotations?.["workers/triggered_by"] !== "secret");
  };
  const versions = await api.list<VersionSummary>(`${worker}/versions`, {
    query: { per_page: VERSIONS_PER_PAGE },
    items: (result) => (result as { items?: VersionSummary[] }).items ?? [],
    until: found,
  });
  const active = await api.get<{ resources?: { bindings?: LiveBinding[] } }>(`${worker}/versions/${activeId}`);
  return { fingerprint: deployedFingerprint(activeId, versions), bindings: active.resources?.bindings ?? [] };
}

type WorkerState = Pick<AccountState, "deployedFingerprint" | "workerExists" | "secrets" | "crons" | "workersDev" | "activeBindings">;

async function readWorker(api: CloudflareApi, accountId: string, config: DeployConfig): Promise<WorkerState> {
  const worker = `/accounts/${accountId}/workers/scripts/${encodeURIComponent(config.worker)}`;
  const deployments = await orNull(api.get<{ deployments: { versions: { version_id: string; percentage: number }[] }[] }>(`${worker}/deployments`));
  if (!deployments) return { deployedFingerprint: null, workerExists: false, secrets: new Set(), crons: [], workersDev: null, activeBindings: null };
  const active = deployments.deployments[0]?.versions;
  // A gradual rollout (two versions) is nobody's fingerprint: deploy again.
  const activeId = active?.length === 1 ? active[0]!.version_id : null;
  const version = await readActiveVersion(api, worker, activeId);
  const secrets = await api.get<{ name: string }[]>(`${worker}/secrets`);
  const schedules = await api.get<{ schedules: { cron: string }[] }>(`${worker}/schedules`);
  const subdomain = await api.get<{ enabled: boolean }>(`${worker}/subdomain`);
  return {
    deployedFingerprint: version.fingerprint,
    workerExists: true,
    secrets: new Set(secrets.map((s) => s.name)),
    crons: schedules.schedules.map((s) => s.cron),
    workersDev: subdomain.enabled,
    activeBindings: version.bindings,
  };
}

export async function readAccountState(api: CloudflareApi, accountId: string, config: DeployConfig): Promise<AccountState> {
  const { databases, applied } = await readDatabases(api, accountId, config);
  const { queues, consumers } = await readQueues(api, accountId, config);
  const worker = await readWorker(api, accountId, config);
  const subdomain = await orNull(api.get<{ subdomain: string }>(`/accounts/${accountId}/workers/subdomain`));
  return { databases, queues, appliedMigrations: applied, consumers, subdomain: subdomain?.subdomain ?? null, ...worker };
}
