/**
 * Runs the pinned wrangler: any command to completion (the deploy's steps),
 * the local D1 migrations, and `wrangler dev` with its output passed
 * through line by line so the caller can tell when the relay is ready.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { ROOT, WRANGLER_BIN, wranglerEnv } from "./project.ts";

export interface LocalState {
  /** `--persist-to`: where local D1 and Queue state live (wrangler's default: .wrangler/state). */
  persistTo?: string;
}

const persistArgs = (state: LocalState) => (state.persistTo ? ["--persist-to", state.persistTo] : []);

export interface RunOptions {
  /** Added to the environment (e.g. CLOUDFLARE_ACCOUNT_ID once the account is chosen). */
  env?: Record<string, string>;
  /** Written to wrangler's stdin (a secret's value for `secret put`); otherwise stdin is closed. */
  input?: string;
}

/**
 * Runs wrangler to completion, non-interactively (CI=true: no prompts, no
 * edits to wrangler.toml); its output (stdout and stderr) is collected and
 * returned, stdout also on its own for `--json` commands.
 */
export function runWrangler(args: string[], options: RunOptions = {}): Promise<{ code: number | null; output: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRANGLER_BIN, ...args], {
      cwd: ROOT,
      env: wranglerEnv({ CI: "true", FORCE_COLOR: "0", ...options.env }),
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let output = "";
    let stdout = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      stdout += chunk.toString();
    });
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    if (options.input !== undefined) child.stdin?.end(options.input);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output, stdout }));
  });
}

/** `wrangler d1 migrations apply DB --local`, non-interactive; throws with wrangler's output on failure. */
export async function applyLocalMigrations(state: LocalState): Promise<string[]> {
  const { code, output } = await runWrangler(["d1", "migrations", "apply", "DB", "--local", ...persistArgs(state)]);
  if (code !== 0) throw new Error(`wrangler d1 migrations apply DB --local failed (exit ${code}):\n${output}`);
  // The last status table lists every migration with ✅; report the ones this run applied.
  if (/No migrations to apply/i.test(output)) return [];
  return [...new Set([...output.matchAll(/(\d{4}_[\w-]+\.sql)/g)].map((m) => m[1]!))];
}

export interface DevServerOptions extends LocalState {
  port: number;
  host: string;
  /** The env file wrangler dev reads instead of `.dev.vars` (see dev-plan.ts): a path, so no value is on the command line. */
  envFile: string;
  /** Every line wrangler prints (stdout and stderr). */
  onLine: (line: string, stream: "stdout" | "stderr") => void;
}

export interface DevServer {
  child: ChildProcess;
  /** Resolves with the URL wrangler prints once it listens; rejects if it exits first. */
  ready: Promise<string>;
  /** Resolves with the exit code (or signal) once wrangler has exited. */
  exited: Promise<number | NodeJS.Signals | null>;
}

/** Starts `wrangler dev` in the foreground process group, so a terminal's Ctrl-C reaches it too. */
export function startDevServer(options: DevServerOptions): DevServer {
  const args = [
    "dev",
    "--ip",
    options.host,
    "--port",
    String(options.port),
    // A random free inspector port, so two local relays never collide on 9229.
    "--inspector-port",
    "0",
    "--show-interactive-dev-session=false",
    ...persistArgs(options),
    "--env-file",
    options.envFile,
  ];
  const child = spawn(process.execPath, [WRANGLER_BIN, ...args], {
    cwd: ROOT,
    // The env file alone: not a variable of this shell with the same name (CLOUDFLARE_INCLUDE_PROCESS_ENV).
    env: wranglerEnv({
      FORCE_COLOR: process.stdout.isTTY ? "1" : "0",
      CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: "true",
      CLOUDFLARE_INCLUDE_PROCESS_ENV: "false",
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.on("exit", (code, signal) => resolve(code ?? signal)),
  );
  const ready = new Promise<string>((resolve, reject) => {
    for (const stream of ["stdout", "stderr"] as const) {
      createInterface({ input: child[stream] }).on("line", (line) => {
        options.onLine(line, stream);
        const match = /Ready on (https?:\/\/\S+)/.exec(stripAnsi(line));
        if (match) resolve(match[1]!);
      });
    }
    child.on("error", reject);
    exited.then((code) => reject(new Error(`wrangler dev exited (${code}) before it was ready`)));
  });
  return { child, ready, exited };
}

// eslint-disable-next-line no-control-regex
export const stripAnsi = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, "");
