/**
 * Vitest global setup (runs in Node, once per run): starts the stand-in
 * OAuth, FCM and APNs servers with freshly generated keys and provides
 * their URL and the Worker configuration pointing at them; vitest.config.ts
 * passes both to the Worker as bindings. It also hides workerd's expected
 * connection-reset messages (see workerd-noise.ts), and provides the queue
 * settings of wrangler.toml as wrangler reads them, which tests inside
 * workerd cannot read themselves.
 */
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { unstable_readConfig } from "wrangler";
import { startStandins, workerConfig } from "../../standins/index.ts";
import type { FuzzSettings, WranglerQueues } from "./provided.ts";
import { hideExpectedResetNoise } from "./workerd-noise.ts";

function wranglerQueues(): WranglerQueues {
  const config = unstable_readConfig({ config: join(import.meta.dirname, "..", "..", "wrangler.toml") });
  const queues = config.queues as { producers?: WranglerQueues["producers"]; consumers?: WranglerQueues["consumers"] };
  return {
    vars: Object.fromEntries(Object.entries(config.vars).map(([name, value]) => [name, String(value)])),
    producers: (queues.producers ?? []).map(({ binding, queue }) => ({ binding, queue })),
    consumers: (queues.consumers ?? []).map(({ queue, max_retries, retry_delay, dead_letter_queue }) => ({
      queue,
      ...(max_retries === undefined ? {} : { max_retries }),
      ...(retry_delay === undefined ? {} : { retry_delay }),
      ...(dead_letter_queue === undefined ? {} : { dead_letter_queue }),
    })),
  };
}

/** What `npm run fuzz` passed through the environment (scripts/fuzz.ts); absent: the suite's defaults. */
function fuzzSettings(): FuzzSettings {
  const runs = Number(process.env.RELAY_FUZZ_RUNS ?? "");
  const seed = Number(process.env.RELAY_FUZZ_SEED ?? "");
  return {
    runs: Number.isSafeInteger(runs) && runs > 0 ? runs : 0,
    seed: process.env.RELAY_FUZZ_SEED && Number.isSafeInteger(seed) ? seed : null,
    path: process.env.RELAY_FUZZ_PATH || null,
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const noise = process.env.RELAY_TEST_SHOW_RESETS ? null : hideExpectedResetNoise();
  const standins = await startStandins();
  project.provide("standinUrl", standins.url);
  // OneSignal stays off unless a test turns it on (freshOneSignalApp): with it on, every user without a
  // device would go to OneSignal instead of being recorded no_device, which most tests are about.
  project.provide("standinWorkerConfig", { ...workerConfig(standins.url, standins.keys), ONESIGNAL_APP_ID: "", ONESIGNAL_API_KEY: "" });
  project.provide("wranglerQueues", wranglerQueues());
  project.provide("fuzz", fuzzSettings());
  return async () => {
    await standins.close();
    noise?.restore();
  };
}
