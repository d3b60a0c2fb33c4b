/**
 * Stream: many small events, as LearnInk sends a manual message or a small
 * organisation's reminders. N Svix-signed webhooks of K notifications at C
 * connections, beside the no-op route measured in the same run, then a few
 * isolated events. Per event: workerd CPU, D1 rows and round trips (the
 * consumer's `delivery_batch` lines, and deleting the events as retention
 * will), queue operations and consumer invocations, the cost per million
 * events, answer → push latency, and the exactly-once check from the
 * stand-ins' records (not the ledger's tables, which may change).
 */
import { type CostLine, costPerMillion, type PerNotification, queueOperations } from "./cost.ts";
import { startCpuMeter } from "./cpu.ts";
import { databaseBytes, LEDGER_RETENTION_DAYS, type Retirement, retireEvents, tableGrowth, tableRows } from "./d1-usage.ts";
import type { LocalRelay } from "./harness.ts";
import { checkDeliveries, type DeliveryCheck } from "./load-check.ts";
import { quantile, type RunFigures, type RunOptions, runGet, runWebhooks, type WebhookRun } from "./load-generator.ts";
import type { DeliveryBatch } from "./logs.ts";
import { StandinClient } from "../standins/client.ts";
import { type StreamEvents, streamEvents, waitForDrain } from "./stream-events.ts";
import { answerToPush, type IsolatedFigures, measureIsolated } from "./stream-isolated.ts";

export interface StreamOptions {
  events: number;
  perEvent: number;
  connections: number;
  /** Share of FCM devices, 0..1; the rest are APNs. */
  fcmShare: number;
  /** Isolated events measured after the stream. */
  isolated: number;
}

export interface StreamFigures {
  events: number;
  notifications_per_event: number;
  connections: number;
  /** GET /healthz at the same connections, in the same run. */
  noop: RunFigures;
  webhooks: RunFigures & { rejected_notifications: number };
  workerd_cpu_ms: number;
  cpu_ms_per_event: number;
  cpu_ms_per_push: number;
  /** CPU per event / the no-op's CPU per request. */
  cpu_ratio_to_noop: number;
  /**
   * workerd CPU per webhook of K notifications on a second relay without
   * queue consumers: the request path alone (verify, validate, enqueue).
   */
  cpu_ms_per_webhook_without_consumer?: number;
  consumer: {
    invocations: number;
    messages: number;
    retried_messages: number;
    invocations_per_event: number;
    notifications_per_invocation: number;
    d1_round_trips_per_event: number;
    d1_round_trips_max: number;
  };
  queue_operations_per_event: number;
  d1: {
    /** What the consumer reported (all its queues), and deleting the events as retention will. */
    consumer_rows_read: number;
    consumer_rows_written: number;
    retention: Retirement;
    rows_read_per_event: number;
    rows_written_per_event: number;
    rows_written_per_notification: number;
    /** Rows each table gained during the stream (retention's deletes not yet applied). */
    table_growth: Record<string, number>;
    bytes_added: number;
  };
  /** What one event used (the fan-out's per-notification items, per event here), for the cost. */
  usage_per_event: PerNotification;
  cost: { lines: CostLine[]; total: number };
  /** From each webhook's 200 to each of its pushes at the stand-ins. */
  latency: { p50_ms: number; p99_ms: number; max_ms: number };
  isolated: IsolatedFigures;
  exactly_once: DeliveryCheck & { passed: boolean };
}

/** Streams measured on this relay so far: each seeds users of its own. */
let runs = 0;

type Base = Omit<RunOptions, "amount">;

/** Isolate start, JIT, provider credentials, D1 and queue paths; then the stand-ins forget it. */
async function warmUp(relay: LocalRelay, base: Base, events: StreamEvents, standins: StandinClient): Promise<void> {
  await runGet({ ...base, amount: 500 }, "/healthz");
  const since = Date.now();
  const warm = await runWebhooks({ ...base, amount: events.webhooks.length - base.connections * 2 }, events.next);
  await waitForDrain(relay, since, warm.messages, 120_000);
  await standins.reset();
}

interface Window {
  run: WebhookRun;
  /** The push queue's consumer invocations during the window, and those of every queue (the dead letters' too). */
  batches: DeliveryBatch[];
  everyQueue: DeliveryBatch[];
  cpuMs: number;
  growth: Record<string, number>;
  bytesAdded: number;
}

/** The measured stream: the webhooks, then until the consumer settled every message they sent. */
async function measureWindow(relay: LocalRelay, base: Base, events: StreamEvents, count: number): Promise<Window> {
  const rowsBefore = await tableRows(relay.db);
  const bytesBefore = await databaseBytes(relay.db);
  const cpu = startCpuMeter(relay.workerdPids);
  const since = Date.now();
  const run = await runWebhooks({ ...base, amount: count }, events.next);
  const batches = await waitForDrain(relay, since, run.messages, 300_000);
  const cpuMs = cpu();
  const everyQueue = relay.log.batchesSince(since);
  const growth = tableGrowth(rowsBefore, await tableRows(relay.db));
  return { run, batches, everyQueue, cpuMs, growth, bytesAdded: (await databaseBytes(relay.db)) - bytesBefore };
}

/** Every accepted event's pushes arrived once each, nothing else was pushed, every webhook answered 2xx. */
async function exactlyOnce(relay: LocalRelay, standins: StandinClient, events: StreamEvents, run: WebhookRun) {
  const check = await checkDeliveries(standins, { before: 0, after: await standins.pushCount() }, events.tokens, new Set(run.accepted.keys()), relay);
  const passed =
    check.missing === 0 && check.duplicates === 0 && check.unexpected === 0 && check.unanswered.pushes === 0 && run.non2xx === 0 && run.errors === 0;
  return { ...check, passed };
}

