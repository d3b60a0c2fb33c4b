/**
 * A suite's setup that fails leaves one clear message: the dev script it
 * started is stopped, its exit is handled, and its `ready`, rejected by
 * that exit, is never an unhandled rejection. A stand-in `scripts/dev.ts`
 * plays the script that exits early, or that is stopped before its banner.
 */
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort, removeDir, startRelay } from "./support/local-run.js";

let dir: string;
const unhandled: unknown[] = [];
const record = (reason: unknown) => unhandled.push(reason);

/** A checkout whose dev script is `source`. */
async function checkoutWith(source: string): Promise<string> {
  const checkout = await mkdtemp(join(dir, "checkout-"));
  await mkdir(join(checkout, "scripts"));
  await writeFile(join(checkout, "scripts", "dev.ts"), source);
  return checkout;
}

const start = async (checkout: string) =>
  startRelay(checkout, { port: await freePort(), standinsPort: await freePort(), persistTo: join(checkout, "state") });

/** Long enough for a rejection nobody handles to be reported. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "learnink-relay-start-"));
  process.on("unhandledRejection", record);
});

afterEach(() => {
  unhandled.length = 0;
});

afterAll(async () => {
  process.off("unhandledRejection", record);
  await removeDir(dir);
});

describe("startRelay when the dev script is never ready", () => {
  it("rejects ready with the script's exit code and output", async () => {
    const relay = await start(await checkoutWith('console.error("no wrangler here"); process.exit(3);'));
    await expect(relay.ready).rejects.toThrow(/the dev script exited \(3\) before it was ready:\nno wrangler here/);
    expect(await relay.stop()).toBe(3);
  });

  it("stops a script that another step's failure left waiting, with no unhandled rejection", async () => {
    const relay = await start(await checkoutWith("setInterval(() => {}, 1_000);"));
    // The setup failed elsewhere before awaiting ready; afterAll stops the script (Ctrl-C ends it: no exit code).
    expect(await relay.stop(5_000)).toBeNull();
    await settle();
    expect(unhandled).toEqual([]);
  });

  it("handles an early exit that nothing awaited", async () => {
    const relay = await start(await checkoutWith("process.exit(1);"));
    expect(await relay.exited).toBe(1);
    await settle();
    expect(unhandled).toEqual([]);
    expect(await relay.stop()).toBe(1);
  });
});
