/**
 * `npm run load`: many signed webhooks at once against a relay, then a
 * check that nothing was refused, lost or sent twice. Each webhook is a
 * fresh event for 1 to 5 users with a registered device; once the stand-ins
 * have received every accepted notification (or nothing more arrives), each
 * (event, device) must have exactly one push. Exits 1 on any non-2xx
 * answer, loss or duplicate.
 *
 *   npm run load -- [--self | --url URL --standin-url URL [--secret whsec_...] [--api-key KEY]]
 *                   [--connections 64] [--duration 20] [--users 1000] [--max-notifications 5]
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { checkDeliveries, type DeliveryCheck } from "./load-check.ts";
import { LoadEvents } from "./load-events.ts";
import { runWebhooks, type WebhookRun } from "./load-generator.ts";
import { DEFAULT_RELAY_URL, type LoadTarget, openTarget } from "./load-target.ts";
import { benchDevices, registerDevices, type SeededDevice, unregisterDevices } from "./seed.ts";
import { StandinClient } from "../standins/client.ts";

const USAGE = `Usage: npm run load -- [options]

  --url URL               the relay (default ${DEFAULT_RELAY_URL}, the one \`npm start\` runs)
  --standin-url URL       its stand-ins (printed by \`npm start\`; required unless --self)
  --secret whsec_...      webhook secret (default: LEARNINK_WEBHOOK_SECRET from .dev.vars, else .dev.vars.example)
  --api-key KEY           API key (default: RELAY_API_KEY from .dev.vars, else .dev.vars.example)
  --self                  start the bench's own relay in workerd instead
  --connections N         concurrent connections (default 64)
  --duration S            seconds of load (default 20)
  --users N               users with one device each, 60% FCM (default 1000)
  --max-notifications N   notifications per webhook, 1..N (default 5)
  --idle-timeout S        give up waiting when no push arrived for this long (default 60)
  -h, --help              this text`;

const say = (line = "") => process.stdout.write(`${line}\n`);

function count(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, not "${value}"`);
  return n;
}

function options() {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      "standin-url": { type: "string" },
      secret: { type: "string" },
      "api-key": { type: "string" },
      self: { type: "boolean", default: false },
      connections: { type: "string", default: "64" },
      duration: { type: "string", default: "20" },
      users: { type: "string", default: "1000" },
      "max-notifications": { type: "string", default: "5" },
      "idle-timeout": { type: "string", default: "60" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    say(USAGE);
    process.exit(0);
  }
  return {
    target: { self: values.self, url: values.url, secret: values.secret, apiKey: values["api-key"], standinUrl: values["standin-url"] },
    connections: count(values.connections, "--connections"),
    duration: count(values.duration, "--duration"),
    users: count(values.users, "--users"),
    maxNotifications: count(values["max-notifications"], "--max-notifications"),
    idleMs: count(values["idle-timeout"], "--idle-timeout") * 1000,
  };
}

/** Which of these events the relay has deliveries for (GET /v1/events/:id is 404 for the others). */
async function acceptedByLedger(relay: { url: string; apiKey: string }, ids: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const id of ids) {
    const response = await fetch(`${relay.url}/v1/events/${encodeURIComponent(id)}?limit=1`, {
      headers: { authorization: `Bearer ${relay.apiKey}` },
    });
    await response.body?.cancel();
    if (response.ok) found.push(id);
    else if (response.status !== 404) throw new Error(`GET /v1/events/${id} answered ${response.status}`);
  }
  return found;
}

/** Waits until the push counter stops moving for `quietMs`. */
async function waitQuiet(standins: StandinClient, quietMs: number): Promise<number> {
  let last = await standins.pushCount();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = await standins.pushCount();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
  return last;
}

