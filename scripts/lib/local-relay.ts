/**
 * Where the relay that `npm start` runs can be found: its URL, kept in a
 * small file while it runs, so `npm run send-example` reaches it on
 * whatever port it was started (`npm start -- --port 8788`) without being
 * told. The file names the process that wrote it; a file whose process is
 * gone (a crash, a kill -9) is ignored.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ROOT } from "./project.ts";

/** Inside wrangler's own (git-ignored) folder, beside the local D1 and Queue state. */
export const LOCAL_RELAY_FILE = join(ROOT, ".wrangler", "local-relay.json");

export interface LocalRelay {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** The `npm start` process. */
  pid: number;
  /** The stand-ins' URL (their control API is under /__standin/); null when every provider is real. */
  standins: string | null;
}

/** Records the running relay (called once wrangler dev is ready). */
export function recordLocalRelay(relay: LocalRelay, file = LOCAL_RELAY_FILE): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(relay)}\n`);
}

/** Forgets the relay, if the file is still this process's (another `npm start` may have written it since). */
export function forgetLocalRelay(pid: number, file = LOCAL_RELAY_FILE): void {
  if (readLocalRelay(file)?.pid === pid) rmSync(file, { force: true });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** The relay `npm start` is running now, or null (none recorded, unreadable, or its process is gone). */
export function readLocalRelay(file = LOCAL_RELAY_FILE): LocalRelay | null {
  let relay: Partial<LocalRelay>;
  try {
    relay = JSON.parse(readFileSync(file, "utf8")) as Partial<LocalRelay>;
  } catch {
    return null;
  }
  if (typeof relay.url !== "string" || typeof relay.pid !== "number" || !alive(relay.pid)) return null;
  return { url: relay.url, pid: relay.pid, standins: typeof relay.standins === "string" ? relay.standins : null };
}
