/**
 * `npm run bench`: ingress against the no-op route, then a 10,000-device
 * fan-out, and with --stream a stream of small events, in local workerd
 * against the stand-ins; prints a table and writes
 * bench/results/latest.json.
 *
 *   npm run bench -- [--connections 32] [--requests 5000] [--rounds 3]
 *                    [--notifications 10000] [--fcm-share 0.6] [--provider-latency 0] [--mix SPEC | --mixed]
 *                    [--stream [--events 2000] [--per-event 1] [--stream-connections 16] [--isolated 10]]
 *                    [--week [--per-day 1000000] [--days 7]]
 *                    [--skip-ingress] [--skip-fanout] [--out FILE] [--strict]
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { measureFanout } from "./fanout.ts";
import type { FleetMix } from "./seed.ts";
import { type LocalRelay, ROOT, startLocalRelay } from "./harness.ts";
import { type IngressFigures, type IngressOptions, measureIngress, measureIngressAlone } from "./ingress.ts";
import { describeMachine } from "./machine.ts";
import { type BenchResult, formatTable, targetsOf, writeResult } from "./report.ts";
import { measureStream, type StreamOptions } from "./stream.ts";
import { measureWeek } from "./week.ts";
import type { WeekSeedOptions } from "./week-seed.ts";

const USAGE = `Usage: npm run bench -- [options]

  --connections N     concurrent connections for ingress (default 32)
  --requests N        requests per measured ingress run (default 5000)
  --rounds N          alternating no-op/webhook rounds; the median is reported (default 3)
  --notifications N   notifications in the fan-out event, one device each (default 10000)
  --fcm-share X       share of FCM devices in the fan-out, 0..1 (default 0.6)
  --provider-latency MS  the stand-ins answer each push of the fan-out this much later,
                      like a real provider's round trip (default 0)
  --mix SPEC          a mixed fan-out instead: weights of FCM, APNs, Expo, Huawei (hms) devices
                      and OneSignal users without a device, e.g. fcm=4,apns=3,expo=2,hms=1,onesignal=1
  --mixed             the same as --mix fcm=4,apns=3,expo=2,onesignal=1
  --announcement      the fan-out's notifications all have the same text and path
                      (OneSignal sends such users in one request per queue message)
  --stream            also a stream of small events: N signed webhooks of K notifications,
                      one device per user, beside the no-op route; then isolated events
  --events N          events in the stream (default 2000)
  --per-event K       notifications per event, each for a user of its own (default 1)
  --stream-connections C  concurrent connections for the stream (default 16)
  --isolated N        isolated events after the stream, one at a time (default 10)
  --week              also the reads of a week: D1 seeded directly with D days of N notifications
                      (fan-outs and single reminders), then a user's deliveries, the console's
                      user page and overview, /v1/stats and one event, timed, with D1 rows read
  --per-day N         notifications a day for --week (default 1000000)
  --days D            days for --week (default 7)
  --skip-ingress      measure the fan-out only
  --skip-fanout       measure ingress only
  --out FILE          where to write the JSON (default bench/results/latest.json)
  --strict            exit 1 when a target is missed, not only on a correctness failure
  -h, --help          this text`;

function positive(value: string, name: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new Error(`${name} must be a number in (0, ${max}], not "${value}"`);
  return n;
}

function options() {
  const { values } = parseArgs({
    options: {
      connections: { type: "string", default: "32" },
      requests: { type: "string", default: "5000" },
      rounds: { type: "string", default: "3" },
      notifications: { type: "string", default: "10000" },
      "fcm-share": { type: "string", default: "0.6" },
      "provider-latency": { type: "string", default: "0" },
      mix: { type: "string" },
      mixed: { type: "boolean", default: false },
      announcement: { type: "boolean", default: false },
      stream: { type: "boolean", default: false },
      events: { type: "string", default: "2000" },
      "per-event": { type: "string", default: "1" },
      "stream-connections": { type: "string", default: "16" },
      isolated: { type: "string", default: "10" },
      week: { type: "boolean", default: false },
      "per-day": { type: "string", default: "1000000" },
      days: { type: "string", default: "7" },
      "skip-ingress": { type: "boolean", default: false },
      "skip-fanout": { type: "boolean", default: false },
      out: { type: "string", default: join(ROOT, "bench", "results", "latest.json") },
      strict: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  return {
    connections: Math.round(positive(values.connections, "--connections")),
    requests: Math.round(positive(values.requests, "--requests")),
    rounds: Math.round(positive(values.rounds, "--rounds")),
    notifications: Math.round(positive(values.notifications, "--notifications")),
    fcmShare: positive(values["fcm-share"], "--fcm-share", 1),
    providerLatencyMs: values["provider-latency"] === "0" ? 0 : Math.round(positive(values["provider-latency"], "--provider-latency")),
    mix: values.mix !== undefined ? parseMix(values.mix) : values.mixed ? parseMix(MIXED) : undefined,
    announcement: values.announcement,
    stream: values.stream ? streamOptions(values) : undefined,
    week: values.week ? weekOptions(values) : undefined,
    ingress: !values["skip-ingress"],
    fanout: !values["skip-fanout"],
    out: values.out,
    strict: values.strict,
  };
}

/** --stream's events, notifications per event, connections and isolated events. */
function streamOptions(values: Record<string, string | boolean | undefined>): StreamOptions {
  const number = (name: string) => Math.round(positive(String(values[name]), `--${name}`));
  return {
    events: number("events"),
    perEvent: number("per-event"),
    connections: number("stream-connections"),
    fcmShare: positive(String(values["fcm-share"]), "--fcm-share", 1),
    isolated: number("isolated"),
  };
}

