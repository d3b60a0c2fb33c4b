/**
 * The bench's output: a table for people, `bench/results/latest.json` for
 * comparisons, and each target with its verdict, so a miss is never just a
 * number in a column.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { FanoutFigures } from "./fanout.ts";
import type { IngressFigures } from "./ingress.ts";
import type { Machine } from "./machine.ts";
import { formatStream, streamTargets } from "./stream-report.ts";
import type { StreamFigures } from "./stream.ts";
import { costTable, f, int, row, type Target } from "./table.ts";
import { formatWeek, weekTargets } from "./week-report.ts";
import type { WeekFigures } from "./week.ts";

export type { Target } from "./table.ts";

export interface BenchResult {
  machine: Machine;
  ingress?: IngressFigures;
  fanout?: FanoutFigures;
  stream?: StreamFigures;
  week?: WeekFigures;
  targets: Target[];
  /** Error lines the Worker logged during the run (first 50). */
  worker_errors: string[];
  /** Free-form extras, e.g. a CPU profile breakdown. */
  [extra: string]: unknown;
}

export const TARGETS = {
  ingressP99Ratio: 1.2,
  fanoutSeconds: 10,
  dollarsPerMillion: 1,
  d1RoundTripsPerBatch: 3,
};

export function targetsOf(
  ingress: IngressFigures | undefined,
  fanout: FanoutFigures | undefined,
  stream?: StreamFigures,
  week?: WeekFigures,
): Target[] {
  const targets: Target[] = [];
  if (ingress) {
    targets.push({
      name: "ingress p99 vs no-op route",
      target: `≤ ${TARGETS.ingressP99Ratio}×`,
      value: `${ingress.p99_ratio.toFixed(2)}×`,
      met: ingress.p99_ratio <= TARGETS.ingressP99Ratio,
    });
  }
  if (fanout) {
    const seconds = fanout.last_push_ms === null ? Number.POSITIVE_INFINITY : fanout.last_push_ms / 1000;
    targets.push(
      {
        name: `fan-out of ${fanout.notifications.toLocaleString("en-US")}: 200 → last push`,
        target: `≤ ${TARGETS.fanoutSeconds} s`,
        value: Number.isFinite(seconds) ? `${seconds.toFixed(2)} s` : "never",
        met: seconds <= TARGETS.fanoutSeconds && fanout.pushes >= fanout.notifications,
      },
      {
        name: "D1 round trips per queue batch (max)",
        target: `≤ ${TARGETS.d1RoundTripsPerBatch}`,
        value: String(fanout.consumer.d1_round_trips_max),
        met: fanout.consumer.d1_round_trips_max <= TARGETS.d1RoundTripsPerBatch,
      },
      {
        name: "cost per million notifications on Workers Paid",
        target: `< $${TARGETS.dollarsPerMillion}`,
        value: `$${fanout.cost.total.toFixed(2)}`,
        met: fanout.cost.total < TARGETS.dollarsPerMillion,
      },
      {
        name: "every notification sent exactly once (ledger and stand-ins)",
        target: "yes",
        value: fanout.ledger.sent_exactly_once ? "yes" : "no",
        met: fanout.ledger.sent_exactly_once,
      },
    );
  }
  if (stream) targets.push(...streamTargets(stream));
  if (week) targets.push(...weekTargets(week));
  return targets;
}


