/**
 * `npm run deploy`: from a fresh clone to a working relay on your Cloudflare
 * account, after `npx wrangler login`. It creates what the Worker needs and
 * the account lacks (the D1 database and both queues, by the names in
 * wrangler.toml; wrangler.toml is never edited), applies the D1 migrations
 * not yet applied, uploads the Worker when its bundle or wrangler.toml
 * changed, and repairs what a failed run or a dashboard edit left: a queue
 * without its consumer (or with other settings), other crons, workers.dev
 * turned off, other bindings on the active version. Then it reads all of
 * that back and says what it verified, and checks the Worker's secrets: in
 * a terminal it asks for the missing ones, otherwise it lists each with the
 * command that sets it. It ends with the webhook URL for LearnInk and a
 * smoke test. A second run finds everything in place and changes nothing.
 *
 * `--check` does the same reading and changes nothing: it prints each
 * difference between the account and the checkout and exits 1 when there
 * is one (for operators, and for a scheduled CI job).
 *
 *   npm run deploy -- [--dry-run | --check]
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { unstable_readConfig } from "wrangler";
import { readAccountState } from "./lib/account-state.ts";
import { afterVerifiedDeploy } from "./lib/after-deploy.ts";
import { type CloudflareApi, CloudflareApiError, CloudflareUnreachable, type Credentials, cloudflareApi } from "./lib/cloudflare-api.ts";
import {
  type AccountState,
  ConfigError,
  type DeployConfig,
  type Step,
  deployConfig,
  describeStep,
  dryRunPlan,
  fingerprint,
  isTriggerStep,
  planSteps,
  verifiedSummary,
  workersDevOrigin,
} from "./lib/deploy-plan.ts";
import { askForSecrets, reportSecrets } from "./lib/deploy-secrets.ts";
import { refusalSentence, refusedPathInWranglerOutput } from "./lib/permissions.ts";
import { ROOT, WEBHOOK_PATH } from "./lib/project.ts";
import { PromptCancelled, ask } from "./lib/prompt.ts";
import { SECRETS } from "./lib/secrets.ts";
import { runWrangler } from "./lib/wrangler.ts";

const USAGE = `Usage: npm run deploy -- [options]

  --dry-run   print what a deploy does, without contacting Cloudflare
  --check     read the account and print each difference from this checkout,
              changing nothing; exits 1 when there is one
  -h, --help  this text

Log in first with \`npx wrangler login\` (or set CLOUDFLARE_API_TOKEN, and
CLOUDFLARE_ACCOUNT_ID when the token reaches several accounts or is an
account-owned token). The token's permissions: docs/deploy-token.md.`;

const say = (line = "") => process.stdout.write(`${line}\n`);

class UsageError extends Error {}
/** A failure already explained to the user: exit 1 without a stack trace. */
class DeployError extends Error {}

