/**
 * Vitest global setup (runs in Node, once per run): starts the stand-in
 * OAuth, FCM and APNs servers with freshly generated keys and provides
 * their URL and the Worker configuration pointing at them; vitest.config.ts
 * passes both to the Worker as bindings. It also hides workerd's expected
 * connection-reset messages (see workerd-noise.ts).
 */
import type { TestProject } from "vitest/node";
import { startStandins, workerConfig } from "../../standins/index.ts";
import type { StandinWorkerConfig } from "../../standins/types.ts";
import { hideExpectedResetNoise } from "./workerd-noise.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** `http://127.0.0.1:PORT` of the stand-ins (control API under /__standin/). */
    standinUrl: string;
    /** FCM_SERVICE_ACCOUNT, FCM_API_BASE, APNS_*, EXPO_* and ONESIGNAL_* pointing at the stand-ins. */
    standinWorkerConfig: StandinWorkerConfig;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const noise = process.env.RELAY_TEST_SHOW_RESETS ? null : hideExpectedResetNoise();
  const standins = await startStandins();
  project.provide("standinUrl", standins.url);
  project.provide("standinWorkerConfig", workerConfig(standins.url, standins.keys));
  return async () => {
    await standins.close();
    noise?.restore();
  };
}
