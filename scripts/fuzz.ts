/**
 * `npm run fuzz`: the property tests (test/property/) run longer than
 * `npm test` runs them, with a fresh seed each time unless one is given.
 * A failure prints its seed and path; passing both back replays exactly
 * that case.
 *
 *   npm run fuzz -- [--runs 1000] [--seed S] [--path P]
 */
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { ROOT } from "./lib/project.ts";

const USAGE = `Usage: npm run fuzz -- [--runs N] [--seed S] [--path P]

  --runs N   runs per property (default 500; npm test runs each a few dozen times with a fixed seed)
  --seed S   fast-check's seed (default: a new one, printed on failure)
  --path P   with --seed, replay the failing case a report named`;

const { values } = parseArgs({
  options: { runs: { type: "string", default: "500" }, seed: { type: "string" }, path: { type: "string" }, help: { type: "boolean" } },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const runs = Number(values.runs);
if (!Number.isSafeInteger(runs) || runs < 1) {
  console.error(`--runs must be a positive whole number\n\n${USAGE}`);
  process.exit(2);
}
if (values.seed !== undefined && !Number.isSafeInteger(Number(values.seed))) {
  console.error(`--seed must be a whole number\n\n${USAGE}`);
  process.exit(2);
}
const seed = values.seed ?? String(Date.now() % 2 ** 31);
console.log(`fuzz: ${runs} runs per property, seed ${seed}`);

const env = { ...process.env, RELAY_FUZZ_RUNS: String(runs), RELAY_FUZZ_SEED: seed, RELAY_FUZZ_PATH: values.path ?? "" };
const vitest = spawnSync("npx", ["vitest", "run", "--project", "workers", "test/property/"], { cwd: ROOT, env, stdio: "inherit" });
process.exit(vitest.status ?? 1);
