/**
 * Decides what the local run uses for each provider and which values it
 * hands `wrangler dev`. Pure, so the rules are testable without starting
 * anything.
 *
 * How wrangler dev 4.164 combines its sources (measured):
 * - `.dev.vars` is read, with plain dotenv rules, only when no `--env-file`
 *   is given.
 * - `--env-file a --env-file b` replaces `.dev.vars` entirely; later files
 *   win, and the values go through dotenv-expand: `$NAME` is substituted
 *   (an API key containing `$` silently changes) and a JSON value needs
 *   single quotes because `\"` is not unescaped inside double quotes.
 * - `--var NAME:VALUE` overrides both `[vars]` and `.dev.vars`, keeps
 *   `.dev.vars` loading as usual, and carries any string unchanged: JSON,
 *   colons, newlines (spawned without a shell, so nothing is quoted).
 *
 * So the user's `.dev.vars` stays exactly what `wrangler dev` would read on
 * its own, and only what is missing from it (stand-in credentials and the
 * example defaults) is added with `--var`. Those are throw-away local
 * values; real secrets never go on a command line.
 */
import type { StandinWorkerConfig } from "../../standins/types.ts";
import { type LocalEnv, fromDevVars, localValue } from "./local-env.ts";
import { GENERATED_SECRETS, type GeneratedSecret } from "./local-secrets.ts";

export type ProviderMode = "real" | "standin";

export interface ProviderModes {
  fcm: ProviderMode;
  apns: ProviderMode;
  expo: ProviderMode;
  onesignal: ProviderMode;
  hms: ProviderMode;
}

/** The stand-ins' Worker configuration (see standins/worker-config.ts). */
export type StandinConfig = StandinWorkerConfig;

const FCM_VARS = ["FCM_SERVICE_ACCOUNT", "FCM_API_BASE"] as const;
const APNS_VARS = ["APNS_KEY", "APNS_KEY_ID", "APNS_TEAM_ID", "APNS_TOPIC", "APNS_API_BASE"] as const;
const EXPO_VARS = ["EXPO_API_BASE", "EXPO_ACCESS_TOKEN"] as const;
const ONESIGNAL_VARS = ["ONESIGNAL_API_BASE", "ONESIGNAL_APP_ID", "ONESIGNAL_API_KEY"] as const;
const HMS_VARS = ["HMS_APP_ID", "HMS_APP_SECRET", "HMS_API_BASE", "HMS_OAUTH_URL"] as const;

/** The stand-in configuration each provider running on its stand-in gets. */
const STANDIN_VARS: Record<keyof ProviderModes, readonly (keyof StandinConfig)[]> = {
  fcm: FCM_VARS,
  apns: APNS_VARS,
  expo: EXPO_VARS,
  onesignal: ONESIGNAL_VARS,
  hms: HMS_VARS,
};

/**
 * Real credentials in `.dev.vars` switch a provider's stand-in off. Expo
 * needs no credential, so an access token or an API base there means "the
 * real Expo" (a local run must not push to real phones by surprise).
 */
export function providerModes(env: LocalEnv): ProviderModes {
  const has = (name: string) => fromDevVars(env, name) !== undefined;
  return {
    fcm: has("FCM_SERVICE_ACCOUNT") ? "real" : "standin",
    apns: has("APNS_KEY") ? "real" : "standin",
    expo: has("EXPO_ACCESS_TOKEN") || has("EXPO_API_BASE") ? "real" : "standin",
    onesignal: has("ONESIGNAL_API_KEY") ? "real" : "standin",
    hms: has("HMS_APP_SECRET") ? "real" : "standin",
  };
}

/** True when any provider runs on its stand-in. */
export const needsStandins = (modes: ProviderModes): boolean => Object.values(modes).includes("standin");

export interface DevVars {
  /** NAME -> value, passed as `--var NAME:value`. */
  vars: Record<string, string>;
  /** Names taken from `.dev.vars.example` because `.dev.vars` does not set them. */
  defaults: string[];
  /** Names given a generated local value because neither file sets them. */
  generated: GeneratedSecret[];
}

/** The generated secrets this run needs: those neither `.dev.vars` nor `.dev.vars.example` sets. */
export const secretsToGenerate = (env: LocalEnv): GeneratedSecret[] => GENERATED_SECRETS.filter((name) => localValue(env, name) === undefined);

/**
 * The values to add on top of `.dev.vars`: each example default that
 * `.dev.vars` leaves unset, the generated local secrets for what neither
 * sets, then the stand-in configuration of every provider that runs on its
 * stand-in.
 */
export function devVars(
  env: LocalEnv,
  modes: ProviderModes,
  standin: StandinConfig | null,
  localSecrets: Partial<Record<GeneratedSecret, string>> = {},
): DevVars {
  const vars: Record<string, string> = {};
  const defaults: string[] = [];
  for (const [name, value] of Object.entries(env.example)) {
    if (value.trim() === "" || fromDevVars(env, name) !== undefined) continue;
    vars[name] = value;
    defaults.push(name);
  }
  const generated = secretsToGenerate(env);
  for (const name of generated) {
    const value = localSecrets[name];
    if (value === undefined) throw new Error(`${name} is set nowhere, and no generated value was given`);
    vars[name] = value;
  }
  if (needsStandins(modes) && !standin) throw new Error("a provider runs on its stand-in, but no stand-in configuration was given");
  for (const provider of Object.keys(STANDIN_VARS) as (keyof ProviderModes)[]) {
    if (standin && modes[provider] === "standin") for (const name of STANDIN_VARS[provider]) vars[name] = standin[name];
  }
  return { vars, defaults, generated };
}

/** `--var NAME:value` arguments for wrangler. */
export function varArgs(vars: Record<string, string>): string[] {
  return Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
}
