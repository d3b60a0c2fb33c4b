/**
 * `npm start`: the relay in local workerd, as close to production as a
 * laptop gets. It applies the D1 migrations to the local database, starts
 * the stand-in OAuth, FCM, APNs, Expo, OneSignal and Huawei servers for every
 * provider that has no real credentials in `.dev.vars` (their keys are
 * generated once and kept in `.standins/`; the OneSignal stand-in knows the
 * example user), then runs `wrangler dev` with the real wrangler.toml:
 * local D1, local Queue, the same Worker. Each push a stand-in accepts is
 * printed as one line. Ctrl-C stops everything.
 *
 *   npm start -- [--port 8787] [--persist-to DIR] [--standins-port 0]
 */
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { StandinClient } from "../standins/client.ts";
import { loadOrCreateKeys, startStandins, workerConfig } from "../standins/index.ts";
import { type ProviderModes, devVars, envFileText, needsStandins, providerModes, secretsToGenerate } from "./lib/dev-plan.ts";
import { EXAMPLE_APNS_TOKEN, EXAMPLE_CUSTOM_ID, EXAMPLE_FCM_TOKEN, deviceTokenCommands } from "./lib/examples.ts";
import { type LocalEnv, firstOf, fromDevVars, readLocalEnv } from "./lib/local-env.ts";
import { forgetLocalRelay, recordLocalRelay } from "./lib/local-relay.ts";
import { type GeneratedSecret, LOCAL_SECRETS_FILE, loadOrCreateLocalSecrets } from "./lib/local-secrets.ts";
import { DEFAULT_HOST, DEFAULT_PORT, ROOT, STANDINS_DIR, WEBHOOK_PATH } from "./lib/project.ts";
import { type DevServer, applyLocalMigrations, startDevServer } from "./lib/wrangler.ts";

const USAGE = `Usage: npm start -- [options]

  --port N            port of the relay (default ${DEFAULT_PORT})
  --persist-to DIR    where local D1 and Queue state live (default .wrangler/state)
  --standins-port N   port of the stand-in FCM/APNs/Expo/OneSignal/Huawei server (default: any free port)
  -h, --help          this text`;

/** The env file this run hands wrangler dev (`.dev.vars` plus what the run adds); owner-only, removed at the end. */
const ENV_FILE = join(STANDINS_DIR, "wrangler-dev.env");

/** Writes ENV_FILE, readable by its owner only, before anything is in it. */
function writeEnvFile(text: string): void {
  mkdirSync(STANDINS_DIR, { recursive: true });
  writeFileSync(ENV_FILE, "", { mode: 0o600 });
  chmodSync(ENV_FILE, 0o600);
  writeFileSync(ENV_FILE, text);
}

/** How long wrangler gets to stop on its own before it is killed. */
const STOP_GRACE_MS = 5_000;

const say = (line = "") => process.stdout.write(`${line}\n`);

function parsePort(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`${name} must be a port number, not "${value}"`);
  return port;
}

class UsageError extends Error {}

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string" },
        "persist-to": { type: "string" },
        "standins-port": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    say(USAGE);
    process.exit(0);
  }
  return {
    port: parsePort(values.port, DEFAULT_PORT, "--port"),
    persistTo: values["persist-to"],
    standinsPort: parsePort(values["standins-port"], 0, "--standins-port"),
  };
}

function describeProviders(modes: ProviderModes, standinsUrl: string | null, keysAreNew: boolean): string[] {
  const lines: string[] = [];
  if (modes.fcm === "real") lines.push("  FCM     real: FCM_SERVICE_ACCOUNT from .dev.vars");
  else lines.push(`  FCM     stand-in at ${standinsUrl} (no FCM_SERVICE_ACCOUNT in .dev.vars)`);
  if (modes.apns === "real") {
    lines.push("  APNs    real: APNS_KEY from .dev.vars");
    lines.push("          (Apple requires HTTP/2, which local workerd cannot speak: real APNs works once deployed)");
  } else lines.push(`  APNs    stand-in at ${standinsUrl} (no APNS_KEY in .dev.vars)`);
  if (modes.expo === "real") lines.push("  Expo    real: EXPO_ACCESS_TOKEN or EXPO_API_BASE from .dev.vars");
  else lines.push(`  Expo    stand-in at ${standinsUrl} (no EXPO_ACCESS_TOKEN or EXPO_API_BASE in .dev.vars)`);
  if (modes.onesignal === "real") lines.push("  OneSignal real: ONESIGNAL_APP_ID and ONESIGNAL_API_KEY from .dev.vars");
  else {
    lines.push(`  OneSignal stand-in at ${standinsUrl} (no ONESIGNAL_API_KEY in .dev.vars):`);
    lines.push(`          users without a device go there; it knows the example user ${EXAMPLE_CUSTOM_ID}`);
  }
  if (modes.hms === "real") lines.push("  Huawei  real: HMS_APP_ID and HMS_APP_SECRET from .dev.vars");
  else lines.push(`  Huawei  stand-in at ${standinsUrl} (no HMS_APP_SECRET in .dev.vars)`);
  if (needsStandins(modes)) {
    lines.push(`          stand-in credentials: .standins/ (${keysAreNew ? "generated just now" : "from an earlier run"})`);
  }
  return lines;
}

