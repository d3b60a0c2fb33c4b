/**
 * The deploy's decisions as tables (scripts/lib/deploy-plan.ts): what the
 * config asks for, which steps a given account state needs and in which
 * order, which deployed version carries the fingerprint, which secrets and
 * settings are reported. The end-to-end run is npm-run-deploy.test.ts.
 */
import { describe, expect, it } from "vitest";
import {
  type AccountState,
  ConfigError,
  type Step,
  type WranglerConfigSubset,
  deployConfig,
  deployedFingerprint,
  fingerprint,
  missingSecrets,
  pendingMigrations,
  planSteps,
  settingsWarnings,
} from "../../scripts/lib/deploy-plan.ts";
import { SECRETS } from "../../scripts/lib/secrets.ts";

const wrangler = (overrides: Partial<WranglerConfigSubset> = {}): WranglerConfigSubset => ({
  name: "relay",
  vars: { LEARNINK_ORG_ID: "acme" },
  d1_databases: [{ binding: "DB", database_name: "relay-db", migrations_dir: "migrations" }],
  queues: {
    producers: [{ binding: "PUSH_QUEUE", queue: "push" }],
    consumers: [{ queue: "push", dead_letter_queue: "push-dlq", max_batch_size: 4, max_batch_timeout: 1, max_retries: 12 }, { queue: "push-dlq", retry_delay: 60 }],
  },
  triggers: { crons: ["17 * * * *"] },
  ...overrides,
});

const everything = (overrides: Partial<AccountState> = {}): AccountState => ({
  databases: new Map([["relay-db", "uuid-1"]]),
  queues: new Set(["push", "push-dlq"]),
  appliedMigrations: new Map([["relay-db", ["0001_a.sql", "0002_b.sql"]]]),
  deployedFingerprint: "build-aaaa",
  workerExists: true,
  secrets: new Set(),
  subdomain: "acme",
  consumers: new Map([
    ["push", [{ script: "relay", settings: { batch_size: 4, max_wait_time_ms: 1000, max_retries: 12 }, deadLetterQueue: "push-dlq" }]],
    ["push-dlq", [{ script: "relay", settings: { batch_size: 10, retry_delay: 60 }, deadLetterQueue: null }]],
  ]),
  crons: ["17 * * * *"],
  workersDev: true,
  activeBindings: [
    { type: "d1", name: "DB", id: "uuid-1" },
    { type: "queue", name: "PUSH_QUEUE", queue_name: "push" },
    { type: "plain_text", name: "LEARNINK_ORG_ID", text: "acme" },
    { type: "secret_text", name: "RELAY_API_KEY" },
  ],
  ...overrides,
});

const FILES = new Map([["relay-db", ["0002_b.sql", "0001_a.sql"]]]);

describe("deployConfig", () => {
  it("names every queue once: producers, consumers and dead-letter queues", () => {
    const config = deployConfig(wrangler());
    expect(config.queues).toEqual(["push", "push-dlq"]);
    expect(config.databases).toEqual([{ binding: "DB", name: "relay-db", id: null, migrationsDir: "migrations", migrationsTable: "d1_migrations" }]);
    expect(config.crons).toEqual(["17 * * * *"]);
    expect(config.consumers).toEqual([
      { queue: "push", deadLetterQueue: "push-dlq", batchSize: 4, maxWaitTimeMs: 1000, maxRetries: 12 },
      { queue: "push-dlq", retryDelay: 60 },
    ]);
    expect(config.workersDev).toBe(true);
  });

  it.each([
    ["no Worker name", wrangler({ name: "" })],
    ["a database without a name", wrangler({ d1_databases: [{ binding: "DB", database_id: "x" }] })],
  ])("refuses %s", (_, config) => {
    expect(() => deployConfig(config)).toThrow(ConfigError);
  });
});

describe("pendingMigrations", () => {
  it.each([
    [["0002_b.sql", "0001_a.sql"], [], ["0001_a.sql", "0002_b.sql"]],
    [["0001_a.sql", "0002_b.sql"], ["0001_a.sql"], ["0002_b.sql"]],
    [["0001_a.sql", "0002_b.sql"], ["0001_a.sql", "0002_b.sql"], []],
  ])("files %j, applied %j: %j", (files, applied, pending) => {
    expect(pendingMigrations(files, applied)).toEqual(pending);
  });
});

