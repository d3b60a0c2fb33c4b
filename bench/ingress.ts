/**
 * Ingress: signed webhooks against the no-op route of the same Worker, in
 * the same run and the same runtime, alternating so that drift on the
 * machine hits both alike; then both over a single connection, where no
 * request waits behind another, for the service time itself. The
 * webhooks' users have no device, so their queue messages are consumed
 * (the consumer runs as configured) but end as `no_device` without a push.
 */
import type { LocalRelay } from "./harness.ts";
import { deliveriesOfEvents } from "./ledger.ts";
import { type RunFigures, runGet, runWebhooks, type WebhookRun } from "./load-generator.ts";
import { startCpuMeter } from "./cpu.ts";
import { notification, type SignedWebhook, WebhookSigner } from "./webhooks.ts";

export interface IngressOptions {
  connections: number;
  /** Requests per route over one connection. */
  serialRequests: number;
  /** Requests per measured run. */
  requests: number;
  /** Alternating rounds of (no-op, webhook); the median round is reported. */
  rounds: number;
  /** Notifications per webhook. */
  notifications: number;
}

export interface IngressFigures {
  connections: number;
  rounds: number;
  healthz: RunFigures;
  webhook: RunFigures;
  /** webhook p99 / no-op p99 (target ≤ 1.2). */
  p99_ratio: number;
  p50_ratio: number;
  rps_ratio: number;
  /** Both routes over one connection: latency without queueing behind other requests. */
  serial: { healthz: RunFigures; webhook: RunFigures };
  /** workerd CPU per webhook including the consumer's work on its queue message (no_device). */
  cpu_ms_per_webhook_end_to_end: number;
  /** workerd CPU per webhook with no consumer running (see measureIngressAlone). */
  cpu_ms_per_webhook_without_consumer?: number;
  rounds_detail: { healthz: RunFigures; webhook: RunFigures }[];
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

/** The round whose p99 ratio is the median one, so the reported pair was measured together. */
function medianRound(rounds: { healthz: RunFigures; webhook: RunFigures }[]) {
  const ratio = (r: (typeof rounds)[number]) => r.webhook.p99_ms / r.healthz.p99_ms;
  const target = median(rounds.map(ratio));
  return rounds.find((r) => ratio(r) === target)!;
}

async function countLedgerRows(relay: LocalRelay, eventPrefix: string): Promise<number> {
  return deliveriesOfEvents(relay.db, eventPrefix);
}

/** Waits until the consumer has recorded `rows` ledger rows for these events (at once without a consumer). */
async function waitForLedger(relay: LocalRelay, eventPrefix: string, rows: number, timeoutMs = 120_000): Promise<void> {
  if (!relay.consumes) return;
  const deadline = Date.now() + timeoutMs;
  while ((await countLedgerRows(relay, eventPrefix)) < rows) {
    if (Date.now() > deadline) throw new Error(`the queue did not drain: fewer than ${rows} ledger rows after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Hands out webhooks signed beforehand, each for users without a device. */
function webhookPool(relay: LocalRelay, notifications: number) {
  const signer = new WebhookSigner(relay.secret);
  let users = 0;
  return (prefix: string, count: number) => {
    const webhooks: SignedWebhook[] = [];
    for (let i = 0; i < count; i++) {
      const list = Array.from({ length: notifications }, (_, n) => notification(`nodevice_${users++}`, n));
      webhooks.push(signer.sign(list, `${prefix}${i.toString(36)}`));
    }
    let next = 0;
    return () => webhooks[next++ % webhooks.length]!;
  };
}

/** Isolate start, JIT, D1 and queue paths. */
async function warmUp(relay: LocalRelay, options: IngressOptions, pool: ReturnType<typeof webhookPool>): Promise<void> {
  const base = { url: relay.url, connections: options.connections, workerdPids: relay.workerdPids };
  await runGet({ ...base, amount: 500 }, "/healthz");
  const warm = await runWebhooks({ ...base, amount: 500 }, pool("msg_warm_", 500 + options.connections * 2));
  await waitForLedger(relay, "msg_warm_", warm.accepted.size * options.notifications);
}

const withoutAnswers = ({ accepted: _a, answeredAt: _t, rejected: _r, messages: _m, rejectedNotifications: _n, ...figures }: WebhookRun): RunFigures =>
  figures;

export async function measureIngress(relay: LocalRelay, options: IngressOptions): Promise<IngressFigures> {
  const base = { url: relay.url, connections: options.connections, workerdPids: relay.workerdPids };
  const pool = webhookPool(relay, options.notifications);
  // autocannon may build a request or two per connection it never sends, so pools have spare ones.
  const spare = options.connections * 2;
  await warmUp(relay, options, pool);

  const rounds: { healthz: RunFigures; webhook: RunFigures }[] = [];
  let drainCpuMs = 0;
  let windowCpuMs = 0;
  let webhooks = 0;
  for (let round = 0; round < options.rounds; round++) {
    const healthz = await runGet({ ...base, amount: options.requests }, "/healthz");
    const prefix = `msg_ingress${round}_`;
    const next = pool(prefix, options.requests + spare);
    const webhook = await runWebhooks({ ...base, amount: options.requests }, next);
    const drain = startCpuMeter(relay.workerdPids);
    await waitForLedger(relay, prefix, webhook.accepted.size * options.notifications);
    drainCpuMs += drain();
    windowCpuMs += (webhook.cpu_ms_per_request ?? 0) * webhook.requests;
    webhooks += webhook.requests;
    rounds.push({ healthz, webhook: withoutAnswers(webhook) });
  }

  const one = { ...base, connections: 1, amount: options.serialRequests };
  const serial = {
    healthz: await runGet(one, "/healthz"),
    webhook: withoutAnswers(await runWebhooks(one, pool("msg_serial_", options.serialRequests + 2))),
  };
  await waitForLedger(relay, "msg_serial_", serial.webhook.requests * options.notifications);

  const chosen = medianRound(rounds);
  return {
    connections: options.connections,
    rounds: options.rounds,
    healthz: chosen.healthz,
    webhook: chosen.webhook,
    p99_ratio: chosen.webhook.p99_ms / chosen.healthz.p99_ms,
    p50_ratio: chosen.webhook.p50_ms / chosen.healthz.p50_ms,
    rps_ratio: chosen.webhook.rps / chosen.healthz.rps,
    serial,
    cpu_ms_per_webhook_end_to_end: (windowCpuMs + drainCpuMs) / webhooks,
    rounds_detail: rounds,
  };
}

/**
 * workerd CPU per webhook on a relay started without queue consumers: the
 * request path alone (verify, validate, enqueue into Miniflare's queue),
 * without the consumer's work competing for the same thread.
 */
export async function measureIngressAlone(relay: LocalRelay, options: IngressOptions): Promise<number> {
  if (relay.consumes) throw new Error("measureIngressAlone needs a relay started with consume: false");
  const pool = webhookPool(relay, options.notifications);
  await warmUp(relay, options, pool);
  const base = { url: relay.url, connections: options.connections, workerdPids: relay.workerdPids };
  const run = await runWebhooks({ ...base, amount: options.requests }, pool("msg_alone_", options.requests + options.connections * 2));
  return run.cpu_ms_per_request ?? Number.NaN;
}
