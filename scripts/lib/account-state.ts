/**
 * What the Cloudflare account already has of what the relay needs: its D1
 * databases (and the migrations each recorded), queues, the deployed
 * Worker's fingerprint and secret names, the workers.dev subdomain. Read
 * before anything changes, so the plan says exactly what a run will do.
 */
import { type CloudflareApi, CloudflareApiError } from "./cloudflare-api.ts";
import { type AccountState, type DeployConfig, deployedFingerprint, type VersionSummary } from "./deploy-plan.ts";

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

export async function readAccountState(api: CloudflareApi, accountId: string, config: DeployConfig): Promise<AccountState> {
  const account = `/accounts/${accountId}`;
  const worker = `${account}/workers/scripts/${encodeURIComponent(config.worker)}`;

  const databases = new Map<string, string>();
  const applied = new Map<string, string[]>();
  for (const db of config.databases) {
    const info = await orNull(api.get<{ uuid: string }>(`${account}/d1/database/${encodeURIComponent(db.id ?? db.name)}`));
    if (!info) continue;
    databases.set(db.name, info.uuid);
    applied.set(db.name, await appliedMigrations(api, accountId, info.uuid, db.migrationsTable));
  }

  const queues = new Set<string>();
  for (const name of config.queues) {
    const found = await api.list<{ queue_name: string }>(`${account}/queues`, { name });
    if (found.some((q) => q.queue_name === name)) queues.add(name);
  }

  const deployments = await orNull(api.get<{ deployments: { versions: { version_id: string; percentage: number }[] }[] }>(`${worker}/deployments`));
  let fingerprint: string | null = null;
  let secrets = new Set<string>();
  if (deployments) {
    const active = deployments.deployments[0]?.versions;
    // A gradual rollout (two versions) is nobody's fingerprint: deploy again.
    const activeId = active?.length === 1 ? active[0]!.version_id : null;
    const { items } = await api.get<{ items: VersionSummary[] }>(`${worker}/versions`, { per_page: "50" });
    fingerprint = deployedFingerprint(activeId, items);
    const names = await api.get<{ name: string }[]>(`${worker}/secrets`);
    secrets = new Set(names.map((s) => s.name));
  }

  const subdomain = await orNull(api.get<{ subdomain: string }>(`${account}/workers/subdomain`));
  return {
    databases,
    queues,
    appliedMigrations: applied,
    deployedFingerprint: fingerprint,
    workerExists: deployments !== null,
    secrets,
    subdomain: subdomain?.subdomain ?? null,
  };
}