/** A step as a short string for the tables. */
function label(step: Step): string {
  switch (step.kind) {
    case "apply_migrations":
      return `${step.kind}:${step.pending.join(",")}`;
    case "create_database":
    case "create_queue":
      return `${step.kind}:${step.name}`;
    case "deploy":
      return [step.kind, step.reason, ...(step.detail ? [step.detail.join("; ")] : [])].join(":");
    case "attach_consumer":
      return `${step.kind}:${step.queue}`;
    case "update_consumer":
      return `${step.kind}:${step.queue}:${step.differences.join("; ")}`;
    case "update_crons":
      return `${step.kind}:${step.wanted.join(",")}`;
    case "set_workers_dev":
      return `${step.kind}:${step.enabled}`;
  }
}

describe("planSteps", () => {
  const config = deployConfig(wrangler());
  const kinds = (state: AccountState, fp = "build-aaaa") => planSteps(config, state, FILES, fp).map(label);

  it.each<[string, AccountState, string, string[]]>([
    ["an empty account", everything({ databases: new Map(), queues: new Set(), appliedMigrations: new Map(), workerExists: false, deployedFingerprint: null }), "build-aaaa", [
      "create_database:relay-db",
      "create_queue:push",
      "create_queue:push-dlq",
      "apply_migrations:0001_a.sql,0002_b.sql",
      "deploy:new",
    ]],
    ["only the dead-letter queue missing", everything({ queues: new Set(["push"]) }), "build-aaaa", ["create_queue:push-dlq"]],
    ["a new migration", everything({ appliedMigrations: new Map([["relay-db", ["0001_a.sql"]]]) }), "build-aaaa", ["apply_migrations:0002_b.sql"]],
    ["a changed bundle", everything(), "build-bbbb", ["deploy:changed"]],
    ["a Worker deployed by other means", everything({ deployedFingerprint: null }), "build-aaaa", ["deploy:changed"]],
    ["everything in place", everything(), "build-aaaa", []],
    ["the consumer detached", everything({ consumers: new Map([["push", []], ["push-dlq", everything().consumers.get("push-dlq")!]]) }), "build-aaaa", ["attach_consumer:push"]],
    ["another Worker consuming the queue", everything({ consumers: new Map([["push", [{ script: "other", settings: {}, deadLetterQueue: null }]], ["push-dlq", everything().consumers.get("push-dlq")!]]) }), "build-aaaa", ["attach_consumer:push"]],
    ["the consumer's settings changed", everything({ consumers: new Map([["push", [{ script: "relay", settings: { batch_size: 10, max_wait_time_ms: 1000, max_retries: 3 }, deadLetterQueue: null }]], ["push-dlq", everything().consumers.get("push-dlq")!]]) }), "build-aaaa", ["update_consumer:push:max_batch_size 10, configured 4; max_retries 3, configured 12; dead-letter queue none, configured push-dlq"]],
    ["the dead-letter consumer's retry delay changed", everything({ consumers: new Map([["push", everything().consumers.get("push")!], ["push-dlq", [{ script: "relay", settings: { retry_delay: 5 }, deadLetterQueue: null }]]]) }), "build-aaaa", ["update_consumer:push-dlq:retry_delay 5, configured 60"]],
    ["no crons", everything({ crons: [] }), "build-aaaa", ["update_crons:17 * * * *"]],
    ["workers.dev turned off", everything({ workersDev: false }), "build-aaaa", ["set_workers_dev:true"]],
    ["a var changed in the dashboard", everything({ activeBindings: [...everything().activeBindings!.slice(0, 2), { type: "plain_text", name: "LEARNINK_ORG_ID", text: "other" }] }), "build-aaaa", ["deploy:bindings:LEARNINK_ORG_ID points elsewhere"]],
    ["a binding added in the dashboard", everything({ activeBindings: [...everything().activeBindings!, { type: "kv_namespace", name: "CACHE" }] }), "build-aaaa", ["deploy:bindings:CACHE not in wrangler.toml"]],
    ["the database binding missing", everything({ activeBindings: everything().activeBindings!.slice(1) }), "build-aaaa", ["deploy:bindings:DB missing"]],
    ["a new bundle and a detached consumer", everything({ consumers: new Map([["push", []], ["push-dlq", everything().consumers.get("push-dlq")!]]) }), "build-bbbb", ["deploy:changed", "attach_consumer:push"]],
  ])("%s", (_, state, fp, expected) => {
    expect(kinds(state, fp)).toEqual(expected);
  });

  it("refuses to create a database whose id wrangler.toml pins", () => {
    const pinned = deployConfig(wrangler({ d1_databases: [{ binding: "DB", database_name: "relay-db", database_id: "0000" }] }));
    expect(() => planSteps(pinned, everything({ databases: new Map() }), FILES, "build-aaaa")).toThrow(ConfigError);
  });
});

