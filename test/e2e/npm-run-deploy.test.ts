/**
 * `npm run deploy` end to end against a stand-in of the Cloudflare API
 * (support/cloudflare-api.ts): a fresh checkout, the real script and the
 * real wrangler, which reaches the stand-in through CLOUDFLARE_API_BASE_URL.
 * The first run creates the database and both queues, applies every
 * migration, deploys and lists the missing secrets; a secret set with the
 * printed command is found; a second run changes nothing; a new migration
 * and a changed setting are applied alone; the settings check after each
 * run waits for the admin key, says how to run it, or warns when the
 * Worker cannot be reached (never failing the deploy). An account without a
 * workers.dev subdomain or a wrong token stop the run before anything
 * changes, and `--dry-run` contacts nothing.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SECRETS } from "../../scripts/lib/secrets.ts";
import { type CloudflareApiStandin, startCloudflareApi } from "./support/cloudflare-api.js";
import { ACCOUNT, DATABASE, DLQ, QUEUE, RUN_TIMEOUT_MS, type Run, TOKEN, WORKER, deployEnv, runDeploy } from "./support/deploy-run.js";
import { REPO, freshCheckout, removeDir, runCommand } from "./support/local-run.js";

async function deploy(cwd: string, api: CloudflareApiStandin, args: string[] = [], token: string | null = TOKEN): Promise<Run> {
  return runDeploy(cwd, api, { args, token });
}

let api: CloudflareApiStandin;
let checkout: string;
let migrations: string[];

beforeAll(async () => {
  api = await startCloudflareApi({ token: TOKEN, accountId: ACCOUNT, subdomain: "acme-team" });
  checkout = await freshCheckout();
  migrations = (await readdir(join(REPO, "migrations"))).filter((f) => f.endsWith(".sql")).sort();
});

afterAll(async () => {
  await api?.close();
  if (checkout) await removeDir(checkout);
});

describe("npm run deploy against the Cloudflare API stand-in", () => {
  it("--dry-run prints the plan and contacts nothing", async () => {
    const run = await deploy(checkout, api, ["--dry-run"], null);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain(`Worker ${WORKER}`);
    expect(run.output).toContain(`D1 ${DATABASE} (binding DB): created if missing`);
    expect(run.output).toContain(`queue ${QUEUE}: created if missing`);
    expect(run.output).toContain(`queue ${DLQ}: created if missing`);
    for (const file of migrations) expect(run.output).toContain(file);
    for (const secret of ["LEARNINK_WEBHOOK_SECRET (required)", "RELAY_API_KEY (required)", "FCM_SERVICE_ACCOUNT (optional)", "APNS_KEY (optional)"]) {
      expect(run.output).toContain(secret);
    }
    expect(api.account.requests).toEqual([]);
  }, RUN_TIMEOUT_MS);

  it("a first run creates the database and both queues, applies every migration, deploys and lists the missing secrets", async () => {
    const toml = await readFile(join(checkout, "wrangler.toml"), "utf8");
    const run = await deploy(checkout, api);
    expect(run.code, run.output).toBe(0);
    expect(api.account.unknown).toEqual([]);

    // Created once each, by name from wrangler.toml, which stays as it was.
    expect([...api.account.databases.keys()]).toEqual([DATABASE]);
    expect([...api.account.queues.keys()].sort()).toEqual([QUEUE, DLQ]);
    expect(api.account.mutations().filter((m) => m === `POST /accounts/${ACCOUNT}/d1/database`)).toHaveLength(1);
    expect(api.account.mutations().filter((m) => m === `POST /accounts/${ACCOUNT}/queues`)).toHaveLength(2);
    expect(await readFile(join(checkout, "wrangler.toml"), "utf8")).toBe(toml);

    // The schema is really there: every migration recorded, the tables created.
    expect(api.account.query(DATABASE, "SELECT name FROM d1_migrations ORDER BY id").map((r) => r.name)).toEqual(migrations);
    const tables = api.account.query(DATABASE, "SELECT name FROM sqlite_master WHERE type = 'table'").map((r) => r.name);
    expect(tables).toEqual(expect.arrayContaining(["devices", "deliveries", "d1_migrations"]));

    // The Worker: bound to that database and queue, consuming both queues, with its cron, on workers.dev.
    const script = api.account.scripts.get(WORKER)!;
    expect(script.deployments).toHaveLength(1);
    const bindings = script.versions.at(-1)!.bindings;
    expect(bindings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: "d1", name: "DB", id: api.account.databases.get(DATABASE)!.uuid }),
        expect.objectContaining({ type: "queue", name: "PUSH_QUEUE", queue_name: QUEUE }),
      ]),
    );
    expect(script.versions.at(-1)!.annotations["workers/tag"]).toMatch(/^build-[0-9a-f]{16}$/);
    const consumer = api.account.queues.get(QUEUE)!.consumers;
    expect(consumer).toEqual([expect.objectContaining({ script: WORKER, dead_letter_queue: DLQ })]);
    expect(api.account.queues.get(DLQ)!.consumers).toEqual([expect.objectContaining({ script: WORKER })]);
    expect(script.schedules.map((s) => s.cron)).toHaveLength(1);
    expect(script.subdomainEnabled).toBe(true);

    // What is left to the user, with the exact commands.
    expect(run.output).toContain("LEARNINK_WEBHOOK_SECRET (required)");
    expect(run.output).toContain("      npx wrangler secret put LEARNINK_WEBHOOK_SECRET\n");
    expect(run.output).toContain("      npx wrangler secret put RELAY_API_KEY\n");
    expect(run.output).toContain("      npx wrangler secret put FCM_SERVICE_ACCOUNT < service-account.json\n");
    expect(run.output).toContain("      npx wrangler secret put APNS_KEY < AuthKey_XXXXXXXXXX.p8\n");
    expect(run.output).toContain(`https://${WORKER}.acme-team.workers.dev/webhooks/learnink`);
    expect(run.output).toContain(`curl https://${WORKER}.acme-team.workers.dev/healthz`);
    expect(run.output).toContain("Not ready yet: LEARNINK_WEBHOOK_SECRET and RELAY_API_KEY are still missing");
    // No admin key on the Worker yet: the settings check waits for it.
    expect(run.output).toContain("Skipped: the Worker has no RELAY_API_KEY yet. Once it has, run:");
    expect(run.output).toContain(`curl -sS -X POST -H "Authorization: Bearer $RELAY_API_KEY" https://${WORKER}.acme-team.workers.dev/v1/check`);
  }, RUN_TIMEOUT_MS);

  it("finds a secret set with the printed command, and a second run changes nothing", async () => {
    // `npx wrangler secret put RELAY_API_KEY`, the value piped in.
    const put = await runCommand(
      checkout,
      process.execPath,
      [join(checkout, "node_modules", "wrangler", "bin", "wrangler.js"), "secret", "put", "RELAY_API_KEY"],
      deployEnv(api.baseUrl, TOKEN),
      RUN_TIMEOUT_MS - 5_000,
      "a-long-random-relay-api-key-for-the-test",
    );
    expect(put.code, `${put.stdout}${put.stderr}`).toBe(0);
    expect(api.account.scripts.get(WORKER)!.secrets.get("RELAY_API_KEY")).toBe("a-long-random-relay-api-key-for-the-test");

    const mutations = api.account.mutations().length;
    const sqlWrites = api.account.sqlWrites;
    const run = await deploy(checkout, api);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain("Nothing to change");
    expect(run.output).toContain("Verified (read back from the account):");
    expect(api.account.mutations().slice(mutations)).toEqual([]);
    expect(api.account.sqlWrites).toBe(sqlWrites);
    expect(run.output).not.toContain("secret put RELAY_API_KEY");
    expect(run.output).toContain("      npx wrangler secret put LEARNINK_WEBHOOK_SECRET\n");
    expect(run.output).toContain("Not ready yet: LEARNINK_WEBHOOK_SECRET is still missing");
    // The key is on the Worker but not in this shell: the script cannot read a secret back, so it says how to run the check.
    expect(run.output).toContain("Skipped: the admin key is a secret this script cannot read back");
    expect(run.output).toContain(`curl -sS -X POST -H "Authorization: Bearer $RELAY_API_KEY" https://${WORKER}.acme-team.workers.dev/v1/check`);
  }, RUN_TIMEOUT_MS);

  it("applies a new migration and deploys a changed setting, and creates nothing", async () => {
    await writeFile(join(checkout, "migrations", "9999_deploy_test.sql"), "CREATE TABLE deploy_test (id INTEGER PRIMARY KEY);\n");
    const toml = await readFile(join(checkout, "wrangler.toml"), "utf8");
    await writeFile(join(checkout, "wrangler.toml"), toml.replace(/^MAX_SUBREQUESTS = "\d+"/m, 'MAX_SUBREQUESTS = "50"'));
    const mutations = api.account.mutations().length;
    const versions = api.account.scripts.get(WORKER)!.versions.length;

    // With RELAY_API_KEY in the shell the deploy runs the check; the deployed Worker is not reachable from
    // here (its workers.dev name is the stand-in account's), so the check is a warning, not a failed deploy.
    const run = await runDeploy(checkout, api, { env: { RELAY_API_KEY: "a-long-random-relay-api-key-for-the-test" } });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/Warning: (the Worker at https:\/\/learnink-push-relay\.acme-team\.workers\.dev could not be reached|the check did not run)/);
    expect(run.output).toContain("The deploy itself succeeded");
    expect(run.output).toContain(`apply 1 migration(s) to ${DATABASE}: 9999_deploy_test.sql`);
    expect(run.output).toContain("deploy the Worker learnink-push-relay (code or config changed)");
    expect(api.account.query(DATABASE, "SELECT name FROM d1_migrations ORDER BY id").map((r) => r.name)).toEqual([...migrations, "9999_deploy_test.sql"]);
    const created = api.account.mutations().slice(mutations).filter((m) => m.endsWith("/d1/database") || m.endsWith("/queues"));
    expect(created).toEqual([]);
    const script = api.account.scripts.get(WORKER)!;
    expect(script.versions).toHaveLength(versions + 1);
    expect(script.versions.at(-1)!.bindings).toContainEqual(expect.objectContaining({ name: "MAX_SUBREQUESTS", text: "50" }));
    // Secrets survive a deploy.
    expect(script.secrets.has("RELAY_API_KEY")).toBe(true);
    expect(run.output).not.toContain("secret put RELAY_API_KEY");
  }, RUN_TIMEOUT_MS);

  it("stops before changing anything on an account without a workers.dev subdomain", async () => {
    const bare = await startCloudflareApi({ token: TOKEN, accountId: ACCOUNT, subdomain: null });
    try {
      const run = await deploy(checkout, bare);
      expect(run.code, run.output).toBe(1);
      expect(run.output).toContain(`https://dash.cloudflare.com/${ACCOUNT}/workers/onboarding`);
      expect(bare.account.mutations()).toEqual([]);
      expect(bare.account.databases.size + bare.account.queues.size).toBe(0);
    } finally {
      await bare.close();
    }
  }, RUN_TIMEOUT_MS);

  it("says to log in when the token is refused", async () => {
    const requests = api.account.requests.length;
    const run = await deploy(checkout, api, [], "not-the-token");
    expect(run.code, run.output).toBe(1);
    expect(run.output).toContain("npx wrangler login");
    const seen = api.account.requests.slice(requests);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((r) => r.method === "GET" && r.status >= 400)).toBe(true);
  }, RUN_TIMEOUT_MS);
});

describe("the secrets the deploy checks", () => {
  it("are exactly the secrets .dev.vars.example declares (the names `npm run types` gives Env)", async () => {
    const example = await readFile(join(REPO, ".dev.vars.example"), "utf8");
    const toml = await readFile(join(REPO, "wrangler.toml"), "utf8");
    const vars = new Set([...toml.matchAll(/^([A-Z][A-Z0-9_]*)\s*=/gm)].map((m) => m[1]!));
    const declared = [...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!).filter((name) => !vars.has(name));
    expect(SECRETS.map((s) => s.name).sort()).toEqual(declared.sort());
  });
});
