/**
 * What the figures were measured on: they mean little without the cores,
 * the memory, the runtime versions, the code and how busy the machine was.
 */
import { execFileSync } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";

export interface Machine {
  date: string;
  cores: number;
  cpu_model: string;
  memory_gib: number;
  node: string;
  workerd: string;
  miniflare: string;
  wrangler: string;
  /** The commit measured, and whether the Worker's sources had changes on top of it. */
  commit: string | null;
  dirty: boolean | null;
  /** 1-minute load average before the run: other work on the machine skews latency. */
  load_before: number;
}

function git(root: string, args: string[]): string | null {
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

export function describeMachine(root: string, versions: { workerd: string; miniflare: string; wrangler: string }): Machine {
  // Only what goes into the Worker: changes elsewhere do not change the figures.
  const status = git(root, ["status", "--porcelain", "--", "src", "migrations", "wrangler.toml", "package-lock.json"]);
  return {
    date: new Date().toISOString(),
    cores: cpus().length,
    cpu_model: cpus()[0]?.model ?? "unknown",
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    ...versions,
    commit: git(root, ["rev-parse", "--short", "HEAD"]),
    dirty: status === null ? null : status.length > 0,
    load_before: loadavg()[0]!,
  };
}
