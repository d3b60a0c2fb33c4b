/**
 * How the property tests run. In `npm test`: a fixed seed and few runs, so
 * the suite spends seconds on them and every run tries the same inputs.
 * `npm run fuzz -- --runs N` runs them longer with a fresh seed (or
 * `--seed S`); a failure prints its seed and path, and
 * `npm run fuzz -- --seed S --path P` replays exactly that case.
 */
import fc from "fast-check";
import { inject } from "vitest";

/** The suite's seed: the same inputs on every `npm test`. */
const SUITE_SEED = 20_261_207;

const settings = inject("fuzz");

/** A property test's time limit: a minute in `npm test`, unbounded for `npm run fuzz`. */
export const PROPERTY_TIMEOUT_MS = settings.runs > 0 ? 0 : 60_000;

/** fast-check's parameters for a property that runs `suiteRuns` times in `npm test`. */
export function propertyParameters<T>(suiteRuns: number): fc.Parameters<T> {
  const seed = settings.seed ?? (settings.runs > 0 ? Date.now() : SUITE_SEED);
  return {
    seed,
    numRuns: settings.runs > 0 ? settings.runs : suiteRuns,
    ...(settings.path === null ? {} : { path: settings.path }),
    // Shrinking runs the Worker again per step: bounded, so a failure is reported in seconds.
    endOnFailure: false,
    maxSkipsPerRun: 100,
  };
}

/** Runs `property`, and on failure says how to replay it. */
export async function holds<T>(property: fc.IAsyncPropertyWithHooks<T>, suiteRuns: number): Promise<void> {
  const parameters = propertyParameters<T>(suiteRuns);
  const details = await fc.check(property, parameters);
  if (!details.failed) return;
  const replay = `npm run fuzz -- --seed ${details.seed} --path ${details.counterexamplePath ?? ""}`;
  throw new Error(`${fc.defaultReportMessage(details)}\nThe failure: ${String(details.errorInstance)}\nReplay it with: ${replay}`);
}

/** A lone surrogate, a control character, a token-named parameter, markup: what an attacker puts in a field. */
const HOSTILE_PIECES = [
  "\ud800",
  "\udfff",
  "\udc00\ud800",
  "\u0000",
  "\r\n",
  "\u202e",
  "\uFEFF",
  "%",
  "%00",
  "%ED%A0%80",
  "../",
  "%2e%2e/",
  "//evil.example",
  "\\",
  "?token=abc",
  "&Token%20=abc",
  "?token[]=abc",
  "#token=abc",
  "?%74oken=abc",
  "<script>",
  "'\"",
  "${x}",
  "👨‍👩‍👧",
  "e\u0301",
  "学",
];

/** One UTF-16 unit, any of the 65,536 (lone surrogates included). */
const unit16 = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));

/** Strings built from hostile pieces and arbitrary UTF-16 units, up to `maxLength` pieces. */
export function hostileString(maxLength = 40): fc.Arbitrary<string> {
  return fc.string({ unit: fc.oneof(unit16, fc.constantFrom(...HOSTILE_PIECES), fc.constantFrom("a", "b", "/", "?", "=", "&")), maxLength });
}

/** Any JSON-ish value, hostile strings included, as a field might hold instead of what the schema says. */
export function anyValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: hostileString() },
    fc.constantFrom(null, true, false, 0, -1, 1e308, 2 ** 53 + 2, 3.5),
    fc.constant(undefined),
    fc.array(hostileString(5), { maxLength: 3 }),
    fc.dictionary(hostileString(5), hostileString(5), { maxKeys: 3 }),
  );
}
