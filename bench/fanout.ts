/**
 * Fan-out: one `notifications.sent` event for N users with one device each
 * (mixed FCM and APNs; or, with a mix, FCM, APNs, Expo, Huawei and OneSignal users
 * without a device), timed from the webhook's 200 to the last push the
 * stand-ins recorded, per provider too, with the consumer's own accounting (D1 round trips
 * and subrequests per invocation, from its `delivery_batch` log lines) and
 * the ledger's word that every delivery is `sent` exactly once.
 */
import { type CostLine, costPerMillion, type PerNotification, queueOperations } from "./cost.ts";
import { runPool } from "../src/pool.ts";
import { startCpuMeter } from "./cpu.ts";
import { databaseBytes, LEDGER_RETENTION_DAYS, retireEvents } from "./d1-usage.ts";
import type { LocalRelay } from "./harness.ts";
import { eventDeliveryCounts } from "./ledger.ts";
import type { DeliveryBatch } from "./logs.ts";
import { benchDevices, type FleetMix, type FleetUser, mixedFleet, type SeededDevice, seedDevices } from "./seed.ts";
import { StandinClient } from "../standins/client.ts";
import { notification, WEBHOOK_PATH, WebhookSigner } from "./webhooks.ts";

export interface FanoutOptions {
  notifications: number;
  /** Share of FCM devices, 0..1; the rest are APNs. */
  fcmShare: number;
  /** How long the stand-ins take to answer each push, like a real provider's round trip (default 0). */
  providerLatencyMs?: number;
  /** Instead of `fcmShare`: weights of FCM, APNs, Expo and OneSignal users (the relay must run with OneSignal on). */
  mix?: FleetMix;
  /** Every notification with the same text and path (an announcement), as OneSignal can group; else one text per user. */
  announcement?: boolean;
}

/** One provider's share of a mixed fan-out. */
export interface ProviderFigures {
  notifications: number;
  pushes: number;
  /** Requests the relay made to the provider (FCM and APNs: one per push; Expo: push/send calls; OneSignal: notifications created). */
  requests: number;
  requests_per_notification: number;
  last_push_ms: number | null;
  pushes_per_s: number | null;
}

export interface FanoutFigures {
  notifications: number;
  provider_latency_ms: number;
  devices: { fcm: number; apns: number; expo?: number; hms?: number; onesignal?: number };
  /** With a mix: each provider's figures. */
  by_provider?: Record<string, ProviderFigures>;
  /** How long the 10,000-notification webhook took to answer 200. */
  webhook_ms: number;
  /** From the 200 to the first and to the last push the stand-ins accepted. */
  first_push_ms: number | null;
  last_push_ms: number | null;
  pushes: number;
  pushes_per_s: number | null;
  /** Pushes the stand-ins accepted more than once for the same event and device. */
  duplicate_pushes: number;
  consumer: {
    invocations: number;
    notifications_per_invocation: number;
    d1_round_trips_max: number;
    d1_round_trips_mean: number;
    subrequests_max: number;
    retried_messages: number;
    /** When each invocation ended, ms after the 200, and what it did. */
    timeline: { end_ms: number; notifications: number; d1_round_trips: number; subrequests: number }[];
  };
  ledger: { rows: number; by_status: Record<string, number>; sent_exactly_once: boolean; max_attempts: number };
  /** D1 usage, from the consumer's own accounting and from deleting the event as the retention sweep will. */
  d1: { rows_read: number; rows_written: number; retention_rows_read: number; retention_rows_written: number; bytes_added: number };
  /** What one notification used, and the cost per million notifications on Workers Paid (bench/cost.ts). */
  per_notification: PerNotification;
  cost: { lines: CostLine[]; total: number };
  workerd_cpu_ms: number;
  cpu_ms_per_notification: number;
  /** CPU of the bench's own process (stand-ins and polling), for context. */
  node_cpu_ms: number;
}

async function ledgerOf(relay: LocalRelay, eventId: string) {
  const results = await eventDeliveryCounts(relay.db, eventId);
  const by_status = Object.fromEntries(results.map((r) => [r.status, r.n]));
  return {
    rows: results.reduce((sum, r) => sum + r.n, 0),
    by_status,
    sentIndexes: results.find((r) => r.status === "sent")?.k ?? 0,
    max_attempts: Math.max(0, ...results.map((r) => r.a)),
  };
}

