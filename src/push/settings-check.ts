/**
 * Runs the settings self-check (check.ts) for every app (default and APPS)
 * and every provider configured for it, over providers built as the sends
 * build them: the same settings, the same shared credential cache. It
 * records no delivery and deletes nothing; the only thing it may write is
 * a credential the sends would have minted anyway.
 */
import { CHECK_TIMEOUT_MS } from "./check";
import type { ProviderDeps } from "./provider";
import { appNames, createProviders, type Provider, PROVIDERS } from "./providers";
import { runPool } from "../pool";

/** One line of the answer: a provider's verdict on one app's settings. */
export interface SettingsCheckLine {
  app: string;
  provider: Provider;
  ok: boolean;
  detail: string;
}

export interface SettingsCheckReport {
  /** True when every configured provider accepted every app's settings (and when nothing is configured). */
  ok: boolean;
  checks: SettingsCheckLine[];
}

/** At most this many checks wait on a provider at once (a Worker has 6 connections waiting for headers). */
const CONCURRENCY = 4;

/** Asks every configured provider about every app's settings; providers that are not configured are left out. */
export async function checkSettings(env: Env, deps: Partial<ProviderDeps> = {}): Promise<SettingsCheckReport> {
  const providers = createProviders(env, { timeoutMs: CHECK_TIMEOUT_MS, ...deps });
  const pairs = appNames(env).flatMap((app) => PROVIDERS.map((d) => ({ app, provider: d.name })));
  const lines: (SettingsCheckLine | null)[] = new Array(pairs.length).fill(null);
  const indexed = pairs.map((pair, i) => ({ ...pair, i }));
  await runPool(indexed, CONCURRENCY, async ({ app, provider, i }) => {
    const verdict = await providers[provider].check?.(app);
    if (verdict) lines[i] = { app, provider, ok: verdict.ok, detail: verdict.detail };
  });
  const checks = lines.filter((line): line is SettingsCheckLine => line !== null);
  return { ok: checks.every((line) => line.ok), checks };
}
