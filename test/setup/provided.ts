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

declare module "vitest" {
  export interface ProvidedContext {
    /** `http://127.0.0.1:PORT` of the stand-ins (control API under /__standin/). */
    standinUrl: string;
    /** FCM_SERVICE_ACCOUNT, FCM_API_BASE, APNS_*, EXPO_* and ONESIGNAL_* pointing at the stand-ins. */
    standinWorkerConfig: StandinWorkerConfig;
    /** wrangler.toml's [vars] and queue bindings. */
    wranglerQueues: WranglerQueues;
  }
}