/** Waits until no row of the event is still being sent (the consumer recorded its outcomes). */
async function waitForLedger(relay: LocalRelay, eventId: string, rows: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ledger = await ledgerOf(relay, eventId);
    const open = (ledger.by_status.sending ?? 0) + (ledger.by_status.retrying ?? 0);
    if ((ledger.rows >= rows && open === 0) || Date.now() > deadline) return ledger;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Scripts one slow success per device: the stand-in records the push on arrival and answers `ms` later. */
async function delayAnswers(standins: StandinClient, devices: readonly FleetUser[], ms: number): Promise<void> {
  await runPool(devices, 8, (device) => standins.script(device.token, [{ status: 200, delayMs: ms }]));
}

/**
 * Each provider's pushes, requests and pace. The stand-ins were reset after
 * the warm-up, so their counters are this event's: FCM and APNs take one
 * request per push, Expo's are its push/send calls, OneSignal's the
 * notifications it created.
 */
function byProvider(
  recorded: readonly { provider: string; at: number }[],
  acceptedAt: number,
  counters: Awaited<ReturnType<StandinClient["stats"]>>,
  count: (provider: FleetUser["provider"]) => number,
): Record<string, ProviderFigures> {
  const requests = {
    fcm: counters.fcm_pushes,
    apns: counters.apns_pushes,
    expo: counters.expo_requests,
    hms: counters.hms_requests,
    onesignal: counters.onesignal_notifications,
  };
  const figures: Record<string, ProviderFigures> = {};
  for (const provider of ["fcm", "apns", "expo", "hms", "onesignal"] as const) {
    const notifications = count(provider);
    if (notifications === 0) continue;
    const times = recorded.filter((p) => p.provider === provider).map((p) => p.at);
    const last = times.length > 0 ? Math.max(...times) - acceptedAt : null;
    figures[provider] = {
      notifications,
      pushes: times.length,
      requests: requests[provider],
      requests_per_notification: requests[provider] / notifications,
      last_push_ms: last,
      pushes_per_s: last && last > 0 ? (times.length * 1000) / last : null,
    };
  }
  return figures;
}


/** Fan-outs measured on this relay so far: each seeds users of its own. */
let runs = 0;

export async function measureFanout(relay: LocalRelay, options: FanoutOptions): Promise<FanoutFigures> {
  const run = runs++;
  const standins = new StandinClient(relay.standinUrl);
  const signer = new WebhookSigner(relay.secret);
  const post = (body: string, headers: Record<string, string>) =>
    fetch(`${relay.url}${WEBHOOK_PATH}`, { method: "POST", headers, body });

  /** The users of a run: devices seeded in D1, OneSignal users made known to the stand-in. */
  const fleetOf = async (prefix: string, count: number): Promise<FleetUser[]> => {
    const users: FleetUser[] = options.mix ? mixedFleet(prefix, count, options.mix) : benchDevices(prefix, count, options.fcmShare);
    await seedDevices(relay.db, users.filter((u): u is SeededDevice & FleetUser => u.provider !== "onesignal"));
    const viaOneSignal = users.filter((u) => u.provider === "onesignal").map((u) => u.token);
    if (viaOneSignal.length > 0) await standins.oneSignalUsers({ app_id: relay.oneSignalAppId, external_ids: viaOneSignal, state: "subscribed" });
    return users;
  };

  // Warm-up: mint the FCM access token and the APNs JWT, start the consumer's isolate.
  const warmDevices = await fleetOf(`warm${run}_`, 20);
  const warm = signer.sign(warmDevices.map((d, i) => notification(d.user_id, i)));
  const warmAnswer = await post(warm.body, warm.headers);
  if (!warmAnswer.ok) throw new Error(`the warm-up webhook answered ${warmAnswer.status}: ${await warmAnswer.text()}`);
  await standins.waitForPushes(warmDevices.length, { idleMs: 30_000 });
  await waitForLedger(relay, warm.id, warmDevices.length, 30_000);
  await standins.reset();

  const devices = await fleetOf(`fan${run}_`, options.notifications);
  if (options.providerLatencyMs) await delayAnswers(standins, devices, options.providerLatencyMs);
  const event = signer.sign(devices.map((d, i) => notification(d.user_id, i, options.announcement)));

  const bytesBefore = await databaseBytes(relay.db);
  const cpu = startCpuMeter(relay.workerdPids);
  const nodeCpuBefore = process.cpuUsage();
  const sentAt = Date.now();
  const answer = await post(event.body, event.headers);
  const acceptedAt = Date.now();
  if (!answer.ok) throw new Error(`the fan-out webhook answered ${answer.status}: ${await answer.text()}`);
  await answer.text();

  const pushes = await standins.waitForPushes(options.notifications, { idleMs: 60_000 });
  const ledger = await waitForLedger(relay, event.id, options.notifications, 60_000);
  const workerdCpuMs = cpu();
  const nodeCpu = process.cpuUsage(nodeCpuBefore);
  const bytesAdded = (await databaseBytes(relay.db)) - bytesBefore;

  const counters = await standins.stats();
  const recorded = (await standins.pushes({ event_id: event.id })).map((p) => ({ token: p.token, at: p.received_at, provider: p.provider }));
  const times = recorded.map((p) => p.at);
  const perToken = new Map<string, number>();
  for (const { token } of recorded) perToken.set(token, (perToken.get(token) ?? 0) + 1);
  const duplicates = [...perToken.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
  const lastPushMs = times.length > 0 ? Math.max(...times) - acceptedAt : null;

  const batches = relay.log.batchesSince(sentAt).filter((b) => b.queue === relay.pushQueue);
  const d1 = batches.map((b) => b.d1_round_trips);
  const fcm = devices.filter((d) => d.provider === "fcm").length;
  const count = (provider: FleetUser["provider"]) => devices.filter((d) => d.provider === provider).length;
  const sum = (pick: (b: DeliveryBatch) => number) => batches.reduce((total, b) => total + (pick(b) ?? 0), 0);
  const retired = await retireEvents(relay.db, [event.id]);

  // The event's JSON stands in for its messages' size.
  const queueOps = queueOperations(sum((b) => b.messages), sum((b) => b.retried), event.body.length);
  const n = options.notifications;
  const perNotification: PerNotification = {
    requests: (1 + batches.length) / n,
    cpu_ms: workerdCpuMs / n,
    queue_operations: queueOps / n,
    d1_rows_read: (sum((b) => b.d1_rows_read) + retired.rows_read) / n,
    d1_rows_written: (sum((b) => b.d1_rows_written) + retired.rows_written) / n,
    d1_bytes: Math.max(0, bytesAdded) / n,
  };
  return {
    notifications: options.notifications,
    provider_latency_ms: options.providerLatencyMs ?? 0,
    devices: options.mix
      ? { fcm, apns: count("apns"), expo: count("expo"), hms: count("hms"), onesignal: count("onesignal") }
      : { fcm, apns: devices.length - fcm },
    ...(options.mix ? { by_provider: byProvider(recorded, acceptedAt, counters, count) } : {}),
    webhook_ms: acceptedAt - sentAt,
    first_push_ms: times.length > 0 ? Math.min(...times) - acceptedAt : null,
    last_push_ms: lastPushMs,
    pushes,
    pushes_per_s: lastPushMs && lastPushMs > 0 ? (recorded.length * 1000) / lastPushMs : null,
    duplicate_pushes: duplicates,
    consumer: {
      invocations: batches.length,
      notifications_per_invocation: batches.length > 0 ? options.notifications / batches.length : 0,
      d1_round_trips_max: Math.max(0, ...d1),
      d1_round_trips_mean: d1.length > 0 ? d1.reduce((a, b) => a + b, 0) / d1.length : 0,
      subrequests_max: Math.max(0, ...batches.map((b) => b.subrequests)),
      retried_messages: batches.reduce((sum, b) => sum + b.retried, 0),
      timeline: batches.map((b) => ({
        end_ms: b.at - acceptedAt,
        notifications: b.notifications,
        d1_round_trips: b.d1_round_trips,
        subrequests: b.subrequests,
      })),
    },
    ledger: {
      rows: ledger.rows,
      by_status: ledger.by_status,
      sent_exactly_once:
        ledger.rows === options.notifications &&
        ledger.by_status.sent === options.notifications &&
        ledger.sentIndexes === options.notifications &&
        ledger.max_attempts === 1 &&
        duplicates === 0,
      max_attempts: ledger.max_attempts,
    },
    d1: {
      rows_read: sum((b) => b.d1_rows_read),
      rows_written: sum((b) => b.d1_rows_written),
      retention_rows_read: retired.rows_read,
      retention_rows_written: retired.rows_written,
      bytes_added: bytesAdded,
    },
    per_notification: perNotification,
    cost: costPerMillion(perNotification, LEDGER_RETENTION_DAYS),
    workerd_cpu_ms: workerdCpuMs,
    cpu_ms_per_notification: workerdCpuMs / options.notifications,
    node_cpu_ms: (nodeCpu.user + nodeCpu.system) / 1000,
  };
}