function summary(run: WebhookRun, sent: number, check: DeliveryCheck, deliveredMs: number): string[] {
  const rejected = Object.entries(run.rejected).map(([status, n]) => `${n}× ${status}`).join(", ") || "none";
  return [
    `  webhooks sent ${sent}, answered 2xx ${run.accepted.size} (${Math.round(run.accepted.size / run.seconds)}/s), ` +
      `non-2xx ${rejected}, cut off by the end of the run ${sent - run.accepted.size - run.non2xx}`,
    `  latency p50 ${run.p50_ms.toFixed(1)} ms, p99 ${run.p99_ms.toFixed(1)} ms`,
    `  pushes expected for accepted webhooks ${check.expected}, received ${check.received} ` +
      `(all within ${(deliveredMs / 1000).toFixed(1)} s after the last answer)`,
    `  missing ${check.missing}, duplicates ${check.duplicates}, unexpected ${check.unexpected}  [${check.method}]`,
    ...(check.unanswered.events > 0
      ? [`  webhooks never accepted (no answer, no ledger rows): ${check.unanswered.events}, pushes for them ${check.unanswered.pushes}`]
      : []),
    ...check.problems.map((p) => `  - ${p}`),
  ];
}

async function loadAndCheck(
  opts: ReturnType<typeof options>,
  target: LoadTarget,
  standins: StandinClient,
  devices: readonly SeededDevice[],
): Promise<number> {
  const events = new LoadEvents(target.secret, devices, opts.maxNotifications);
  const before = await standins.pushCount();
  say(`Posting signed webhooks (1-${opts.maxNotifications} notifications each) at ${opts.connections} connections for ${opts.duration} s...`);
  const run = await runWebhooks({ url: target.url, connections: opts.connections, duration: opts.duration }, () => events.next());
  const finished = Date.now();

  let expected = 0;
  for (const id of run.accepted.keys()) expected += events.sent.get(id)?.length ?? 0;
  say(`Waiting for ${expected} pushes at the stand-ins...`);
  await standins.waitForPushes(before + expected, { idleMs: opts.idleMs, intervalMs: 250 });
  const deliveredMs = Date.now() - finished;
  // Anything sent twice (a redelivered queue message) would come after the rest: give it a moment.
  const after = await waitQuiet(standins, 3_000);
  // Requests still in flight when the run stopped got no answer; the ledger knows whether they were accepted.
  const accepted = new Set(run.accepted.keys());
  const unanswered = [...events.sent.keys()].filter((id) => !accepted.has(id));
  for (const id of await acceptedByLedger(target, unanswered)) accepted.add(id);
  const check = await checkDeliveries(standins, { before, after }, events.sent, accepted, target);

  const failed =
    Object.keys(run.rejected).length > 0 || check.missing > 0 || check.duplicates > 0 || check.unexpected > 0 || check.unanswered.pushes > 0;
  say();
  say(`Load: ${opts.connections} connections for ${opts.duration} s, ${opts.users} users, 1-${opts.maxNotifications} notifications per webhook`);
  for (const line of summary(run, events.sent.size, check, deliveredMs)) say(line);
  say(failed ? "FAILED: a webhook was refused, or a notification was lost or sent twice" : "PASSED: every accepted notification reached its device exactly once");
  return failed ? 1 : 0;
}

async function main(): Promise<number> {
  const opts = options();
  const target = await openTarget(opts.target);
  try {
    const standins = new StandinClient(target.standinUrl);
    await standins.stats().catch((error: unknown) => {
      throw new Error(`cannot reach the stand-ins at ${target.standinUrl}: ${String(error)}`);
    });
    say(`Load against ${target.description}`);
    const devices = benchDevices(`load_${randomBytes(3).toString("hex")}_`, opts.users, 0.6);
    say(`Registering ${devices.length} devices through PUT /v1/devices...`);
    await registerDevices(target.url, target.apiKey, devices);
    try {
      return await loadAndCheck(opts, target, standins, devices);
    } finally {
      // A running relay keeps its database: leave no test devices in it.
      if (!opts.target.self) await unregisterDevices(target.url, target.apiKey, devices);
    }
  } finally {
    await target.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
