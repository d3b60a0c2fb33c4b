/**
 * `npm run deploy` against the Cloudflare API stand-in answering as real
 * accounts sometimes do (support/cloudflare-api.ts `inject`): a trigger
 * change that fails once leaves the account half-done, and the rerun reads
 * that back and repairs it; a dashboard edit after a good deploy is what
 * `--check` reports (exit 1, nothing changed) and the next deploy repairs;
 * a long version list is read page by page; a 429 is waited out; a token
 * without a permission is told which one in a sentence, never a stack
 * trace; an account-owned token deploys without any user-level call.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CloudflareApiStandin, startCloudflareApi } from "./support/cloudflare-api.js";
import { ACCOUNT, DLQ, QUEUE, RUN_TIMEOUT_MS, TOKEN, WORKER, callApi, runDeploy } from "./support/deploy-run.js";
import { freshCheckout, removeDir } from "./support/local-run.js";

/** A line of a Node stack trace. */
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;
const WORKER_PATH = `/accounts/${ACCOUNT}/workers/scripts/${WORKER}`;

let checkout: string;

beforeAll(async () => {
  checkout = await freshCheckout();
});

afterAll(async () => {
  if (checkout) await removeDir(checkout);
});

/** The Worker each configured queue has as its consumer (undefined: none). */
function consumerScripts(api: CloudflareApiStandin): Record<string, string | undefined> {
  const of = (queue: string) => api.account.queues.get(queue)?.consumers[0]?.script;
  return { [QUEUE]: of(QUEUE), [DLQ]: of(DLQ) };
}

describe("a deploy that trusts only what it read back", () => {
  let api: CloudflareApiStandin;
  beforeAll(async () => {
    api = await startCloudflareApi({ token: TOKEN, accountId: ACCOUNT });
  });
  afterAll(async () => {
    await api?.close();
  });

  it("a consumer attach that fails once: the run exits 1, the rerun attaches it", async () => {
    api.account.inject({ method: "POST", path: /^\/accounts\/[^/]+\/queues\/[^/]+\/consumers$/, status: 500, code: 10001, message: "Internal error" });
    const first = await runDeploy(checkout, api);
    expect(first.code, first.output).toBe(1);
    expect(first.output).not.toMatch(STACK_LINE);
    const missing = Object.entries(consumerScripts(api)).filter(([, script]) => script === undefined).map(([queue]) => queue);
    expect(missing).toHaveLength(1);

    const rerun = await runDeploy(checkout, api);
    expect(rerun.code, rerun.output).toBe(0);
    expect(rerun.output).toContain(`attach the consumer of ${missing[0]}`);
    expect(rerun.output).not.toContain("Nothing to change");
    expect(consumerScripts(api)).toEqual({ [QUEUE]: WORKER, [DLQ]: WORKER });
    expect(api.account.queues.get(QUEUE)!.consumers[0]).toMatchObject({ settings: { batch_size: 50, max_wait_time_ms: 1000, max_retries: 12 }, dead_letter_queue: DLQ });
    expect(rerun.output).toContain("Verified (read back from the account):");
    expect(rerun.output).toContain(`queue ${QUEUE}: consumed by ${WORKER} (batch 50, timeout 1 s, 12 retries, dead letters to ${DLQ})`);
    expect(api.account.unknown).toEqual([]);
  }, 2 * RUN_TIMEOUT_MS);

  it("a cron update that fails once: the rerun sets the crons", async () => {
    const toml = await readFile(join(checkout, "wrangler.toml"), "utf8");
    await writeFile(join(checkout, "wrangler.toml"), toml.replace('crons = ["17 * * * *"]', 'crons = ["17 * * * *", "45 4 * * *"]'));
    api.account.inject({ method: "PUT", path: `${WORKER_PATH}/schedules`, status: 500, code: 10001, message: "Internal error" });
    const first = await runDeploy(checkout, api);
    expect(first.code, first.output).toBe(1);
    expect(first.output).not.toMatch(STACK_LINE);
    expect(api.account.scripts.get(WORKER)!.schedules.map((s) => s.cron)).toEqual(["17 * * * *"]);

    const rerun = await runDeploy(checkout, api);
    expect(rerun.code, rerun.output).toBe(0);
    expect(rerun.output).toContain("set the crons to 17 * * * *, 45 4 * * * (live: 17 * * * *)");
    expect(api.account.scripts.get(WORKER)!.schedules.map((s) => s.cron).sort()).toEqual(["17 * * * *", "45 4 * * *"]);
  }, 2 * RUN_TIMEOUT_MS);

  it("a consumer detached and workers.dev turned off: --check reports both and exits 1, the deploy repairs them", async () => {
    const queueId = api.account.queues.get(QUEUE)!.queue_id;
    const consumerId = api.account.queues.get(QUEUE)!.consumers[0]!.consumer_id;
    await callApi(api, "DELETE", `/accounts/${ACCOUNT}/queues/${queueId}/consumers/${consumerId}`);
    await callApi(api, "POST", `${WORKER_PATH}/subdomain`, { enabled: false, previews_enabled: false });
    const mutations = api.account.mutations().length;

    const check = await runDeploy(checkout, api, { args: ["--check"] });
    expect(check.code, check.output).toBe(1);
    expect(check.output).toContain(`attach the consumer of ${QUEUE}`);
    expect(check.output).toContain("turn workers.dev on");
    expect(api.account.mutations().slice(mutations)).toEqual([]);

    const repair = await runDeploy(checkout, api);
    expect(repair.code, repair.output).toBe(0);
    expect(consumerScripts(api)).toEqual({ [QUEUE]: WORKER, [DLQ]: WORKER });
    expect(api.account.scripts.get(WORKER)!.subdomainEnabled).toBe(true);

    const after = await runDeploy(checkout, api, { args: ["--check"] });
    expect(after.code, after.output).toBe(0);
    expect(after.output).toContain("No difference");
  }, 3 * RUN_TIMEOUT_MS);

  it("reads every page of a version list longer than one page", async () => {
    // 60 secret changes (as the dashboard makes them): the upload they copied is on the list's second page.
    for (let i = 0; i < 60; i++) await callApi(api, "PUT", `${WORKER_PATH}/secrets`, { name: "RELAY_API_KEY", text: `key-number-${i}-long-enough`, type: "secret_text" });
    const requests = api.account.requests.length;
    const check = await runDeploy(checkout, api, { args: ["--check"] });
    expect(check.code, check.output).toBe(0);
    const pages = api.account.requests.slice(requests).filter((r) => r.path === `${WORKER_PATH}/versions`).map((r) => new URLSearchParams(r.query).get("page"));
    expect(pages).toEqual(["1", "2"]);
  }, RUN_TIMEOUT_MS);

  it("waits as Retry-After says when the API answers 429, then goes on", async () => {
    api.account.inject({ method: "GET", path: `${WORKER_PATH}/schedules`, status: 429, code: 971, message: "Please wait and consider throttling your request speed", retryAfter: 1 });
    const requests = api.account.requests.length;
    const check = await runDeploy(checkout, api, { args: ["--check"] });
    expect(check.code, check.output).toBe(0);
    expect(check.output).toContain("waiting 1 s");
    const reads = api.account.requests.slice(requests).filter((r) => r.path === `${WORKER_PATH}/schedules`);
    expect(reads.map((r) => r.status)).toEqual([429, 200]);
    // Waited (no upper bound: a loaded machine may take longer).
    expect(reads[1]!.at - reads[0]!.at).toBeGreaterThanOrEqual(900);
  }, RUN_TIMEOUT_MS);
});