export function formatTable(result: BenchResult): string {
  const { machine, ingress, fanout } = result;
  const lines = [
    `LearnInk push relay bench, ${machine.date}`,
    `${machine.cores} cores (${machine.cpu_model}), ${machine.memory_gib} GiB, node ${machine.node}, workerd ${machine.workerd}, ` +
      `commit ${machine.commit ?? "?"}${machine.dirty ? " + local changes" : ""}, load average before ${machine.load_before.toFixed(2)}`,
    "",
  ];
  if (ingress) {
    const widths = [26, 8, 8, 8, 16];
    const { healthz: h, webhook: w } = ingress;
    lines.push(
      `Ingress: ${ingress.connections} connections, ${int(w.requests)} requests per run, median of ${ingress.rounds} alternating rounds`,
      row(["", "req/s", "p50 ms", "p99 ms", "workerd CPU ms"], widths),
      row(["GET /healthz (no-op)", int(h.rps), f(h.p50_ms), f(h.p99_ms), f(h.cpu_ms_per_request, 3)], widths),
      row(["POST /webhooks/learnink", int(w.rps), f(w.p50_ms), f(w.p99_ms), f(w.cpu_ms_per_request, 3)], widths),
      row(
        ["webhook / no-op", `${f(ingress.rps_ratio, 2)}×`, `${f(ingress.p50_ratio, 2)}×`, `${f(ingress.p99_ratio, 2)}×`,
          `${f((w.cpu_ms_per_request ?? 0) / (h.cpu_ms_per_request ?? 1), 2)}×`],
        widths,
      ),
      `  one connection (no queueing): no-op p50 ${f(ingress.serial.healthz.p50_ms, 2)} / p99 ${f(ingress.serial.healthz.p99_ms, 2)} ms, ` +
        `webhook p50 ${f(ingress.serial.webhook.p50_ms, 2)} / p99 ${f(ingress.serial.webhook.p99_ms, 2)} ms`,
      `  workerd CPU per webhook: ${f(ingress.cpu_ms_per_webhook_without_consumer ?? null, 3)} ms with no queue consumer running, ` +
        `${f(ingress.cpu_ms_per_webhook_end_to_end, 3)} ms including the consumer's work on its message`,
      `  non-2xx: webhook ${w.non2xx}, no-op ${h.non2xx}; connection errors: ${w.errors + h.errors}`,
      "",
    );
  }
  if (fanout) {
    const c = fanout.consumer;
    lines.push(
      `Fan-out: one event, ${int(fanout.notifications)} notifications, ${int(fanout.devices.fcm)} FCM + ${int(fanout.devices.apns)} APNs` +
        (fanout.devices.expo === undefined
          ? " devices"
          : ` + ${int(fanout.devices.expo)} Expo + ${int(fanout.devices.hms ?? 0)} Huawei devices + ${int(fanout.devices.onesignal ?? 0)} OneSignal users`) +
        (fanout.provider_latency_ms ? `, stand-ins answering after ${fanout.provider_latency_ms} ms` : ""),
      `  webhook answered 200 in         ${int(fanout.webhook_ms)} ms`,
      `  200 → first push                ${fanout.first_push_ms === null ? "n/a" : `${int(fanout.first_push_ms)} ms`}`,
      `  200 → last push                 ${fanout.last_push_ms === null ? "n/a" : `${int(fanout.last_push_ms)} ms`}`,
      `  pushes accepted / per second    ${int(fanout.pushes)} / ${fanout.pushes_per_s === null ? "n/a" : int(fanout.pushes_per_s)}`,
      `  consumer invocations            ${c.invocations} (${int(c.notifications_per_invocation)} notifications each)`,
      `  D1 round trips per batch        max ${c.d1_round_trips_max}, mean ${f(c.d1_round_trips_mean, 2)}`,
      `  subrequests per invocation      peak ${int(c.subrequests_max)}`,
      `  workerd CPU per notification    ${f(fanout.cpu_ms_per_notification, 3)} ms (${int(fanout.workerd_cpu_ms)} ms in all)`,
      `  ledger                          ${Object.entries(fanout.ledger.by_status).map(([s, n]) => `${int(n)} ${s}`).join(", ")}` +
        `, max attempts ${fanout.ledger.max_attempts}, duplicate pushes ${fanout.duplicate_pushes}`,
      `  D1 rows per notification        ${f(fanout.d1.rows_read / fanout.notifications, 2)} read, ` +
        `${f(fanout.d1.rows_written / fanout.notifications, 2)} written by the consumer; ` +
        `${f(fanout.d1.retention_rows_written / fanout.notifications, 2)} written by retention; ` +
        `${int(fanout.per_notification.d1_bytes)} bytes stored`,
      ...(fanout.by_provider ? providerTable(fanout.by_provider) : []),
      "",
      "Cost per million notifications on Workers Paid, beyond the included allowances (bench/cost.ts cites the prices)",
      ...costTable(fanout.cost, "notification"),
      "",
    );
  }
  if (result.stream) lines.push(...formatStream(result.stream), "");
  if (result.week) lines.push(...formatWeek(result.week), "");
  if (result.targets.length > 0) {
    lines.push("Targets");
    for (const t of result.targets) lines.push(`  ${t.met ? "met   " : "MISSED"}  ${t.name}: ${t.value} (target ${t.target})`);
  }
  if (result.worker_errors.length > 0) {
    lines.push("", `The Worker logged ${result.worker_errors.length} error line(s), first: ${result.worker_errors[0]}`);
  }
  return lines.join("\n");
}

/** The mixed fan-out's figures per provider. */
function providerTable(figures: NonNullable<FanoutFigures["by_provider"]>): string[] {
  const widths = [14, 14, 10, 10, 22, 16, 10];
  return [
    "",
    "  Per provider",
    row(["", "notifications", "pushes", "requests", "requests/notification", "200 → last push", "pushes/s"], widths),
    ...Object.entries(figures).map(([provider, p]) =>
      row(
        [
          provider,
          int(p.notifications),
          int(p.pushes),
          int(p.requests),
          f(p.requests_per_notification, 3),
          p.last_push_ms === null ? "n/a" : `${int(p.last_push_ms)} ms`,
          p.pushes_per_s === null ? "n/a" : int(p.pushes_per_s),
        ],
        widths,
      ),
    ),
  ];
}

export async function writeResult(path: string, result: BenchResult): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(result, null, 2)}\n`);
}
