/**
 * The local secrets as `wrangler dev` will see them: `.dev.vars` when it
 * exists, and the defaults in `.dev.vars.example` for anything it leaves
 * out or empty. `.dev.vars` is parsed like wrangler parses it (dotenv rules,
 * no `$VAR` expansion).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";

export interface LocalEnv {
  /** `.dev.vars`, or null when there is none. */
  devVars: Record<string, string> | null;
  /** `.dev.vars.example`: the defaults of the local run. */
  example: Record<string, string>;
}

function readEnvFile(path: string): Record<string, string> | null {
  if (!existsSync(path)) return null;
  const parsed = parseEnv(readFileSync(path, "utf8"));
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) if (value !== undefined) values[key] = value;
  return values;
}

export function readLocalEnv(root: string): LocalEnv {
  return { devVars: readEnvFile(join(root, ".dev.vars")), example: readEnvFile(join(root, ".dev.vars.example")) ?? {} };
}

/** A value set (non-blank) in `.dev.vars`, else undefined. */
export function fromDevVars(env: LocalEnv, name: string): string | undefined {
  const value = env.devVars?.[name];
  return value !== undefined && value.trim() !== "" ? value : undefined;
}

/** The value the local relay runs with: `.dev.vars` first, then the example's default. */
export function localValue(env: LocalEnv, name: string): string | undefined {
  const example = env.example[name];
  return fromDevVars(env, name) ?? (example !== undefined && example.trim() !== "" ? example : undefined);
}

/** The first of a space-separated list (secrets may list several for rotation). */
export const firstOf = (value: string | undefined) => value?.trim().split(/\s+/)[0];