/** --week's notifications a day and days; a day's notifications go to distinct seconds, so at most 10 million. */
function weekOptions(values: Record<string, string | boolean | undefined>): WeekSeedOptions {
  return {
    perDay: Math.round(positive(String(values["per-day"]), "--per-day", 10_000_000)),
    days: Math.round(positive(String(values.days), "--days", 31)),
  };
}

/** The --mixed fleet: 40 % FCM, 30 % APNs, 20 % Expo, 10 % OneSignal users without a device. */
const MIXED = "fcm=4,apns=3,expo=2,onesignal=1";

/** `fcm=4,apns=3,expo=2,hms=1,onesignal=1` as weights. */
function parseMix(spec: string): FleetMix {
  const mix: FleetMix = {};
  for (const part of spec.split(",")) {
    const [name, weight] = part.split("=");
    if (name !== "fcm" && name !== "apns" && name !== "expo" && name !== "hms" && name !== "onesignal") throw new Error(`--mix: unknown provider "${name}"`);
    mix[name] = positive(weight ?? "", `--mix ${name}`);
  }
  return mix;
}

const say = (line: string) => process.stderr.write(`${line}\n`);

/** The request path's CPU on its own, on a second relay that has no queue consumer. */
async function ingressAlone(options: IngressOptions): Promise<number> {
  say("Ingress again on a relay without queue consumers, for the request path's own CPU...");
  const relay = await startLocalRelay({ quiet: true, consume: false });
  try {
    return await measureIngressAlone(relay, options);
  } finally {
    await relay.close();
  }
}

type Options = ReturnType<typeof options>;

/** The halves asked for, on one relay, each reported beside what it is compared with. */
async function measureAll(relay: LocalRelay, opts: Options): Promise<BenchResult> {
  const machine = describeMachine(ROOT, relay.versions);
  if (machine.load_before > 0.5) {
    say(`Note: the load average is ${machine.load_before.toFixed(2)}; other work on the machine skews latency (CPU per request much less).`);
  }
  let ingress: IngressFigures | undefined;
  if (opts.ingress) {
    say(`Ingress: ${opts.rounds} rounds of ${opts.requests} requests at ${opts.connections} connections, no-op route then webhooks, then one connection...`);
    ingress = await measureIngress(relay, { connections: opts.connections, requests: opts.requests, serialRequests: 1000, rounds: opts.rounds, notifications: 1 });
  }
  let fanout;
  if (opts.fanout) {
    const latency = opts.providerLatencyMs ? ` (stand-ins answering after ${opts.providerLatencyMs} ms)` : "";
    say(`Fan-out: seeding ${opts.notifications} devices, then one event for all of them${latency}...`);
    fanout = await measureFanout(relay, {
      notifications: opts.notifications,
      fcmShare: opts.fcmShare,
      providerLatencyMs: opts.providerLatencyMs,
      mix: opts.mix,
      announcement: opts.announcement,
    });
  }
  let stream;
  if (opts.stream) {
    const { events, perEvent, connections, isolated } = opts.stream;
    say(`Stream: ${events} events of ${perEvent} notification(s) at ${connections} connections beside the no-op route, then ${isolated} isolated events...`);
    stream = await measureStream(relay, opts.stream);
  }
  let week;
  if (opts.week) {
    const { perDay, days } = opts.week;
    say(`Week: seeding ${days} days of ${perDay.toLocaleString("en-US")} notifications into D1, then the reads of a week...`);
    week = await measureWeek(relay, opts.week);
  }
  return { machine, ingress, fanout, stream, week, targets: targetsOf(ingress, fanout, stream, week), worker_errors: relay.log.errors };
}

async function main(): Promise<number> {
  const opts = options();
  say("Building the Worker and starting workerd and the stand-ins...");
  const relay = await startLocalRelay({ quiet: true, oneSignal: opts.mix?.onesignal !== undefined });
  let result: BenchResult;
  try {
    result = await measureAll(relay, opts);
  } finally {
    await relay.close();
  }
  if (result.ingress) result.ingress.cpu_ms_per_webhook_without_consumer = await ingressAlone({
    connections: opts.connections,
    requests: opts.requests,
    serialRequests: 0,
    rounds: 1,
    notifications: 1,
  });
  if (result.stream) result.stream.cpu_ms_per_webhook_without_consumer = await ingressAlone({
    connections: result.stream.connections,
    requests: result.stream.events,
    serialRequests: 0,
    rounds: 1,
    notifications: result.stream.notifications_per_event,
  });
  console.log(formatTable(result));
  await writeResult(opts.out, result);
  say(`\nWrote ${opts.out}`);
  const correct =
    (!result.fanout || result.fanout.ledger.sent_exactly_once) &&
    (!result.stream || result.stream.exactly_once.passed) &&
    (!result.week || result.week.reads.every((r) => r.check.passed));
  const missed = result.targets.some((t) => !t.met);
  return !correct || (opts.strict && missed) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