describe("tokens", () => {
  it("an account-owned token (no User Details, no Memberships) deploys with CLOUDFLARE_ACCOUNT_ID set", async () => {
    const api = await startCloudflareApi({ token: TOKEN, accountId: ACCOUNT });
    try {
      api.account.inject({ path: /^\/(user(\/.*)?|memberships|accounts)$/, status: 403, code: 9109, message: "Unauthorized to access requested resource", times: "always" });
      const run = await runDeploy(checkout, api, { env: { CLOUDFLARE_ACCOUNT_ID: ACCOUNT } });
      expect(run.code, run.output).toBe(0);
      expect(api.account.requests.filter((r) => !r.path.startsWith(`/accounts/${ACCOUNT}/`))).toEqual([]);
      expect(consumerScripts(api)).toEqual({ [QUEUE]: WORKER, [DLQ]: WORKER });
      expect(run.output).toContain("Verified (read back from the account):");
    } finally {
      await api.close();
    }
  }, RUN_TIMEOUT_MS);

  it.each([
    ["D1, read by the deploy itself", { path: /\/d1\//, status: 403, code: 10000, times: "always" as const }, /Cloudflare refused GET \/accounts\/\w+\/d1\/database\/[\w-]+ \(403\): the API token needs Account · D1 Edit/],
    ["Queues, when wrangler creates one", { method: "POST", path: `/accounts/${ACCOUNT}/queues`, status: 403, code: 10000, times: "always" as const }, /Cloudflare refused `wrangler queues create` \(\/accounts\/\w+\/queues\) \(403\): the API token needs Account · Queues Edit/],
  ])("a 403 on %s names the permission in one sentence, without a stack trace", async (_, fault, sentence) => {
    const api = await startCloudflareApi({ token: TOKEN, accountId: ACCOUNT });
    try {
      api.account.inject(fault);
      const run = await runDeploy(checkout, api, { env: { CLOUDFLARE_ACCOUNT_ID: ACCOUNT } });
      expect(run.code, run.output).toBe(1);
      expect(run.output).toMatch(sentence);
      expect(run.output).toContain("docs/deploy-token.md");
      expect(run.output).not.toMatch(STACK_LINE);
    } finally {
      await api.close();
    }
  }, RUN_TIMEOUT_MS);
});
