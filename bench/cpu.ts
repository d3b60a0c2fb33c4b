/**
 * CPU time of the workerd processes, read from /proc (utime + stime, all
 * threads). On a 2-core machine the load generator, the stand-ins and
 * workerd share the cores, so wall-clock latency mixes all three; CPU time
 * spent inside workerd is the relay's own cost.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime, in clock ticks. */
  ticks: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may itself contain spaces.
    const close = text.lastIndexOf(")");
    const comm = text.slice(text.indexOf("(") + 1, close);
    const fields = text.slice(close + 2).split(" ");
    // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    return { pid, comm, ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined; // the process ended meanwhile
  }
}

function allProcesses(): ProcStat[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readStat(Number(name)))
    .filter((stat): stat is ProcStat => stat !== undefined);
}

/** The workerd processes started (directly or not) by `ancestor`, or every workerd when it is undefined. */
export function findWorkerdPids(ancestor: number | undefined = process.pid): number[] {
  const processes = allProcesses();
  const parentOf = new Map(processes.map((p) => [p.pid, p.ppid]));
  const descends = (pid: number) => {
    for (let p = parentOf.get(pid); p !== undefined && p > 1; p = parentOf.get(p)) if (p === ancestor) return true;
    return false;
  };
  return processes.filter((p) => p.comm === "workerd" && (ancestor === undefined || descends(p.pid))).map((p) => p.pid);
}

/** CPU milliseconds consumed so far by these processes together. */
export function cpuMs(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.ticks ?? 0;
  return (ticks * 1000) / CLOCK_TICKS;
}

/** Measures the CPU these processes spend between `start()` and the returned function's call. */
export function startCpuMeter(pids: readonly number[]): () => number {
  const before = cpuMs(pids);
  return () => cpuMs(pids) - before;
}

/** This Node process's own CPU (load generator and stand-ins), in milliseconds. */
export function startOwnCpuMeter(): () => number {
  const before = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1000;
  };
}
