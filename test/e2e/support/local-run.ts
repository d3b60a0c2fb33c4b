/**
 * Runs the project the way a new user does, from Node: a fresh copy of the
 * checkout (no `.dev.vars`, `.standins/` or `.wrangler/` of the developer's),
 * `npm start`'s script on free ports, and `npm run send-example`. Every
 * process is started in its own process group so that a test can stop it
 * like Ctrl-C does, and kill whatever is left even when a test fails.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** What a clone has when git is not there to ask: everything the local run reads. */
const FALLBACK_PATHS = ["package.json", "wrangler.toml", ".dev.vars.example", "src", "docs", "migrations", "scripts", "standins"];

/**
 * A copy of the repository's files (tracked, and new ones not ignored) in a
 * temporary folder, sharing this checkout's node_modules.
 */
export async function freshCheckout(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "learnink-relay-e2e-"));
  let files: string[];
  try {
    files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: REPO, encoding: "utf8" })
      .split("\0")
      .filter((f) => f !== "");
  } catch {
    files = FALLBACK_PATHS;
  }
  for (const file of files) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await cp(join(REPO, file), join(dir, file), { recursive: true, force: true }).catch((error: NodeJS.ErrnoException) => {
      // A file deleted in the work tree but still tracked: a clone would not have it either.
      if (error.code !== "ENOENT") throw error;
    });
  }
  await symlink(join(REPO, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface Relay {
  url: string;
  standinsUrl: string;
  /** Everything the dev script printed so far (stdout and stderr). */
  output(): string;
  /** Resolves once the banner is out; rejects if the script exits first (left unawaited, never an unhandled rejection). */
  ready: Promise<void>;
  /** Ctrl-C to the whole process group; SIGKILL after `graceMs`. Resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
}

const live = new Set<ChildProcess>();
// Whatever happens to the test run, no relay outlives it.
process.once("exit", () => {
  for (const child of live) killGroup(child, "SIGKILL");
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** `node scripts/dev.ts ...args` in `cwd`, as `npm start -- ...args` runs it. */
export function startRelay(cwd: string, options: { port: number; standinsPort: number; persistTo: string }): Relay {
  const child = spawn(
    process.execPath,
    [
      join(cwd, "scripts", "dev.ts"),
      "--port",
      String(options.port),
      "--standins-port",
      String(options.standinsPort),
      "--persist-to",
      options.persistTo,
    ],
    { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FORCE_COLOR: "0" } },
  );
  live.add(child);
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  const ready = new Promise<void>((resolve, reject) => {
    const check = () => {
      if (/Ctrl-C stops everything/.test(output)) resolve();
    };
    child.stdout!.on("data", check);
    void exited.then((code) => reject(new Error(`the dev script exited (${code}) before it was ready:\n${output}`)));
  });
  // A caller that awaits `ready` still sees the rejection; one whose setup failed
  // first and stops the script (its exit then rejects) must not get an unhandled one.
  ready.catch(() => {});
  return {
    url: `http://127.0.0.1:${options.port}`,
    standinsUrl: `http://127.0.0.1:${options.standinsPort}`,
    output: () => output,
    ready,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        killGroup(child, "SIGINT");
        const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      // wrangler's and workerd's own children share the group, and outlive a script that
      // exited on its own: make sure none is left.
      killGroup(child, "SIGKILL");
      return exited;
    },
  };
}

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `node scripts/<name>.ts ...args` in `cwd`, to completion (killed after `timeoutMs`). */
export function runScript(cwd: string, name: string, args: string[], timeoutMs = 30_000): Promise<ScriptResult> {
  return runCommand(cwd, process.execPath, [join(cwd, "scripts", `${name}.ts`), ...args], {}, timeoutMs);
}

/**
 * Any program in `cwd`, to completion (killed after `timeoutMs`), with `env`
 * added to this process's environment (an `undefined` value removes the
 * variable) and `input`, when given, written to its stdin.
 */
export function runCommand(
  cwd: string,
  file: string,
  args: string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 30_000,
  input?: string,
): Promise<ScriptResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd,
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env: { ...process.env, FORCE_COLOR: "0", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    if (input !== undefined) child.stdin!.end(input);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Removes a temporary folder, tolerating files workerd may still be closing. */
export const removeDir = (dir: string) => rm(dir, { recursive: true, force: true, maxRetries: 3 });

/** Bearer-authenticated JSON call to the relay's API. */
export async function api(relay: { url: string }, apiKey: string, path: string, init: { method?: string; json?: unknown } = {}) {
  const response = await fetch(`${relay.url}${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${apiKey}`, ...(init.json === undefined ? {} : { "content-type": "application/json" }) },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  return { status: response.status, body: (await response.json().catch(() => null)) as unknown };
}
