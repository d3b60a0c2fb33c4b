/**
 * `worker-configuration.d.ts` is generated and committed, and holds only our
 * `Env` (`npm run types`, i.e. `wrangler types --include-runtime=false`); the
 * Workers runtime types come from the pinned `@cloudflare/workers-types`.
 * `wrangler types --check` (in `npm run typecheck`) catches a stale `Env` but
 * not a file regenerated with the runtime types inside, which would silently
 * shadow the package's (skipLibCheck hides the clash): this test does.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./support/local-run.js";

const generated = readFileSync(join(REPO, "worker-configuration.d.ts"), "utf8");
const packageJson = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
  devDependencies: Record<string, string>;
};
const tsconfig = JSON.parse(readFileSync(join(REPO, "tsconfig.json"), "utf8")) as { compilerOptions: { types: string[] } };

describe("worker-configuration.d.ts", () => {
  it("declares Env and no runtime types", () => {
    expect(generated).toMatch(/^interface Env extends /m);
    expect(generated).toContain("--include-runtime=false");
    expect(generated).not.toContain("Runtime types generated");
    // The runtime types are about 16,000 lines; Env and its helpers about 50.
    expect(generated.split("\n").length).toBeLessThan(200);
  });

  it("is generated and checked with the same options", () => {
    const types = packageJson.scripts.types!;
    expect(types).toContain("--include-runtime=false");
    expect(packageJson.scripts.typecheck).toContain(`${types} --check`);
  });

  it("leaves the runtime types to @cloudflare/workers-types", () => {
    expect(packageJson.devDependencies["@cloudflare/workers-types"]).toMatch(/^\d+\.\d+\.\d+$/);
    expect(tsconfig.compilerOptions.types).toContain("@cloudflare/workers-types");
  });
});
