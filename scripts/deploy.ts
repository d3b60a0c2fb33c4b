/**
 * `npm run deploy`: from a fresh clone to a working relay on your Cloudflare
 * account, after `npx wrangler login`. It creates what the Worker needs and
 * the account lacks (the D1 database and both queues, by the names in
 * wrangler.toml; wrangler.toml is never edited), applies the D1 migrations
 * not yet applied, uploads the Worker when its bundle or wrangler.toml
 * changed, then checks the Worker's secrets: in a terminal it asks for the
 * missing ones, otherwise it lists each with the command that sets it. It
 * ends with the webhook URL for LearnInk and a smoke test. A second run
 * finds everything in place and changes nothing.
 *
 *   npm run deploy -- [--dry-run]
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { unstable_readConfig } from "wrangler";
import { readAccountState } from "./lib/account-state.ts";
import { type CloudflareApi, type Credentials, cloudflareApi } from "./lib/cloudflare-api.ts";
import {
  type AccountState,
  ConfigError,
  type DeployConfig,
  type Step,
  deployConfig,
  describeMissingSecrets,
  describeStep,
  dryRunPlan,
  fingerprint,
  missingSecrets,
  planSteps,
  settingsWarnings,
  workersDevOrigin,
} from "./lib/deploy-plan.ts";
import { ROOT, WEBHOOK_PATH } from "./lib/project.ts";
import { PromptCancelled, ask, askHidden } from "./lib/prompt.ts";
import { SECRETS, type SecretSpec } from "./lib/secrets.ts";
import { runWrangler } from "./lib/wrangler.ts";

const USAGE = `Usage: npm run deploy -- [options]

  --dry-run   print what a deploy does, without contacting Cloudflare
  -h, --help  this text

Log in first with \`npx wrangler login\` (or set CLOUDFLARE_API_TOKEN, and
CLOUDFLARE_ACCOUNT_ID when the token reaches several accounts).`;

const say = (line = "") => process.stdout.write(`${line}\n`);

class UsageError extends Error {}
/** A failure already explained to the user: exit 1 without a stack trace. */
class DeployError extends Error {}

