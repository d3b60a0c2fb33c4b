/**
 * Decides what the local run uses for each provider and which values it
 * hands `wrangler dev`. Pure, so the rules are testable without starting
 * anything.
 *
 * How wrangler dev 4.164 combines its sources (measured):
 * - `.dev.vars` is read, with plain dotenv rules, only when no `--env-file`
 *   is given.
 * - `--env-file FILE` replaces `.dev.vars` entirely, and its values go
 *   through dotenv-expand: `$NAME` is substituted unless written `\$NAME`.
 * - `--var NAME:VALUE` overrides both, but sits on the command line, where
 *   `ps` shows it to every user of the machine.
 *
 * So no value goes on the command line: the run writes one env file (in
 * `.standins/`, readable by its owner only) holding exactly what
 * `.dev.vars` holds plus what it lacks (stand-in credentials, the example
 * defaults, the generated local secrets), each value quoted and `$`
 * escaped so that wrangler reads back the very same string, and passes
 * only that file's path.
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
  /** NAME -> value, added to `.dev.vars`'s values in the env file wrangler dev reads. */
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

/**
 * `value` written for an env file so that wrangler reads it back unchanged:
 * quoted with a quote it does not contain (dotenv keeps quoted text as it
 * is, line breaks included), every `$` escaped for dotenv-expand.
 */
export function envFileValue(name: string, value: string): string {
  if (value.includes("\r")) throw new Error(`${name} contains a carriage return, which an env file cannot carry`);
  const escaped = value.replaceAll("$", "\\$");
  const quote = ["'", "`"].find((q) => !escaped.includes(q));
  if (quote === undefined) throw new Error(`${name} contains both ' and \`, which an env file cannot carry`);
  return `${quote}${escaped}${quote}`;
}

/** The env file for `wrangler dev --env-file`: `.dev.vars`'s values, then this run's additions over them. */
export function envFileText(devVarsValues: Record<string, string> | null, additions: Record<string, string>): string {
  const values = { ...devVarsValues, ...additions };
  return Object.entries(values)
    .map(([name, value]) => `${name}=${envFileValue(name, value)}\n`)
    .join("");
}
