/**
 * Builds the Worker exactly as a deploy would upload it
 * (`wrangler deploy --dry-run`), so the bench measures the shipped bundle
 * rather than a test build.
 */
import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Bundles the Worker of `root` into a fresh temporary directory; returns the entry module's path. */
export async function buildWorker(root: string): Promise<string> {
  const outdir = await mkdtemp(join(tmpdir(), "relay-bench-"));
  const wranglerPackage = createRequire(join(root, "package.json")).resolve("wrangler/package.json");
  const wrangler = join(dirname(wranglerPackage), "bin", "wrangler.js");
  try {
    await run(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", outdir], {
      cwd: root,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`wrangler deploy --dry-run failed:\n${stderr || stdout || String(error)}`, { cause: error });
  }
  return join(outdir, "index.js");
}