interface BannerFacts {
  url: string;
  env: LocalEnv;
  modes: ProviderModes;
  /** Names that came from .dev.vars.example. */
  defaults: string[];
  /** Names whose values were generated for this checkout (kept in .standins/). */
  generated: GeneratedSecret[];
  /** What this run adds on top of .dev.vars. */
  vars: Record<string, string>;
  standinsUrl: string | null;
  keysAreNew: boolean;
  persistTo: string | undefined;
}

function banner({ url, env, modes, defaults, generated, vars, standinsUrl, keysAreNew, persistTo }: BannerFacts): string[] {
  const source = (name: string) =>
    (generated as string[]).includes(name)
      ? `.standins/${LOCAL_SECRETS_FILE}, generated for this checkout`
      : defaults.includes(name)
        ? ".dev.vars.example"
        : ".dev.vars";
  // A register key this run supplies is printed; one from .dev.vars stays in the user's shell.
  const registerKey = firstOf(vars.RELAY_REGISTER_KEY) ?? "$RELAY_REGISTER_KEY";
  const apiKeyFromExample = defaults.includes("RELAY_API_KEY");
  const apiKey = apiKeyFromExample ? (env.example.RELAY_API_KEY ?? "").split(/\s+/)[0]! : "$RELAY_API_KEY";
  const behindAccess = fromDevVars(env, "ACCESS_TEAM_DOMAIN") !== undefined && fromDevVars(env, "ACCESS_AUD") !== undefined;
  // Suggest a device this run can deliver to: a stand-in one when there is a stand-in.
  const device: { provider: "fcm" | "apns"; token: string } =
    modes.fcm === "standin"
      ? { provider: "fcm", token: EXAMPLE_FCM_TOKEN }
      : modes.apns === "standin"
        ? { provider: "apns", token: EXAMPLE_APNS_TOKEN }
        : { provider: "fcm", token: "<an FCM token from your app>" };
  return [
    "",
    `LearnInk push relay running at ${url}`,
    `  webhook POST ${url}${WEBHOOK_PATH} (LEARNINK_WEBHOOK_SECRET from ${source("LEARNINK_WEBHOOK_SECRET")})`,
    `  API     ${url}/v1/... (Bearer RELAY_API_KEY from ${source("RELAY_API_KEY")})`,
    ...(source("RELAY_REGISTER_KEY") === source("DEVICE_TOKEN_SECRET")
      ? [`          RELAY_REGISTER_KEY and DEVICE_TOKEN_SECRET from ${source("RELAY_REGISTER_KEY")}`]
      : [`          RELAY_REGISTER_KEY from ${source("RELAY_REGISTER_KEY")}`, `          DEVICE_TOKEN_SECRET from ${source("DEVICE_TOKEN_SECRET")}`]),
    behindAccess
      ? `  console ${url}/admin (behind Cloudflare Access: ACCESS_TEAM_DOMAIN and ACCESS_AUD are set in .dev.vars)`
      : `  console ${url}/admin (sign in with ${apiKeyFromExample ? `the admin key ${apiKey}` : "RELAY_API_KEY from .dev.vars"})`,
    ...describeProviders(modes, standinsUrl, keysAreNew),
    `  D1 and Queue: local, in ${persistTo ?? ".wrangler/state"}`,
    "",
    "Next, in another terminal:",
    `  1. register a device as the app does, with a device token for its user${registerKey.startsWith("$") ? " (RELAY_REGISTER_KEY set in your shell)" : ""}`,
    `     (minted here by the relay with the register key; docs/app-integration.md signs one in a few lines of Node):`,
    ...deviceTokenCommands({ origin: url, registerKey, ...device }).split("\n").map((l) => `     ${l}`),
    "  2. send an example notification, signed like LearnInk's:",
    // It finds this relay on its own, whatever the port (.wrangler/local-relay.json).
    "     npm run send-example",
    ...tryNext(url, apiKey),
    "",
    `${standinsUrl ? "Pushes that reach the stand-ins are printed below. " : ""}Ctrl-C stops everything.`,
    "",
  ];
}