export async function measureStream(relay: LocalRelay, options: StreamOptions): Promise<StreamFigures> {
  const run = runs++;
  const standins = new StandinClient(relay.standinUrl);
  const base: Base = { url: relay.url, connections: options.connections, workerdPids: relay.workerdPids };
  const shape = { perEvent: options.perEvent, fcmShare: options.fcmShare };
  const spare = options.connections * 2;
  const warm = await streamEvents(relay, `swarm${run}_`, { ...shape, count: Math.min(200, options.events) + spare });
  await warmUp(relay, base, warm, standins);
  const events = await streamEvents(relay, `stream${run}_`, { ...shape, count: options.events + spare });

  const noop = await runGet({ ...base, amount: options.events }, "/healthz");
  const window = await measureWindow(relay, base, events, options.events);
  const check = await exactlyOnce(relay, standins, events, window.run);
  const latencies = answerToPush(await standins.pushes(), window.run.answeredAt);
  // Signed now, not with the stream: a long stream could outlast Svix's 5 minutes of tolerance.
  const alone = await streamEvents(relay, `alone${run}_`, { ...shape, count: options.isolated });
  const isolated = await measureIsolated(relay, standins, alone);
  const retention = await retireEvents(relay.db, [...window.run.accepted.keys()]);
  return figures({ options, noop, window, retention, check, latencies, isolated, bytes: bodyBytes(events, window.run) });
}

/** Bytes of the accepted webhooks' bodies: they stand in for the queue messages' size. */
function bodyBytes(events: StreamEvents, run: WebhookRun): number {
  return events.webhooks.reduce((sum, w) => sum + (run.accepted.has(w.id) ? w.body.length : 0), 0);
}

interface Measured {
  options: StreamOptions;
  noop: RunFigures;
  window: Window;
  retention: Retirement;
  check: DeliveryCheck & { passed: boolean };
  latencies: number[];
  isolated: IsolatedFigures;
  bytes: number;
}

const total = (batches: readonly DeliveryBatch[], pick: (b: DeliveryBatch) => number | undefined) =>
  batches.reduce((sum, b) => sum + (pick(b) ?? 0), 0);

/** What one event used: requests, CPU, queue operations, D1 rows (consumer and retention) and bytes kept. */
function perEventOf(m: Measured, events: number): PerNotification {
  const { batches, everyQueue, cpuMs, bytesAdded } = m.window;
  return {
    requests: (events + batches.length) / events,
    cpu_ms: cpuMs / events,
    queue_operations: queueOperations(total(batches, (b) => b.messages), total(batches, (b) => b.retried), m.bytes) / events,
    d1_rows_read: (total(everyQueue, (b) => b.d1_rows_read) + m.retention.rows_read) / events,
    d1_rows_written: (total(everyQueue, (b) => b.d1_rows_written) + m.retention.rows_written) / events,
    d1_bytes: Math.max(0, bytesAdded) / events,
  };
}

function consumerOf(batches: readonly DeliveryBatch[], everyQueue: readonly DeliveryBatch[], events: number, notifications: number) {
  return {
    invocations: batches.length,
    messages: total(batches, (b) => b.messages),
    retried_messages: total(batches, (b) => b.retried),
    invocations_per_event: batches.length / events,
    notifications_per_invocation: batches.length > 0 ? notifications / batches.length : 0,
    d1_round_trips_per_event: total(everyQueue, (b) => b.d1_round_trips) / events,
    d1_round_trips_max: Math.max(0, ...everyQueue.map((b) => b.d1_round_trips)),
  };
}

function figures(m: Measured): StreamFigures {
  const { run, batches, everyQueue, cpuMs, growth, bytesAdded } = m.window;
  const events = Math.max(1, run.accepted.size);
  const notifications = events * m.options.perEvent;
  const per = perEventOf(m, events);
  const noopCpu = m.noop.cpu_ms_per_request ?? Number.NaN;
  const { accepted: _a, answeredAt: _t, rejected: _r, messages: _m, rejectedNotifications, ...webhooks } = run;
  return {
    events,
    notifications_per_event: m.options.perEvent,
    connections: m.options.connections,
    noop: m.noop,
    webhooks: { ...webhooks, rejected_notifications: rejectedNotifications },
    workerd_cpu_ms: cpuMs,
    cpu_ms_per_event: cpuMs / events,
    cpu_ms_per_push: cpuMs / notifications,
    cpu_ratio_to_noop: cpuMs / events / noopCpu,
    consumer: consumerOf(batches, everyQueue, events, notifications),
    queue_operations_per_event: per.queue_operations,
    d1: {
      consumer_rows_read: total(everyQueue, (b) => b.d1_rows_read),
      consumer_rows_written: total(everyQueue, (b) => b.d1_rows_written),
      retention: m.retention,
      rows_read_per_event: per.d1_rows_read,
      rows_written_per_event: per.d1_rows_written,
      rows_written_per_notification: per.d1_rows_written / m.options.perEvent,
      table_growth: growth,
      bytes_added: bytesAdded,
    },
    usage_per_event: per,
    cost: costPerMillion(per, LEDGER_RETENTION_DAYS),
    latency: { p50_ms: quantile(m.latencies, 0.5), p99_ms: quantile(m.latencies, 0.99), max_ms: m.latencies.at(-1) ?? Number.NaN },
    isolated: m.isolated,
    exactly_once: m.check,
  };
}
