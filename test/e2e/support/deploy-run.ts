/**
 * Running `npm run deploy` (scripts/deploy.ts, the real wrangler) against
 * the Cloudflare API stand-in, with none of the developer's own Cloudflare
 * settings; and calling the stand-in's API the way a dashboard edit would.
 */
import { join } from "node:path";
import type { CloudflareApiStandin } from "./cloudflare-api.js";
import { runCommand } from "./local-run.js";

export const TOKEN = "standin-api-token";
export const ACCOUNT = "0123456789abcdef0123456789abcdef";
export const WORKER = "learnink-push-relay";
export const DATABASE = "learnink-push-relay";
export const QUEUE = "learnink-push";
export const DLQ = "learnink-push-dlq";
export const RUN_TIMEOUT_MS = 180_000;

export interface Run {
  code: number | null;
  output: string;
}

/** The stand-in's URL and token, and none of the developer's own Cloudflare settings. */
export function deployEnv(baseUrl: string, token: string | null, extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of Object.keys(process.env)) if (name.startsWith("CLOUDFLARE_") || name.startsWith("CF_")) env[name] = undefined;
  // The suite runs in CI too; the script must not depend on it.
  // RELAY_API_KEY too: with it the deploy runs the settings check, which a test asks for by passing it.
  return { ...env, CLOUDFLARE_API_BASE_URL: baseUrl, CLOUDFLARE_API_TOKEN: token ?? undefined, WRANGLER_SEND_METRICS: "false", CI: undefined, RELAY_API_KEY: undefined, ...extra };
}

export interface DeployOptions {
  args?: string[];
  token?: string | null;
  /** Added to the environment (CLOUDFLARE_ACCOUNT_ID for an account-owned token). */
  env?: Record<string, string>;
}

export async function runDeploy(cwd: string, api: CloudflareApiStandin, options: DeployOptions = {}): Promise<Run> {
  const env = deployEnv(api.baseUrl, options.token === undefined ? TOKEN : options.token, options.env);
  const run = await runCommand(cwd, process.execPath, [join(cwd, "scripts", "deploy.ts"), ...(options.args ?? [])], env, RUN_TIMEOUT_MS - 5_000);
  return { code: run.code, output: `${run.stdout}${run.stderr}` };
}

/** One call to the stand-in's API (what a dashboard edit sends); throws unless it succeeds. */
export async function callApi(api: CloudflareApiStandin, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${api.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const envelope = (await response.json()) as { success: boolean; result: unknown };
  if (!envelope.success) throw new Error(`${method} ${path}: ${JSON.stringify(envelope)}`);
  return envelope.result;
}
