/**
 * `npm ci` installs exactly what package-lock.json lists and refuses a lock
 * that misses a package another OS needs. npm only writes the entries of
 * platform binaries that the registry served when the lock was made, so a
 * lock made against a partial registry mirror works on Linux and breaks
 * `npm ci` on macOS and Windows: this test catches that before anyone
 * clones it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./support/local-run.js";

interface LockEntry {
  version?: string;
  integrity?: string;
  link?: boolean;
  optionalDependencies?: Record<string, string>;
}

const lock = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8")) as {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
};
const packages = lock.packages;

/** The lock entry Node's resolution finds for `name` required from `location` (nearest node_modules first). */
function resolveFrom(location: string, name: string): string | null {
  let dir = location;
  for (;;) {
    const candidate = dir === "" ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (dir === "") return null;
    const parent = dir.lastIndexOf("/node_modules/");
    dir = parent === -1 ? "" : dir.slice(0, parent);
  }
}

/** Every installed copy of a package (the root one and nested ones). */
const copiesOf = (name: string) => Object.keys(packages).filter((path) => path === `node_modules/${name}` || path.endsWith(`/node_modules/${name}`));

/** The binaries the team's machines and CI need: macOS (Apple silicon and Intel), Linux and Windows on x64/arm64. */
const REQUIRED_PLATFORMS: Record<string, string[]> = {
  workerd: [
    "@cloudflare/workerd-darwin-arm64",
    "@cloudflare/workerd-darwin-64",
    "@cloudflare/workerd-linux-64",
    "@cloudflare/workerd-linux-arm64",
    "@cloudflare/workerd-windows-64",
  ],
  esbuild: ["@esbuild/darwin-arm64", "@esbuild/darwin-x64", "@esbuild/linux-x64", "@esbuild/linux-arm64", "@esbuild/win32-x64"],
};

describe("package-lock.json", () => {
  it("is a lockfile v3 that npm ci can read", () => {
    expect(lock.lockfileVersion).toBe(3);
  });

  it.each(Object.entries(REQUIRED_PLATFORMS))("locks %s's binary for every platform", (name, platformPackages) => {
    const copies = copiesOf(name);
    expect(copies.length, `${name} is not in the lock`).toBeGreaterThan(0);
    for (const copy of copies) {
      const version = packages[copy]!.version;
      for (const platformPackage of platformPackages) {
        const found = resolveFrom(copy, platformPackage);
        expect(found, `${copy}@${version} needs ${platformPackage} in the lock (run npm install --package-lock-only)`).not.toBeNull();
        expect(packages[found!]!.version, `${found} must match ${copy}`).toBe(version);
        expect(packages[found!]!.integrity, `${found} has no integrity`).toMatch(/^sha512-/);
      }
    }
  });

  it("has an entry for every optional dependency of every locked package", () => {
    const missing: string[] = [];
    for (const [location, entry] of Object.entries(packages)) {
      for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
        const found = resolveFrom(location, name);
        // Exact pins (how platform binaries are declared) must match; ranges only need an entry.
        if (!found || (/^\d+\.\d+\.\d+/.test(range) && packages[found]!.version !== range)) missing.push(`${location} -> ${name}@${range}`);
      }
    }
    expect(missing, "run npm install --package-lock-only against the full registry").toEqual([]);
  });
});
