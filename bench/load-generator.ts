/**
 * autocannon runs shared by the bench and the load test: a fixed number of
 * requests (or a duration) at a given concurrency, each webhook taken from
 * a pool signed beforehand, with the workerd CPU spent during the run.
 * Latencies are kept per response (autocannon's own histogram rounds to
 * whole milliseconds, too coarse for a route that answers in 5).
 */
import autocannon from "autocannon";
import type { Instance } from "autocannon";
import { startCpuMeter } from "./cpu.ts";
import { type SignedWebhook, WEBHOOK_PATH } from "./webhooks.ts";

export interface RunFigures {
  requests: number;
  seconds: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
  non2xx: number;
  errors: number;
  /** workerd CPU per completed request, ms (null when workerd is not ours to read). */
  cpu_ms_per_request: number | null;
}

export interface RunOptions {
  url: string;
  connections: number;
  amount?: number;
  /** Seconds, when no amount is given. */
  duration?: number;
  /** Requests per second over all connections (open loop); unset: as fast as answers come back. */
  rate?: number;
  workerdPids?: readonly number[];
}

/** The q-quantile of ascending values, by nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * autocannon treats an explicit `undefined` as a value: pass only what is
 * set. It notices the end of a run only at its next sample tick, so ticks
 * are 100 ms rather than 1 s.
 */
const limits = (options: RunOptions) => ({
  sampleInt: 100,
  ...(options.rate !== undefined ? { overallRate: options.rate } : {}),
  ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.duration ?? 10 }),
});

async function measure(options: RunOptions, start: () => Instance): Promise<RunFigures> {
  const cpu = options.workerdPids?.length ? startCpuMeter(options.workerdPids) : undefined;
  const times: number[] = [];
  // autocannon's own start/finish are rounded to its ticks: the run lasts until the last answer.
  const began = performance.now();
  let last = began;
  const instance = start();
  instance.on("response", (_client, _status, _bytes, time) => {
    times.push(time);
    last = performance.now();
  });
  const result = await instance;
  const seconds = (last - began) / 1000;
  const cpuMs = cpu ? cpu() : null;
  times.sort((a, b) => a - b);
  return {
    requests: times.length,
    seconds,
    rps: times.length / seconds,
    p50_ms: quantile(times, 0.5),
    p99_ms: quantile(times, 0.99),
    mean_ms: times.reduce((sum, t) => sum + t, 0) / times.length,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    cpu_ms_per_request: cpuMs === null || times.length === 0 ? null : cpuMs / times.length,
  };
}

/** GETs one path (the no-op route) as fast as the connections allow. */
export function runGet(options: RunOptions, path: string): Promise<RunFigures> {
  return measure(options, () => autocannon({ url: `${options.url}${path}`, connections: options.connections, ...limits(options) }));
}

export interface WebhookRun extends RunFigures {
  /** Webhooks answered 2xx: event id -> notifications accepted. */
  accepted: Map<string, number>;
  /** When each accepted webhook's answer arrived (epoch ms): event id -> time. */
  answeredAt: Map<string, number>;
  /** Over the accepted answers: queue messages the webhook sent, notifications it rejected. */
  messages: number;
  rejectedNotifications: number;
  /** Status codes of the answers that were not 2xx. */
  rejected: Record<string, number>;
}

/**
 * POSTs the webhooks `next()` hands out, one per request. Which ones were
 * accepted is read from the answers, since autocannon may build a request
 * it never sends when the run ends.
 */
export async function runWebhooks(options: RunOptions, next: () => SignedWebhook): Promise<WebhookRun> {
  const accepted = new Map<string, number>();
  const answeredAt = new Map<string, number>();
  const rejected: Record<string, number> = {};
  const counts = { messages: 0, rejectedNotifications: 0 };
  const run = await measure(options, () =>
    autocannon({
      url: options.url,
      connections: options.connections,
      ...limits(options),
      timeout: 30,
      requests: [
        {
          method: "POST",
          path: WEBHOOK_PATH,
          setupRequest: (request) => {
            const webhook = next();
            return { ...request, headers: webhook.headers, body: webhook.body };
          },
          onResponse: (status, body) => {
            if (status >= 200 && status < 300) {
              const answer = JSON.parse(body) as { event_id: string; notifications?: number; messages?: number; rejected?: number };
              accepted.set(answer.event_id, answer.notifications ?? 0);
              answeredAt.set(answer.event_id, Date.now());
              counts.messages += answer.messages ?? 0;
              counts.rejectedNotifications += answer.rejected ?? 0;
            } else rejected[status] = (rejected[status] ?? 0) + 1;
          },
        },
      ],
    }),
  );
  return { ...run, accepted, answeredAt, rejected, ...counts };
}