/** How to try the settings check, opens and quiet hours: a line or two each. */
function tryNext(url: string, apiKey: string): string[] {
  const auth = apiKey.startsWith("$") ? `"Authorization: Bearer ${apiKey}"` : `'Authorization: Bearer ${apiKey}'`;
  return [
    "  3. check the provider settings (nobody is notified; also the console's Check settings button):",
    `     curl -s -X POST -H ${auth} ${url}/v1/check`,
    "  4. report a tap as the app does, with the device token of step 1 and the svix-id send-example printed:",
    `     curl -X POST ${url}/v1/opens -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"event_id":"<svix-id>","index":0}'`,
    "  5. quiet hours: set QUIET_HOURS=21:00-07:30 (and DEFAULT_TIME_ZONE, or a device's time_zone) in .dev.vars",
    "     or wrangler.toml [vars], restart: a push inside the window is held and sent when it ends.",
  ];
}

async function main(): Promise<number> {
  const { port, persistTo, standinsPort } = options();
  const env = readLocalEnv(ROOT);
  const modes = providerModes(env);
  if (env.devVars === null) say("No .dev.vars: using the defaults in .dev.vars.example.");

  let standins: Awaited<ReturnType<typeof startStandins>> | null = null;
  let keysAreNew = false;
  let server: DevServer | null = null;
  let stopping = false;

  const cleanup = async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill("SIGINT");
      const kill = setTimeout(() => server?.child.kill("SIGKILL"), STOP_GRACE_MS);
      await server.exited;
      clearTimeout(kill);
    }
    await standins?.close();
    standins = null;
    rmSync(ENV_FILE, { force: true });
    forgetLocalRelay(process.pid);
  };
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal === "SIGINT" ? "Ctrl-C" : signal}: stopping the relay${standins ? " and the stand-ins" : ""}...`);
    void cleanup().then(() => {
      say("Stopped.");
      process.exit(0);
    });
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, stop);

  try {
    if (needsStandins(modes)) {
      keysAreNew = !existsSync(join(STANDINS_DIR, "keys.json"));
      const keys = await loadOrCreateKeys(STANDINS_DIR);
      standins = await startStandins({ port: standinsPort, keys, print: say });
      // The example user has the app and a push subscription in OneSignal, as a company on OneSignal has.
      await new StandinClient(standins.url).oneSignalUsers({ app_id: keys.onesignal.appId, external_ids: [EXAMPLE_CUSTOM_ID], state: "subscribed" });
    }
    const localSecrets = secretsToGenerate(env).length > 0 ? loadOrCreateLocalSecrets(STANDINS_DIR) : {};
    const { vars, defaults, generated } = devVars(env, modes, standins ? workerConfig(standins.url, standins.keys) : null, localSecrets);
    for (const name of ["LEARNINK_WEBHOOK_SECRET", "RELAY_API_KEY"]) {
      if (fromDevVars(env, name) === undefined && !defaults.includes(name)) say(`Warning: ${name} is not set in .dev.vars or .dev.vars.example.`);
    }

    say("Applying D1 migrations to the local database...");
    const applied = await applyLocalMigrations({ persistTo });
    say(applied.length > 0 ? `  applied ${applied.join(", ")}` : "  up to date");
    if (stopping) return 0;

    writeEnvFile(envFileText(env.devVars, vars));
    say("Starting wrangler dev (local workerd, D1 and Queue)...");
    // wrangler's start-up chatter (the bindings table, twice) is kept back and
    // shown only if it fails to start; from "Ready" on, every line goes through.
    let startup: string[] | null = [];
    server = startDevServer({
      port,
      host: DEFAULT_HOST,
      persistTo,
      envFile: ENV_FILE,
      onLine: (line, stream) => {
        if (startup) startup.push(line);
        else (stream === "stderr" ? process.stderr : process.stdout).write(`${line}\n`);
      },
    });
    let url: string;
    try {
      url = await server.ready;
    } catch (error) {
      if (!stopping) process.stderr.write(`${startup.join("\n")}\n`);
      throw error;
    }
    startup = null;
    recordLocalRelay({ url, pid: process.pid, standins: standins?.url ?? null });
    const facts = { url, env, modes, defaults, generated, vars, standinsUrl: standins?.url ?? null, keysAreNew, persistTo };
    for (const line of banner(facts)) say(line);

    const code = await server.exited;
    if (stopping) return new Promise<number>(() => {}); // stop() exits once cleanup is done
    say(`wrangler dev exited (${code}).`);
    await cleanup();
    return typeof code === "number" ? code || 1 : 1;
  } catch (error) {
    if (stopping) return new Promise<number>(() => {});
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    await cleanup();
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof UsageError ? `${error.message}\n\n${USAGE}` : String(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
