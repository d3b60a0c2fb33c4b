/**
 * What the live account holds against what the checkout configures, for
 * the parts a Worker upload does not prove by itself: a queue's consumer
 * and its settings, the crons, the workers.dev switch, the active
 * version's bindings. Pure comparisons; deploy-plan.ts turns each
 * difference into a step, so the deploy and `--check` decide alike.
 */

/** A `[[queues.consumers]]` entry as the API stores it (seconds turned into the API's milliseconds). */
export interface ConsumerConfig {
  queue: string;
  batchSize?: number;
  maxWaitTimeMs?: number;
  maxRetries?: number;
  retryDelay?: number;
  maxConcurrency?: number;
  deadLetterQueue?: string;
}

/** A queue's consumer as the API lists it (GET /queues/:queue_id/consumers). */
export interface LiveConsumer {
  script: string;
  settings: { batch_size?: number; max_wait_time_ms?: number; max_retries?: number; retry_delay?: number; max_concurrency?: number | null };
  deadLetterQueue: string | null;
}

/** A binding of the active version, as GET .../versions/:id lists it under resources.bindings. */
export type LiveBinding = { type: string; name: string } & Record<string, unknown>;

/** A binding the config asks for: its type and the value that identifies what it points at. */
export interface ExpectedBinding {
  type: string;
  name: string;
  /** The database id, queue name, variable text, rate-limit namespace and limit. */
  value: string;
}

const SETTINGS: [keyof ConsumerConfig, keyof LiveConsumer["settings"], string][] = [
  ["batchSize", "batch_size", "max_batch_size"],
  ["maxWaitTimeMs", "max_wait_time_ms", "max_batch_timeout (ms)"],
  ["maxRetries", "max_retries", "max_retries"],
  ["retryDelay", "retry_delay", "retry_delay"],
  ["maxConcurrency", "max_concurrency", "max_concurrency"],
];

/**
 * How a live consumer differs from its config, one phrase per setting
 * ("max_retries 3, configured 12"). Only settings the config names are
 * compared: an unset one takes the API's default, whatever it is.
 */
export function consumerDifferences(wanted: ConsumerConfig, live: LiveConsumer): string[] {
  const differences: string[] = [];
  for (const [configKey, liveKey, label] of SETTINGS) {
    const want = wanted[configKey];
    if (want === undefined) continue;
    const have = live.settings[liveKey];
    if (have !== want) differences.push(`${label} ${have ?? "unset"}, configured ${want}`);
  }
  const dlq = wanted.deadLetterQueue ?? null;
  if (live.deadLetterQueue !== dlq) differences.push(`dead-letter queue ${live.deadLetterQueue ?? "none"}, configured ${dlq ?? "none"}`);
  return differences;
}

/** The same crons in any order (the API keeps no order). */
export function sameCrons(live: string[], wanted: string[]): boolean {
  const a = [...new Set(live)].sort();
  const b = [...new Set(wanted)].sort();
  return a.length === b.length && a.every((cron, i) => cron === b[i]);
}

/** The identifying value of a live binding, in the terms ExpectedBinding uses. */
function liveValue(binding: LiveBinding): string {
  switch (binding.type) {
    case "d1":
      return String(binding.id ?? binding.database_id ?? "");
    case "queue":
      return String(binding.queue_name ?? "");
    case "plain_text":
      return String(binding.text ?? "");
    case "json":
      return JSON.stringify(binding.json);
    case "ratelimit": {
      const simple = (binding.simple ?? {}) as { limit?: number; period?: number };
      return `${String(binding.namespace_id)}:${simple.limit}/${simple.period}`;
    }
    default:
      return "";
  }
}

/**
 * How the active version's bindings differ from the configured ones: each
 * missing, changed or extra binding (secrets are set apart and never
 * compared; `npm run deploy` lists the missing ones).
 */
export function bindingDifferences(expected: ExpectedBinding[], live: LiveBinding[]): string[] {
  const differences: string[] = [];
  const byName = new Map(live.filter((b) => b.type !== "secret_text").map((b) => [b.name, b]));
  for (const want of expected) {
    const have = byName.get(want.name);
    byName.delete(want.name);
    if (!have) differences.push(`${want.name} missing`);
    else if (have.type !== want.type) differences.push(`${want.name} is ${have.type}, configured ${want.type}`);
    else if (liveValue(have) !== want.value) differences.push(`${want.name} points elsewhere`);
  }
  for (const name of byName.keys()) differences.push(`${name} not in wrangler.toml`);
  return differences;
}
