/**
 * The deploy step that can run offline: `wrangler deploy --dry-run` bundles
 * the Worker with the real wrangler.toml (no nodejs_compat, so a Node-only
 * import anywhere in src/ fails here even though the workerd test pool would
 * accept it) and lists the bindings the deployed Worker will get.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { RATE_LIMITS } from "../../src/http/rate-limit-config.ts";
import { REPO, removeDir } from "./support/local-run.js";

/** Workers' compressed size limit on the free plan (3 MB; 10 MB on paid plans). */
const FREE_PLAN_LIMIT_BYTES = 3 * 1024 * 1024;

let outdir: string | undefined;
afterAll(async () => {
  if (outdir) await removeDir(outdir);
});

describe("wrangler deploy --dry-run", () => {
  it("bundles the Worker with the real wrangler.toml", async () => {
    outdir = await mkdtemp(join(tmpdir(), "learnink-relay-bundle-"));
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        process.execPath,
        [join(REPO, "node_modules", "wrangler", "bin", "wrangler.js"), "deploy", "--dry-run", "--outdir", outdir!],
        { cwd: REPO, env: { ...process.env, WRANGLER_SEND_METRICS: "false", FORCE_COLOR: "0" } },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
      );
    });
    expect(output, output).toContain("--dry-run: exiting now.");
    expect(code).toBe(0);
    for (const binding of ["env.PUSH_QUEUE (learnink-push)", "env.DB (learnink-push-relay)", "env.DEAD_LETTER_QUEUE"]) {
      expect(output).toContain(binding);
    }
    // The Worker's Retry-After comes from src/http/rate-limit-config.ts: it must say what wrangler.toml declares.
    for (const [name, { limit, period }] of Object.entries(RATE_LIMITS)) {
      expect(output).toMatch(new RegExp(`env\\.${name} \\(${limit} requests/${period}s\\)`));
    }
    expect(output.match(/Rate Limit/g)).toHaveLength(Object.keys(RATE_LIMITS).length);

    const bundle = await readFile(join(outdir, "index.js"));
    const gzipped = gzipSync(bundle, { level: 9 }).byteLength;
    expect(gzipped).toBeLessThan(FREE_PLAN_LIMIT_BYTES);
    const reported = /Total Upload: ([\d.]+ KiB) \/ gzip: ([\d.]+ KiB)/.exec(output);
    console.log(`bundle: ${reported ? `${reported[1]} (gzip ${reported[2]})` : `${bundle.byteLength} bytes`}`);
  }, 60_000);
});
