/**
 * Builds the push providers the consumer sends through, from the Worker's
 * settings. Parsed keys and minted credentials outlive this call: they are
 * kept per isolate (and shared through D1), so building providers per
 * batch costs nothing.
 */
import type { Provider } from "../devices/types";
import { createApnsProvider } from "./apns/provider";
import { appSettings } from "./apps";
import { CredentialCache, type IsolateMemory, isolateMemory } from "./credential-cache";
import { createExpoProvider } from "./expo/provider";
import { createFcmProvider } from "./fcm/provider";
import type { OneSignalSettings } from "./onesignal/config";
import { createOneSignalProvider } from "./onesignal/provider";
import type { ProviderDeps, PushProvider } from "./provider";

/** Per-request timeout unless the caller says otherwise. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * One provider per kind, serving every app: each push names its app, whose
 * settings (APPS overrides over the defaults) it goes out with. A provider
 * without credentials answers `failed: provider_not_configured` (broken ones
 * `misconfigured` with the setting's name) without touching the network.
 * `memory` stands for the isolate: tests pass
 * a fresh one to play a second isolate sharing the same D1.
 */
export function createProviders(
  env: Env,
  deps: Partial<ProviderDeps> = {},
  memory: IsolateMemory = isolateMemory,
): Record<Provider, PushProvider> {
  const full: ProviderDeps = {
    fetch: deps.fetch ?? ((input, init) => fetch(input, init)),
    now: deps.now ?? Date.now,
    timeoutMs: deps.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
  const cache = new CredentialCache(env.DB, full.now, memory);
  const settingsOf = (app: string) => appSettings(env, app);
  return {
    fcm: createFcmProvider(settingsOf, full, cache),
    apns: createApnsProvider(settingsOf, full, cache),
    expo: createExpoProvider(settingsOf, full),
    onesignal: createOneSignalProvider(env as OneSignalSettings, full),
  };
}