function options() {
  try {
    const { values } = parseArgs({ options: { "dry-run": { type: "boolean" }, help: { type: "boolean", short: "h" } } });
    if (values.help) {
      say(USAGE);
      process.exit(0);
    }
    return { dryRun: values["dry-run"] === true };
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

/** Runs wrangler; on failure shows its output and stops the deploy. */
async function wrangler(args: string[], env: Record<string, string>, input?: string): Promise<string> {
  const { code, output, stdout } = await runWrangler(args, input === undefined ? { env } : { env, input });
  if (code !== 0) {
    process.stderr.write(`${output.trim()}\n`);
    throw new DeployError(`wrangler ${args.join(" ")} failed (exit ${code})`);
  }
  return stdout;
}

interface Account {
  id: string;
  name: string;
}

/** The account to deploy to: CLOUDFLARE_ACCOUNT_ID, wrangler.toml's account_id, the only one, or the user's pick. */
async function chooseAccount(config: DeployConfig): Promise<Account> {
  const { code, stdout, output } = await runWrangler(["whoami", "--json"]);
  let who: { loggedIn?: boolean; email?: string; accounts?: Account[] } = {};
  try {
    who = JSON.parse(stdout) as typeof who;
  } catch {
    // not JSON: wrangler failed before answering (a refused token, no network); its output says why
  }
  if (code !== 0 || !who.loggedIn) {
    if (who.loggedIn === undefined) process.stderr.write(`${output.trim()}\n`);
    throw new DeployError("No usable Cloudflare login: run `npx wrangler login` first (or check CLOUDFLARE_API_TOKEN).");
  }
  const accounts = who.accounts ?? [];
  const wanted = process.env.CLOUDFLARE_ACCOUNT_ID || config.accountId;
  if (wanted) return accounts.find((a) => a.id === wanted) ?? { id: wanted, name: wanted };
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
  }
}

/** Reads one secret's value from the terminal; null when skipped. */
async function promptSecret(spec: SecretSpec, webhookUrl: string): Promise<string | null> {
  say();
  say(`${spec.name} (${spec.required ? "required" : "optional"}): ${spec.what}`);
  if (spec.name === "LEARNINK_WEBHOOK_SECRET") {
    say(`  In the LearnInk dashboard add a webhook endpoint ${webhookUrl} for notifications.sent, and copy its signing secret.`);
  }
  for (;;) {
    let value: string;
    if (spec.input.kind === "file") {
      const path = await ask(`  Path to ${spec.input.example} (Enter to skip): `);
      if (path === "") return null;
      try {
        value = await readFile(path.replace(/^~(?=\/)/, process.env.HOME ?? "~"), "utf8");
      } catch (error) {
        say(`  Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
        continue;
      }
    } else {
      // A required key is generated on Enter; an optional one on "g" (Enter skips it).
      const generate = spec.input.generate;
      const hint = !generate ? "Enter skips" : spec.required ? "Enter generates one" : "g generates one, Enter skips";
      value = await askHidden(`  Value (hidden; ${hint}): `);
      if (generate && (value === "g" || (value === "" && spec.required))) {
        value = generate();
        say(`  Generated; keep it, it is shown only now: ${value}`);
      }
      if (value === "") return null;
    }
    const problem = spec.check?.(value);
    if (!problem) return value;
    say(`  Not used: ${problem}.`);
  }
}

function smokeTest(origin: string): string[] {
  return [
    `  curl ${origin}/healthz`,
    `  npm run send-example -- --url ${origin}${WEBHOOK_PATH} --secret "$LEARNINK_WEBHOOK_SECRET" --api-key "$RELAY_API_KEY" --wait`,
    "  (with no device registered for the example user, the delivery ends as no_device: the webhook, queue and consumer all ran)",
  ];
}

async function main(): Promise<number> {
  const { dryRun } = options();
  let config: DeployConfig;
  try {
    config = deployConfig(unstable_readConfig({ config: WRANGLER_TOML }));
  } catch (error) {
    if (error instanceof ConfigError) throw new DeployError(`wrangler.toml: ${error.message}`);
    throw error;
  }
  const migrations = await migrationFiles(config);

  if (dryRun) {
    say("Dry run: nothing is contacted or changed. A deploy would do, in order:");
    for (const line of dryRunPlan(config, migrations, SECRETS)) say(line);
    say();
    say("Then it prints the webhook URL for LearnInk and a smoke test. Run `npm run deploy` to do it.");
    return 0;
  }

  // The bundle is local: it is built while the account is read.
  const bundling = buildFingerprint({});
  let account: Account;
  let env: Record<string, string>;
  let state: AccountState;
  try {
    say("Checking the Cloudflare login...");
    account = await chooseAccount(config);
    env = { CLOUDFLARE_ACCOUNT_ID: account.id };
    const token = JSON.parse(await wrangler(["auth", "token", "--json"], env)) as Credentials;
    const api: CloudflareApi = cloudflareApi(token);
    say(`  account ${account.name} (${account.id})`);

    say("Reading what the account already has...");
    state = await readAccountState(api, account.id, config);
    if (!state.subdomain) {
      throw new DeployError(
        `The account has no workers.dev subdomain yet, which the relay's URL needs. Register one at https://dash.cloudflare.com/${account.id}/workers/onboarding, then run \`npm run deploy\` again.`,
      );
    }
  } catch (error) {
    await bundling.catch(() => undefined); // its temporary folder is removed before exiting
    throw error;
  }
  const tag = await bundling;
  const steps = planSteps(config, state, migrations, tag);
  const origin = workersDevOrigin(config.worker, state.subdomain);
  const webhookUrl = `${origin}${WEBHOOK_PATH}`;

  if (steps.length === 0) {
    say("Nothing to change: the database, queues, migrations and the deployed Worker are up to date.");
  } else {
    say("Plan:");
    for (const step of steps) say(`  - ${describeStep(step, config.worker)}`);
    // Creations are independent of each other: run them together, then migrations, then the upload.
    const isCreation = (step: Step) => step.kind === "create_database" || step.kind === "create_queue";
    await Promise.all(steps.filter(isCreation).map((step) => runStep(step, env, tag).then(() => say(`  done: ${describeStep(step, config.worker)}`))));
    for (const step of steps.filter((step) => !isCreation(step))) {
      say(`${describeStep(step, config.worker)}...`);
      await runStep(step, env, tag);
    }
  }

  const present = new Set(state.secrets);
  const missing = missingSecrets(SECRETS, present);
  if (missing.required.length + missing.optional.length > 0 && process.stdin.isTTY && process.stdout.isTTY) {
    say();
    say("Missing secrets: type or paste each (sent straight to Cloudflare, stored nowhere else); Enter skips.");
    for (const spec of [...missing.required, ...missing.optional]) {
      const value = await promptSecret(spec, webhookUrl);
      if (value === null) continue;
      await wrangler(["secret", "put", spec.name], env, value);
      present.add(spec.name);
      say(`  ${spec.name} set.`);
    }
  }

  say();
  const still = missingSecrets(SECRETS, present);
  if (still.required.length + still.optional.length > 0) {
    say("Secrets not set yet (each `secret put` asks for the value, or reads it from a file):");
    for (const line of describeMissingSecrets(still)) say(line);
  } else {
    say("Secrets: all set.");
  }
  const warnings = settingsWarnings(config.vars, present);
  if (warnings.length > 0) {
    say();
    say("Settings to check (then run `npm run deploy` again):");
    for (const warning of warnings) say(`  ${warning}`);
  }

  say();
  say(`Relay: ${origin}`);
  say(`Webhook URL for LearnInk (Webhooks → add endpoint, event notifications.sent): ${webhookUrl}`);
  say("Smoke test (RELAY_API_KEY and LEARNINK_WEBHOOK_SECRET set in your shell):");
  for (const line of smokeTest(origin)) say(line);
  if (still.required.length > 0) {
    say();
    say(`Not ready yet: ${still.required.map((s) => s.name).join(" and ")} ${still.required.length === 1 ? "is" : "are"} still missing (see above).`);
  }
  say("Live logs: npx wrangler tail");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    else if (error instanceof DeployError) process.stderr.write(`${error.message}\n`);
    else if (error instanceof PromptCancelled) process.stderr.write("Cancelled.\n");
    else process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
