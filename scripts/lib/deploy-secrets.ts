/**
 * The deploy's secrets dialogue: in a terminal it asks for each missing
 * secret (hidden as typed, or a file's path for JSON and PEM), elsewhere it
 * lists them with the command that sets each. The list itself is
 * secrets.ts; the wording of what is missing is deploy-plan.ts.
 */
import { readFile } from "node:fs/promises";
import { type DeployConfig, describeMissingSecrets, missingSecrets, settingsWarnings } from "./deploy-plan.ts";
import { ask, askHidden } from "./prompt.ts";
import { SECRETS, type SecretSpec } from "./secrets.ts";

const say = (line = "") => process.stdout.write(`${line}\n`);

/** Reads one secret's value from the terminal; null when skipped. */
async function promptSecret(spec: SecretSpec, webhookUrl: string): Promise<string | null> {
  say();
  say(`${spec.name} (${spec.required ? "required" : "optional"}): ${spec.what}`);
  if (spec.name === "LEARNINK_WEBHOOK_SECRET") {
    say(`  In the LearnInk dashboard add a webhook endpoint ${webhookUrl} for notifications.sent, and copy its signing secret.`);
  }
  for (;;) {
    let value: string;
    if (spec.input.kind === "file") {
      const path = await ask(`  Path to ${spec.input.example} (Enter to skip): `);
      if (path === "") return null;
      try {
        value = await readFile(path.replace(/^~(?=\/)/, process.env.HOME ?? "~"), "utf8");
      } catch (error) {
        say(`  Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
        continue;
      }
    } else {
      // A required key is generated on Enter; an optional one on "g" (Enter skips it).
      const generate = spec.input.generate;
      const hint = !generate ? "Enter skips" : spec.required ? "Enter generates one" : "g generates one, Enter skips";
      value = await askHidden(`  Value (hidden; ${hint}): `);
      if (generate && (value === "g" || (value === "" && spec.required))) {
        value = generate();
        say(`  Generated; keep it, it is shown only now: ${value}`);
      }
      if (value === "") return null;
    }
    const problem = spec.check?.(value);
    if (!problem) return value;
    say(`  Not used: ${problem}.`);
  }
}

/**
 * Asks for the missing secrets in a terminal (elsewhere it asks nothing);
 * `put` sets one on the Worker. Returns the names the Worker has afterwards.
 */
export async function askForSecrets(secrets: Set<string>, webhookUrl: string, put: (name: string, value: string) => Promise<void>): Promise<Set<string>> {
  const present = new Set(secrets);
  const missing = missingSecrets(SECRETS, present);
  if (missing.required.length + missing.optional.length === 0 || !process.stdin.isTTY || !process.stdout.isTTY) return present;
  say();
  say("Missing secrets: type or paste each (sent straight to Cloudflare, stored nowhere else); Enter skips.");
  for (const spec of [...missing.required, ...missing.optional]) {
    const value = await promptSecret(spec, webhookUrl);
    if (value === null) continue;
    await put(spec.name, value);
    present.add(spec.name);
    say(`  ${spec.name} set.`);
  }
  return present;
}

/** Lists the secrets still missing with the command that sets each, and the settings to check; returns the required ones missing. */
export function reportSecrets(config: DeployConfig, present: Set<string>): string[] {
  say();
  const still = missingSecrets(SECRETS, present);
  if (still.required.length + still.optional.length > 0) {
    say("Secrets not set yet (each `secret put` asks for the value, or reads it from a file):");
    for (const line of describeMissingSecrets(still)) say(line);
  } else {
    say("Secrets: all set.");
  }
  const warnings = settingsWarnings(config.vars, present);
  if (warnings.length > 0) {
    say();
    say("Settings to check (then run `npm run deploy` again):");
    for (const warning of warnings) say(`  ${warning}`);
  }
  return still.required.map((s) => s.name);
}
