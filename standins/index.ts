/**
 * The stand-ins' public API, for the test setup, the dev run and the
 * benchmark: start them, make or load their keys, and get the Worker
 * configuration that points the relay at them.
 */
export { generateStandinKeys, loadOrCreateKeys } from "./keys.ts";
export { startStandins } from "./server.ts";
export type * from "./types.ts";
export { workerConfig } from "./worker-config.ts";
