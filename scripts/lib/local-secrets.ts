/**
 * Secrets the local run makes up when neither `.dev.vars` nor
 * `.dev.vars.example` sets them: the register key and the device-token
 * secret. They are generated once and kept (git-ignored) beside the
 * stand-in keys, so a device token minted against one run still works
 * after a restart.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** What the local run generates when it is not configured. */
export const GENERATED_SECRETS = ["RELAY_REGISTER_KEY", "DEVICE_TOKEN_SECRET"] as const;
export type GeneratedSecret = (typeof GENERATED_SECRETS)[number];

/** The file, inside the local credentials folder. */
export const LOCAL_SECRETS_FILE = "local-secrets.json";

/** 32 random bytes, base64url: 43 characters, above the relay's 32-byte minimum for DEVICE_TOKEN_SECRET. */
const fresh = () => randomBytes(32).toString("base64url");

function read(file: string): Partial<Record<GeneratedSecret, string>> {
  if (!existsSync(file)) return {};
  try {
    const saved = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    return Object.fromEntries(GENERATED_SECRETS.flatMap((name) => (typeof saved[name] === "string" && saved[name] !== "" ? [[name, saved[name]]] : [])));
  } catch {
    return {}; // corrupt: these are local throw-away values, make new ones
  }
}

/** The saved local secrets, generating (and saving) any that are missing. */
export function loadOrCreateLocalSecrets(dir: string): Record<GeneratedSecret, string> {
  const file = join(dir, LOCAL_SECRETS_FILE);
  const saved = read(file);
  const secrets = Object.fromEntries(GENERATED_SECRETS.map((name) => [name, saved[name] ?? fresh()])) as Record<GeneratedSecret, string>;
  if (GENERATED_SECRETS.some((name) => saved[name] === undefined)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  return secrets;
}
