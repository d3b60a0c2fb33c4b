/**
 * Where things are: the project root (whatever the current directory) and
 * the wrangler CLI that package.json pins, run with the same Node as the
 * script so the system Node's version never matters.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: the folder above scripts/. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The pinned wrangler's entry point (run as `process.execPath WRANGLER_BIN ...`). */
export const WRANGLER_BIN = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

/** Where the dev run keeps what it generates: the stand-ins' credentials and local secrets (git-ignored). */
export const STANDINS_DIR = join(ROOT, ".standins");

/** The local relay's defaults, also used by send-example. */
export const DEFAULT_PORT = 8787;
export const DEFAULT_HOST = "127.0.0.1";
export const WEBHOOK_PATH = "/webhooks/learnink";

/**
 * Environment for wrangler's child processes: no telemetry, and no attempt
 * to download the `Request.cf` sample object (offline it only prints a
 * stack trace on every start).
 */
export function wranglerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    ...extra,
  };
}
