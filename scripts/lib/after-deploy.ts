/**
 * What runs once a deploy has been read back and found exactly as
 * configured (and its secrets handled): the settings self-check,
 * `POST /v1/check` on the Worker just deployed, so it only ever runs
 * against a Worker whose consumers, crons, workers.dev switch, migrations
 * and bindings were verified. Its result is printed; a refusal, or a
 * Worker that cannot be reached, is a warning with the fix, never a
 * failed deploy: the deploy did what it was asked.
 *
 * The admin key is a secret the script cannot read back (Cloudflare never
 * returns a secret's value), so the check runs with `RELAY_API_KEY` from
 * the deploy's own environment when it is set (the first key when it
 * holds several); otherwise the script prints the curl line to run it.
 */
import type { DeployConfig } from "./deploy-plan.ts";

export interface VerifiedDeploy {
  config: DeployConfig;
  accountId: string;
  /** The Worker's workers.dev origin. */
  origin: string;
  /** The names of the secrets the Worker has. */
  secrets: Set<string>;
}

/** What the check needs from its surroundings; tests pass their own. */
export interface CheckDeps {
  env: Record<string, string | undefined>;
  fetch: typeof fetch;
  say: (line?: string) => void;
  /** The whole check waits at most this long (each provider has 8 s, several run at once). */
  timeoutMs: number;
}

interface CheckLine {
  app: string;
  provider: string;
  ok: boolean;
  detail: string;
}

type Outcome = { kind: "report"; ok: boolean; checks: CheckLine[] } | { kind: "status"; status: number } | { kind: "unreachable"; error: string };

const DEFAULTS: CheckDeps = {
  env: process.env,
  fetch: (input, init) => fetch(input, init),
  say: (line = "") => process.stdout.write(`${line}\n`),
  timeoutMs: 60_000,
};

/** The command that runs the check by hand. */
export const checkCommand = (origin: string): string => `curl -sS -X POST -H "Authorization: Bearer $RELAY_API_KEY" ${origin}/v1/check`;

/** Called at the end of every deploy whose read-back matched; prints the settings check, never throws. */
export async function afterVerifiedDeploy(deploy: VerifiedDeploy, deps: Partial<CheckDeps> = {}): Promise<void> {
  const { env, say, ...rest } = { ...DEFAULTS, ...deps };
  const curl = checkCommand(deploy.origin);
  say();
  say("Settings check (each provider asked whether the relay's settings are accepted; nobody is notified):");
  if (!deploy.secrets.has("RELAY_API_KEY")) {
    say(`  Skipped: the Worker has no RELAY_API_KEY yet. Once it has, run:\n  ${curl}`);
    return;
  }
  const key = env.RELAY_API_KEY?.trim().split(/\s+/)[0];
  if (!key) {
    say("  Skipped: the admin key is a secret this script cannot read back. With RELAY_API_KEY set in your shell, run:");
    say(`  ${curl}`);
    say("  (or set RELAY_API_KEY before `npm run deploy` and the check runs by itself).");
    return;
  }
  for (const line of checkReport(await requestCheck(deploy.origin, key, { ...rest, env, say }), deploy.origin, curl)) say(line);
}

/** `POST /v1/check` with `key`; never throws. */
async function requestCheck(origin: string, key: string, deps: CheckDeps): Promise<Outcome> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), deps.timeoutMs);
  try {
    const response = await deps.fetch(`${origin}/v1/check`, { method: "POST", headers: { authorization: `Bearer ${key}` }, signal: controller.signal });
    if (response.status !== 200) return { kind: "status", status: response.status };
    const body = (await response.json()) as { ok?: unknown; checks?: unknown };
    if (typeof body.ok !== "boolean" || !Array.isArray(body.checks)) return { kind: "status", status: response.status };
    return { kind: "report", ok: body.ok, checks: body.checks as CheckLine[] };
  } catch (error) {
    if (controller.signal.aborted) return { kind: "unreachable", error: `no answer within ${deps.timeoutMs / 1000} s` };
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return { kind: "unreachable", error: `${error instanceof Error ? error.message : String(error)}${cause}` };
  } finally {
    clearTimeout(timer);
  }
}

/** The lines to print for `outcome`: each provider's answer, and a warning with the fix when something is wrong. */
export function checkReport(outcome: Outcome, origin: string, curl: string): string[] {
  if (outcome.kind === "unreachable") {
    return [`  Warning: the Worker at ${origin} could not be reached (${outcome.error}). The deploy itself succeeded; a new workers.dev Worker can take a minute to answer. Run the check again:`, `  ${curl}`];
  }
  if (outcome.kind === "status") {
    const why = outcome.status === 401 ? "RELAY_API_KEY in your shell is not one of the Worker's admin keys (401)" : `the Worker answered HTTP ${outcome.status}`;
    return [`  Warning: the check did not run: ${why}. The deploy itself succeeded. Run it with the Worker's admin key:`, `  ${curl}`];
  }
  if (outcome.checks.length === 0) return ["  No provider is configured: nothing to check. Set a provider's secrets (README, Configuration), then run:", `  ${curl}`];
  const lines = outcome.checks.map((c) => `  ${c.ok ? "ok     " : "REFUSED"} ${c.app}/${c.provider}: ${c.detail}`);
  if (outcome.ok) return [...lines, "  Every configured provider accepts the settings."];
  return [...lines, "  Warning: some settings are refused (the deploy itself succeeded). Fix them as each REFUSED line says (a secret: `npx wrangler secret put NAME`), then run:", `  ${curl}`];
}
