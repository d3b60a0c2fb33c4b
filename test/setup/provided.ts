/**
 * What the global setup (Node) provides to the tests (`inject`), as types
 * only, so tests inside workerd see the same declarations as the setup.
 */
import type { StandinWorkerConfig } from "../../standins/types.ts";

/** wrangler.toml's queue settings, as wrangler reads them. */
export interface WranglerQueues {
  vars: Record<string, string>;
  producers: { binding: string; queue: string }[];
  consumers: { queue: string; max_retries?: number; retry_delay?: number; dead_letter_queue?: string }[];
}

/** How `npm run fuzz` asks the property tests to run (scripts/fuzz.ts). */
export interface FuzzSettings {
  runs: number;
  seed: number | null;
  /** fast-check's path of a failure, to replay exactly that case. */
  path: string | null;
}

declare module "vitest" {
  export interface ProvidedContext {
    /** `http://127.0.0.1:PORT` of the stand-ins (control API under /__standin/). */
    standinUrl: string;
    /** FCM_SERVICE_ACCOUNT, FCM_API_BASE, APNS_*, EXPO_* and ONESIGNAL_* pointing at the stand-ins. */
    standinWorkerConfig: StandinWorkerConfig;
    /** wrangler.toml's [vars] and queue bindings. */
    wranglerQueues: WranglerQueues;
    /** The property tests' runs and seed, set by `npm run fuzz` (0 and null: the suite's bounded defaults). */
    fuzz: FuzzSettings;
  }
}