function options() {
  try {
    const { values } = parseArgs({ options: { "dry-run": { type: "boolean" }, check: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
    if (values.help) {
      say(USAGE);
      process.exit(0);
    }
    if (values["dry-run"] && values.check) throw new Error("--dry-run and --check do not go together");
    return { dryRun: values["dry-run"] === true, check: values.check === true };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

const WRANGLER_TOML = join(ROOT, "wrangler.toml");

async function migrationFiles(config: DeployConfig): Promise<Map<string, string[]>> {
  const files = new Map<string, string[]>();
  for (const db of config.databases) {
    const names = await readdir(join(ROOT, db.migrationsDir)).catch(() => [] as string[]);
    files.set(db.name, names.filter((name) => name.endsWith(".sql")).sort());
  }
  return files;
}

/** Runs wrangler; on failure shows its output (or, for a refused call, which permission is missing) and stops the deploy. */
async function wrangler(args: string[], env: Record<string, string>, input?: string): Promise<string> {
  const { code, output, stdout } = await runWrangler(args, input === undefined ? { env } : { env, input });
  if (code !== 0) {
    const refused = refusedPathInWranglerOutput(output);
    if (refused) throw new DeployError(refusalSentence(`\`wrangler ${args.slice(0, 2).join(" ")}\` (${refused})`, refused));
    process.stderr.write(`${output.trim()}\n`);
    throw new DeployError(`wrangler ${args.join(" ")} failed (exit ${code}); run \`npm run deploy\` again once the cause above is fixed: it repairs what this run left.`);
  }
  return stdout;
}

interface Account {
  id: string;
  name: string;
}

/** Picks one of the accounts a user-level login reaches (only when no account id is configured). */
async function pickAccount(accounts: Account[]): Promise<Account> {
  if (accounts.length === 1) return accounts[0]!;
  if (accounts.length === 0) throw new DeployError("This login reaches no Cloudflare account: check the token's permissions.");
  const list = accounts.map((a, i) => `  ${i + 1}. ${a.name} (${a.id})`);
  if (!process.stdin.isTTY) {
    throw new DeployError(["This login reaches several accounts: set CLOUDFLARE_ACCOUNT_ID to one of", ...list].join("\n"));
  }
  say("Which account?");
  for (const line of list) say(line);
  const answer = Number(await ask("Number: "));
  const picked = accounts[answer - 1];
  if (!picked) throw new DeployError("No such account.");
  return picked;
}

/**
 * The account to deploy to: CLOUDFLARE_ACCOUNT_ID or wrangler.toml's
 * account_id as they are (no user-level call, so an account-owned token
 * works), otherwise the only account of the login, or the user's pick.
 */
async function chooseAccount(config: DeployConfig): Promise<Account> {
  const wanted = process.env.CLOUDFLARE_ACCOUNT_ID || config.accountId;
  if (wanted) return { id: wanted, name: wanted };
  const { code, stdout, output } = await runWrangler(["whoami", "--json"]);
  let who: { loggedIn?: boolean; accounts?: Account[] } = {};
  try {
    who = JSON.parse(stdout) as typeof who;
  } catch {
    // not JSON: wrangler failed before answering (a refused token, no network); its output says why
  }
  if (code !== 0 || !who.loggedIn) {
    if (who.loggedIn === undefined) process.stderr.write(`${output.trim()}\n`);
    throw new DeployError("No usable Cloudflare login: run `npx wrangler login` first (or check CLOUDFLARE_API_TOKEN; an account-owned token also needs CLOUDFLARE_ACCOUNT_ID).");
  }
  return pickAccount(who.accounts ?? []);
}

/** Bundles the Worker as `wrangler deploy` would and fingerprints it with wrangler.toml. */
async function buildFingerprint(env: Record<string, string>): Promise<string> {
  const outdir = await mkdtemp(join(tmpdir(), "relay-deploy-"));
  try {
    await wrangler(["deploy", "--dry-run", "--outdir", outdir], env);
    // The modules wrangler uploads; not its README (a timestamp) nor source maps (the outdir's path).
    const modules = (await readdir(outdir)).filter((name) => name !== "README.md" && !name.endsWith(".map"));
    const bundle = await Promise.all(modules.map(async (name) => ({ name, content: await readFile(join(outdir, name)) })));
    return fingerprint(bundle, await readFile(WRANGLER_TOML, "utf8"));
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

async function runStep(step: Step, env: Record<string, string>, tag: string): Promise<void> {
  switch (step.kind) {
    case "create_database":
      await wrangler(["d1", "create", step.name], env);
      return;
    case "create_queue":
      await wrangler(["queues", "create", step.name], env);
      return;
    case "apply_migrations":
      await wrangler(["d1", "migrations", "apply", step.database.binding, "--remote"], env);
      return;
    case "deploy": {
      const stdout = await wrangler(["deploy", "--tag", tag], env);
      const version = /Current Version ID: (\S+)/.exec(stdout)?.[1];
      if (version) say(`    version ${version}`);
      return;
    }
    default:
      // Consumers, crons and workers.dev: `wrangler triggers deploy` sets them all from wrangler.toml.
      await wrangler(["triggers", "deploy"], env);
  }
}

/**
 * Works through the plan: creations together, then migrations and the
 * upload in order, then the triggers, which one `wrangler triggers deploy`
 * repairs (an upload applies them itself).
 */
async function applySteps(steps: Step[], env: Record<string, string>, tag: string, worker: string): Promise<void> {
  const isCreation = (step: Step) => step.kind === "create_database" || step.kind === "create_queue";
  await Promise.all(steps.filter(isCreation).map((step) => runStep(step, env, tag).then(() => say(`  done: ${describeStep(step, worker)}`))));
  for (const step of steps.filter((step) => !isCreation(step) && !isTriggerStep(step))) {
    say(`${describeStep(step, worker)}...`);
    await runStep(step, env, tag);
  }
  const triggers = steps.filter(isTriggerStep);
  if (triggers.length === 0) return;
  if (steps.some((step) => step.kind === "deploy")) {
    say(`The upload set the consumers, crons and workers.dev: ${triggers.map((step) => describeStep(step, worker)).join("; ")}.`);
    return;
  }
  say(`${triggers.map((step) => describeStep(step, worker)).join("; ")} (wrangler triggers deploy)...`);
  await runStep(triggers[0]!, env, tag);
}

function smokeTest(origin: string): string[] {
  return [
    `  curl ${origin}/healthz`,
    `  npm run send-example -- --url ${origin}${WEBHOOK_PATH} --secret "$LEARNINK_WEBHOOK_SECRET" --api-key "$RELAY_API_KEY" --wait`,
    "  (with no device registered for the example user, the delivery ends as no_device: the webhook, queue and consumer all ran)",
  ];
}


/** What `wrangler auth token --json` printed; anything else is a login to redo. */
function parseCredentials(stdout: string): Credentials {
  try {
    return JSON.parse(stdout) as Credentials;
  } catch {
    throw new DeployError("wrangler printed no credentials (`wrangler auth token --json`): run `npx wrangler login` (or set CLOUDFLARE_API_TOKEN).");
  }
}

interface Connection {
  account: Account;
  env: Record<string, string>;
  api: CloudflareApi;
}

async function connect(config: DeployConfig): Promise<Connection> {
  say("Checking the Cloudflare login...");
  const account = await chooseAccount(config);
  const env = { CLOUDFLARE_ACCOUNT_ID: account.id };
  const token = parseCredentials(await wrangler(["auth", "token", "--json"], env));
  say(`  account ${account.name === account.id ? account.id : `${account.name} (${account.id})`}`);
  return { account, env, api: cloudflareApi(token) };
}

interface Reading {
  connection: Connection;
  state: AccountState;
  tag: string;
}

/** Logs in, reads the account and builds the bundle's fingerprint (locally, meanwhile). */
async function readEverything(config: DeployConfig): Promise<Reading> {
  const bundling = buildFingerprint({});
  try {
    const connection = await connect(config);
    say("Reading what the account has: database, migrations, queues and consumers, crons, workers.dev, the active version...");
    const state = await readAccountState(connection.api, connection.account.id, config);
    if (!state.subdomain) {
      throw new DeployError(
        `The account has no workers.dev subdomain yet, which the relay's URL needs. Register one at https://dash.cloudflare.com/${connection.account.id}/workers/onboarding, then run \`npm run deploy\` again.`,
      );
    }
    return { connection, state, tag: await bundling };
  } catch (error) {
    await bundling.catch(() => undefined); // its temporary folder is removed before exiting
    throw error;
  }
}

/** `--check`: each difference, and exit 1 when there is one. */
function reportCheck(config: DeployConfig, reading: Reading, steps: Step[], migrations: Map<string, string[]>): number {
  say();
  if (steps.length === 0) {
    say("No difference: the account runs what this checkout configures.");
    for (const line of verifiedSummary(config, reading.state, migrations)) say(`  ${line}`);
    return 0;
  }
  say("The account differs from this checkout:");
  for (const step of steps) say(`  - ${describeStep(step, config.worker)}`);
  say("`npm run deploy` repairs these.");
  return 1;
}

/** Reads the account again after the changes: whatever still differs ends the run with exit 1. */
async function verify(config: DeployConfig, reading: Reading, migrations: Map<string, string[]>): Promise<AccountState> {
  say("Reading it all back...");
  const state = await readAccountState(reading.connection.api, reading.connection.account.id, config);
  const left = planSteps(config, state, migrations, reading.tag);
  if (left.length > 0) {
    const lines = left.map((step) => `  - ${describeStep(step, config.worker)}`);
    throw new DeployError(["After this run the account still differs from the checkout:", ...lines, "Run `npm run deploy` again; it repairs what is left."].join("\n"));
  }
  return state;
}

function reportEnd(origin: string, stillRequired: string[]): void {
  const webhookUrl = `${origin}${WEBHOOK_PATH}`;
  say();
  say(`Relay: ${origin}`);
  say(`Webhook URL for LearnInk (Webhooks → add endpoint, event notifications.sent): ${webhookUrl}`);
  say("Smoke test (RELAY_API_KEY and LEARNINK_WEBHOOK_SECRET set in your shell):");
  for (const line of smokeTest(origin)) say(line);
  if (stillRequired.length > 0) {
    say();
    say(`Not ready yet: ${stillRequired.join(" and ")} ${stillRequired.length === 1 ? "is" : "are"} still missing (see above).`);
  }
  say("Live logs: npx wrangler tail");
}

function readConfig(): DeployConfig {
  try {
    return deployConfig(unstable_readConfig({ config: WRANGLER_TOML }));
  } catch (error) {
    // A ConfigError of ours, or wrangler's own parse or validation error: either way a sentence about the file.
    throw new DeployError(`wrangler.toml: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function main(): Promise<number> {
  const { dryRun, check } = options();
  const config = readConfig();
  const migrations = await migrationFiles(config);
  if (dryRun) {
    say("Dry run: nothing is contacted or changed. A deploy would do, in order:");
    for (const line of dryRunPlan(config, migrations, SECRETS)) say(line);
    say();
    say("Then it prints the webhook URL for LearnInk and a smoke test. Run `npm run deploy` to do it.");
    return 0;
  }
  const reading = await readEverything(config);
  const steps = planSteps(config, reading.state, migrations, reading.tag);
  if (check) return reportCheck(config, reading, steps, migrations);

  let state = reading.state;
  if (steps.length === 0) {
    say("Nothing to change: the database, migrations, queues and their consumers, crons, workers.dev and the deployed Worker with its bindings are as configured.");
  } else {
    say("Plan:");
    for (const step of steps) say(`  - ${describeStep(step, config.worker)}`);
    await applySteps(steps, reading.connection.env, reading.tag, config.worker);
    state = await verify(config, reading, migrations);
  }

  const origin = workersDevOrigin(config.worker, reading.state.subdomain!);
  const env = reading.connection.env;
  const present = await askForSecrets(state.secrets, `${origin}${WEBHOOK_PATH}`, async (name, value) => {
    await wrangler(["secret", "put", name], env, value);
  });
  const stillRequired = reportSecrets(config, present);
  say();
  say("Verified (read back from the account):");
  for (const line of verifiedSummary(config, state, migrations)) say(`  ${line}`);
  await afterVerifiedDeploy({ config, accountId: reading.connection.account.id, origin, secrets: present });
  reportEnd(origin, stillRequired);
  return 0;
}

/** What an expected failure says: one paragraph, never a stack trace. Null for a bug (then the stack helps). */
function explain(error: unknown): string | null {
  if (error instanceof UsageError) return `${error.message}\n\n${USAGE}`;
  if (error instanceof DeployError || error instanceof CloudflareUnreachable) return error.message;
  if (error instanceof PromptCancelled) return "Cancelled.";
  if (error instanceof ConfigError) return `wrangler.toml: ${error.message}`;
  if (!(error instanceof CloudflareApiError)) return null;
  const call = `${error.method} ${error.path}`;
  if (error.status === 403) return refusalSentence(call, error.path);
  if (error.status === 401 || error.code === 6003 || error.code === 6111 || error.code === 9109) {
    return `The Cloudflare API refused the token on ${call}: run \`npx wrangler login\` (or check CLOUDFLARE_API_TOKEN).`;
  }
  return `The Cloudflare API failed ${call} (HTTP ${error.status}): ${error.message}. Run \`npm run deploy\` again: it repairs what this run left.`;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = explain(error);
    process.stderr.write(`${message ?? (error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
