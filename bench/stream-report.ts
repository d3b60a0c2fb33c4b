/**
 * The stream's part of the report: its targets (issue 22) with their
 * verdicts, and its lines of the table, beside the no-op route of the same
 * run.
 */
import type { StreamFigures } from "./stream.ts";
import { costTable, f, int, type Target } from "./table.ts";

export const STREAM_TARGETS = {
  /** workerd CPU per single-notification event, webhook and consumer together, / the no-op's per request. */
  cpuRatioToNoop: 3,
  rowsWrittenPerEvent: 0.3,
  rowsReadPerEvent: 3,
  dollarsPerMillionEvents: 2,
  /** For events of several notifications (the issue measures 5). */
  rowsWrittenPerNotification: 0.1,
  /** Isolated event p99, 200 → push: the batch timeout plus this. */
  isolatedSlackS: 1,
};


/** The single-notification targets, which the issue sets for events of one notification. */
function singleTargets(s: StreamFigures): Target[] {
  const t = STREAM_TARGETS;
  return [
    { name: "stream: workerd CPU per event vs the no-op's per request", target: `≤ ${t.cpuRatioToNoop}×`, value: `${f(s.cpu_ratio_to_noop, 2)}×`, met: s.cpu_ratio_to_noop <= t.cpuRatioToNoop },
    { name: "stream: D1 rows written per event", target: `≤ ${t.rowsWrittenPerEvent}`, value: f(s.d1.rows_written_per_event, 2), met: s.d1.rows_written_per_event <= t.rowsWrittenPerEvent },
    { name: "stream: D1 rows read per event", target: `≤ ${t.rowsReadPerEvent}`, value: f(s.d1.rows_read_per_event, 1), met: s.d1.rows_read_per_event <= t.rowsReadPerEvent },
    { name: "stream: cost per million events on Workers Paid", target: `≤ $${t.dollarsPerMillionEvents.toFixed(2)}`, value: `$${f(s.cost.total, 2)}`, met: s.cost.total <= t.dollarsPerMillionEvents },
  ];
}

export function streamTargets(s: StreamFigures): Target[] {
  const t = STREAM_TARGETS;
  const isolatedMs = (s.isolated.batch_timeout_s + t.isolatedSlackS) * 1000;
  const perNotification = s.d1.rows_written_per_notification;
  return [
    ...(s.notifications_per_event === 1
      ? singleTargets(s)
      : [{ name: `stream: D1 rows written per notification (events of ${s.notifications_per_event})`, target: `≤ ${t.rowsWrittenPerNotification}`, value: f(perNotification, 3), met: perNotification <= t.rowsWrittenPerNotification }]),
    {
      name: `stream: isolated event, 200 → push p99 (${s.isolated.events} events)`,
      target: `≤ ${int(isolatedMs)} ms (max_batch_timeout ${s.isolated.batch_timeout_s} s + ${t.isolatedSlackS} s)`,
      value: `${int(s.isolated.p99_ms)} ms`,
      met: s.isolated.p99_ms <= isolatedMs,
    },
    { name: "stream: every push arrived exactly once (stand-ins' records)", target: "yes", value: s.exactly_once.passed ? "yes" : "no", met: s.exactly_once.passed },
  ];
}

/** Rows each table gained, per event, largest first. */
function growthLine(s: StreamFigures): string {
  const parts = Object.entries(s.d1.table_growth)
    .sort((a, b) => b[1] - a[1])
    .map(([table, n]) => `${table} ${f(n / s.events, Math.abs(n / s.events) < 0.1 ? 4 : 2)}`);
  return parts.length > 0 ? parts.join(", ") : "none";
}

/** The request path's own CPU, from the relay without consumers, and what is left for the consumer. */
function requestPathLine(s: StreamFigures): string[] {
  const alone = s.cpu_ms_per_webhook_without_consumer;
  if (alone === undefined) return [];
  return [
    `    of which                      request path alone ${f(alone, 3)} ms per webhook (a relay without queue consumers), ` +
      `so about ${f(s.cpu_ms_per_event - alone, 3)} ms per event for the consumer`,
  ];
}

const ms = (value: number) => `${int(value)} ms`;
const plural = (n: number, word: string) => `${int(n)} ${word}${n === 1 ? "" : "s"}`;

/** The stream's lines of the table, then its cost table. */
export function formatStream(s: StreamFigures): string[] {
  const { noop, webhooks: w, consumer: c, d1, exactly_once: x } = s;
  const perEvent = (n: number) => f(n / s.events, 2);
  return [
    `Stream: ${plural(s.events, "event")} of ${plural(s.notifications_per_event, "notification")} at ${s.connections} connections, ` +
      "one device per user (FCM and APNs interleaved), beside GET /healthz (no-op) in the same run",
    `  workerd CPU                     ${f(s.cpu_ms_per_event, 3)} ms per event, ${f(s.cpu_ms_per_push, 3)} ms per push; ` +
      `${f(s.cpu_ratio_to_noop, 2)}× the no-op's ${f(noop.cpu_ms_per_request, 3)} ms per request (${int(s.workerd_cpu_ms)} ms in all)`,
    ...requestPathLine(s),
    `  webhooks / no-op                ${int(w.rps)} / ${int(noop.rps)} req/s, p50 ${f(w.p50_ms)} / ${f(noop.p50_ms)} ms, ` +
      `p99 ${f(w.p99_ms)} / ${f(noop.p99_ms)} ms; non-2xx ${w.non2xx}, notifications rejected ${w.rejected_notifications}`,
    `  D1 rows written per event       ${f(d1.rows_written_per_event, 2)} (consumer ${perEvent(d1.consumer_rows_written)}, ` +
      `retention's deletes ${perEvent(d1.retention.rows_written)}); ${f(d1.rows_written_per_notification, 2)} per notification`,
    `  D1 rows read per event          ${f(d1.rows_read_per_event, 1)} (consumer ${perEvent(d1.consumer_rows_read)}, ` +
      `retention's deletes ${perEvent(d1.retention.rows_read)})`,
    `  D1 round trips per event        ${f(c.d1_round_trips_per_event, 2)} (at most ${c.d1_round_trips_max} in one invocation)`,
    `  rows kept per event, by table   ${growthLine(s)}; ${int(s.usage_per_event.d1_bytes)} bytes`,
    `  queue operations per event      ${f(s.queue_operations_per_event, 2)}`,
    `  consumer invocations per event  ${f(c.invocations_per_event, 3)} (${f(c.notifications_per_invocation, 1)} notifications each; ` +
      `${c.retried_messages} messages retried)`,
    `  200 → push                      p50 ${ms(s.latency.p50_ms)}, p99 ${ms(s.latency.p99_ms)}, max ${ms(s.latency.max_ms)}`,
    `  isolated event, 200 → push      p50 ${ms(s.isolated.p50_ms)}, p99 ${ms(s.isolated.p99_ms)} over ${plural(s.isolated.events, "event")} ` +
      `(max_batch_timeout ${s.isolated.batch_timeout_s} s)`,
    `  exactly once                    ${x.passed ? "yes" : "NO"}: ${int(x.expected)} pushes expected, ${int(x.received)} received, ` +
      `${x.missing} missing, ${x.duplicates} duplicates, ${x.unexpected} unexpected`,
    ...x.problems.map((p) => `    ${p}`),
    "",
    "Cost per million events on Workers Paid, beyond the included allowances (bench/cost.ts cites the prices)",
    ...costTable(s.cost, "event"),
  ];
}