describe("deployedFingerprint", () => {
  const upload = (id: string, tag?: string) => ({ id, annotations: { "workers/triggered_by": "upload", ...(tag ? { "workers/tag": tag } : {}) } });
  const secret = (id: string) => ({ id, annotations: { "workers/triggered_by": "secret" } });

  it.each<[string, string | null, ReturnType<typeof upload>[], string | null]>([
    ["the active upload's tag", "v2", [upload("v2", "build-2222"), upload("v1", "build-1111")], "build-2222"],
    ["through secret changes back to the upload they copied", "v4", [secret("v4"), secret("v3"), upload("v2", "build-2222"), upload("v1", "build-1111")], "build-2222"],
    ["a rollback to an older upload", "v1", [upload("v2", "build-2222"), upload("v1", "build-1111")], "build-1111"],
    ["an upload without our tag", "v2", [upload("v2"), upload("v1", "build-1111")], null],
    ["a tag that is not ours", "v2", [upload("v2", "release-7")], null],
    ["no deployment", null, [upload("v1", "build-1111")], null],
    ["an active version beyond the listed page", "v9", [upload("v2", "build-2222")], null],
  ])("%s", (_, active, versions, expected) => {
    expect(deployedFingerprint(active, versions)).toBe(expected);
  });
});

describe("fingerprint", () => {
  const bundle = [
    { name: "index.js", content: "export default {}" },
    { name: "a.wasm", content: Buffer.from([1, 2, 3]) },
  ];

  it("is stable, independent of file order, and changes with any module or the config", () => {
    const fp = fingerprint(bundle, "name = 'relay'");
    expect(fp).toMatch(/^build-[0-9a-f]{16}$/);
    expect(fingerprint([...bundle].reverse(), "name = 'relay'")).toBe(fp);
    expect(fingerprint([{ ...bundle[0]!, content: "export default { x: 1 }" }, bundle[1]!], "name = 'relay'")).not.toBe(fp);
    expect(fingerprint(bundle, "name = 'relay2'")).not.toBe(fp);
  });
});

describe("secrets and settings reported", () => {
  it("splits the missing secrets into required and optional", () => {
    const missing = missingSecrets(SECRETS, new Set(["RELAY_API_KEY", "APNS_KEY"]));
    expect(missing.required.map((s) => s.name)).toEqual(["LEARNINK_WEBHOOK_SECRET"]);
    expect(missing.optional.map((s) => s.name)).not.toContain("APNS_KEY");
    expect(missing.optional.map((s) => s.name)).toContain("FCM_SERVICE_ACCOUNT");
  });

  it.each<[string, Record<string, string>, string[], RegExp[]]>([
    ["the placeholder org id", { LEARNINK_ORG_ID: "your-org-id" }, [], [/LEARNINK_ORG_ID/]],
    ["an APNs key without its ids", { LEARNINK_ORG_ID: "acme", APNS_KEY_ID: "", APNS_TEAM_ID: "T", APNS_TOPIC: "" }, ["APNS_KEY"], [/APNS_KEY_ID, APNS_TOPIC are empty/]],
    ["a complete APNs setup", { LEARNINK_ORG_ID: "acme", APNS_KEY_ID: "K", APNS_TEAM_ID: "T", APNS_TOPIC: "app" }, ["APNS_KEY"], []],
    ["no APNs key at all", { LEARNINK_ORG_ID: "acme", APNS_KEY_ID: "" }, [], []],
  ])("%s", (_, vars, secrets, expected) => {
    const warnings = settingsWarnings(vars, new Set(secrets));
    expect(warnings).toHaveLength(expected.length);
    expected.forEach((pattern, i) => expect(warnings[i]).toMatch(pattern));
  });

  it.each([
    ["LEARNINK_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", true],
    ["LEARNINK_WEBHOOK_SECRET", "whsec_old= whsec_new=", true],
    ["LEARNINK_WEBHOOK_SECRET", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", false],
    ["DEVICE_TOKEN_SECRET", "x".repeat(32), true],
    ["DEVICE_TOKEN_SECRET", "x".repeat(31), false],
    ["FCM_SERVICE_ACCOUNT", JSON.stringify({ project_id: "p", client_email: "e", private_key: "k" }), true],
    ["FCM_SERVICE_ACCOUNT", "{}", false],
    ["APNS_KEY", "-----BEGIN PRIVATE KEY-----\nMIG...\n-----END PRIVATE KEY-----\n", true],
    ["APNS_KEY", "MIG...", false],
  ])("%s accepts %j: %s", (name, value, ok) => {
    const spec = SECRETS.find((s) => s.name === name)!;
    const problem = spec.check?.(value) ?? null;
    if (ok) expect(problem).toBeNull();
    else expect(problem).toEqual(expect.any(String));
  });
});
