/**
 * Builders for the delivery side: queue messages, devices registered through
 * the API, fake providers that record what they were asked to send, and a
 * runner that feeds a batch to the consumer and reports acks and retries.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { type ConsumerDeps, consumePushBatch } from "../../src/delivery/consumer";
import worker from "../../src/index";
import type { AlertView } from "../../src/db/alerts";
import type { Stats } from "../../src/db/stats";
import { createProviders, type Provider, PROVIDERS } from "../../src/push/providers";
import type { ProviderDeps, PushMessage, PushProvider, PushResult } from "../../src/push/provider";
import type { PushJob, QueuedNotification, QueueMessage } from "../../src/queue/message";
import { freshCredentials } from "./standins";
import { api, uniqueId } from "./webhook";

export function queued(overrides: Partial<QueuedNotification> = {}): QueuedNotification {
  return {
    i: 0,
    title: "Time for your training",
    body: "Safety 101 is waiting",
    path: "/courses/safety-101",
    user_id: uniqueId("usr"),
    custom_id: null,
    ...overrides,
  };
}

export function job(notifications: QueuedNotification[], overrides: Partial<PushJob> = {}): PushJob {
  return { v: 1, event_id: uniqueId("msg"), received_at: Date.now(), notifications, ...overrides };
}

export async function registerDevice(device: {
  provider: Provider;
  token: string;
  custom_id?: string;
  user_id?: string;
  environment?: "production" | "sandbox";
  time_zone?: string;
}): Promise<void> {
  const response = await api("/v1/devices", { method: "PUT", json: device });
  expect(response.status, await response.clone().text()).toBeLessThan(300);
}

/** A provider that records every message and answers with `answer(message)`. */
export function fakeProvider(name: Provider, answer: (message: PushMessage) => PushResult | Promise<PushResult> = () => ({
  kind: "sent",
  id: `${name}-${crypto.randomUUID()}`,
})): PushProvider & { sent: PushMessage[] } {
  const sent: PushMessage[] = [];
  return {
    name,
    sent,
    async send(message) {
      sent.push(message);
      return answer(message);
    },
  };
}

export function fakeProviders(
  answer?: (message: PushMessage, provider: Provider) => PushResult | Promise<PushResult>,
): Record<Provider, PushProvider & { sent: PushMessage[] }> {
  const fakes: Partial<Record<Provider, PushProvider & { sent: PushMessage[] }>> = {};
  for (const { name } of PROVIDERS) fakes[name] = fakeProvider(name, answer && ((m) => answer(m, name)));
  return fakes as Record<Provider, PushProvider & { sent: PushMessage[] }>;
}

let messageCounter = 0;

/** Feeds `jobs` (PushJobs, or any queue message) to the consumer as one batch; returns its report and what was acked and retried. */
export async function runBatch(jobs: readonly QueueMessage[], deps: Partial<ConsumerDeps>, attempts = 1, envOverrides: Partial<Env> = {}) {
  const messages = jobs.map((body) => ({
    id: `m${++messageCounter}-${crypto.randomUUID()}`,
    timestamp: new Date(),
    attempts,
    body,
  }));
  const batch = createMessageBatch<QueueMessage>("learnink-push", messages);
  const ctx = createExecutionContext();
  const report = await consumePushBatch(batch, { ...env, ...envOverrides }, deps);
  const result = await getQueueResult(batch, ctx);
  // The test harness does not report retry delays, so they come from the consumer's own report.
  const retried = new Map(result.retryMessages.map((r) => [r.msgId, report.retryDelays[r.msgId]]));
  return {
    report,
    ids: messages.map((m) => m.id),
    acked: messages.filter((m) => result.explicitAcks.includes(m.id)).map((m) => m.id),
    retried,
  };
}

export interface DeliveryJson {
  index: number;
  device_token: string | null;
  provider: Provider | null;
  status: string;
  attempts: number;
  provider_id: string | null;
  error: string | null;
  next_attempt_at: string | null;
  opened_at: string | null;
}

/** GET /v1/stats, as the API presents it. */
export async function relayStats(): Promise<Stats> {
  const response = await api("/v1/stats");
  expect(response.status).toBe(200);
  return response.json();
}

/** The alert of this kind, provider, app (and reason) in GET /v1/stats, if any. */
export async function alertOf(kind: AlertView["kind"], provider: string, app: string, reason?: string): Promise<AlertView | undefined> {
  return (await relayStats()).alerts.find(
    (a) => a.kind === kind && a.provider === provider && a.app === app && (reason === undefined || a.reason === reason),
  );
}

/** GET /v1/events/:id, or null when nothing is recorded. */
export async function eventDeliveries(eventId: string): Promise<{ summary: Record<string, number>; deliveries: DeliveryJson[] } | null> {
  const response = await api(`/v1/events/${encodeURIComponent(eventId)}`);
  if (response.status === 404) return null;
  expect(response.status).toBe(200);
  return response.json();
}

/** POST /v1/events/:id/replay with a queue that keeps the jobs, for the test to feed to the consumer. */
export async function replayJobs(eventId: string): Promise<PushJob[]> {
  const jobs: PushJob[] = [];
  const queue = { sendBatch: async (messages: Iterable<{ body: PushJob }>) => void jobs.push(...[...messages].map((m) => m.body)) };
  const response = await worker.fetch(
    new Request(`https://relay.test/v1/events/${eventId}/replay`, { method: "POST", headers: { authorization: "Bearer test-key-1" } }),
    { ...env, PUSH_QUEUE: queue as unknown as Queue },
    createExecutionContext(),
  );
  expect(response.status).toBe(202);
  return jobs;
}

/** A rejected notification as GET /v1/events/:id lists it (no device: `device_token` is null). */
export interface RejectedJson {
  index: number;
  device_token: string | null;
  status: "rejected";
  error: string;
  user_id: string | null;
  custom_id: string | null;
  path: string | null;
}

/** GET /v1/events/:id?status=rejected: the event's rejected notifications, in index order. */
export async function rejectedDeliveries(eventId: string): Promise<RejectedJson[]> {
  const response = await api(`/v1/events/${encodeURIComponent(eventId)}?status=rejected&limit=1000`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { deliveries: RejectedJson[] }).deliveries;
}

export interface SeedDevice {
  token: string;
  provider: Provider;
  custom_id: string | null;
  user_id: string | null;
  environment?: "production" | "sandbox";
  /** Default 'default'. */
  app?: string;
  /** Default: ios for APNs, android for FCM. */
  platform?: "ios" | "android";
}

/** Inserts many devices straight into D1 (the API is tested elsewhere; this is setup). */
export async function seedDevices(devices: readonly SeedDevice[]): Promise<void> {
  const now = Date.now();
  const statement = env.DB.prepare(
    `INSERT INTO devices (token, provider, app, custom_id, user_id, platform, environment, created_at, updated_at)
     SELECT j.value->>'token', j.value->>'provider', COALESCE(j.value->>'app', 'default'), j.value->>'custom_id', j.value->>'user_id',
            COALESCE(j.value->>'platform', CASE WHEN j.value->>'provider' = 'apns' THEN 'ios' ELSE 'android' END),
            COALESCE(j.value->>'environment', 'production'), ?2, ?2
     FROM json_each(?1) AS j`,
  );
  for (let i = 0; i < devices.length; i += 500) {
    await statement.bind(JSON.stringify(devices.slice(i, i + 500)), now).run();
  }
}

/**
 * Plays the queue: feeds `jobs` to the consumer in batches of 10 and feeds
 * every retried message again, with `attempts` + 1, until all are acked or
 * `maxRetries` is spent. Returns the messages that would go to the
 * dead-letter queue.
 *
 * Time is the consumer's clock, simulated: Queues hands a retried message
 * back once its delay has passed, so each round runs when the longest delay
 * of the round before has passed (the ledger refuses to claim a row before
 * it is due), without the test waiting for it. `clock.now` ends at the last
 * round's time.
 */
export async function drainLikeTheQueue(
  jobs: PushJob[],
  deps: Partial<ConsumerDeps>,
  maxRetries = 12,
  clock: { now: number } = { now: Date.now() },
): Promise<PushJob[]> {
  let pending = jobs;
  for (let attempts = 1; pending.length > 0 && attempts <= maxRetries + 1; attempts++) {
    const at = clock.now;
    let longest = 0;
    const retried: PushJob[] = [];
    for (let i = 0; i < pending.length; i += 10) {
      const chunk = pending.slice(i, i + 10);
      const run = await runBatch(chunk, { ...deps, now: () => at }, attempts);
      run.ids.forEach((id, k) => {
        if (!run.retried.has(id)) return;
        retried.push(chunk[k]!);
        longest = Math.max(longest, run.retried.get(id) ?? 0);
      });
    }
    pending = retried;
    if (pending.length > 0) clock.now = at + longest * 1000;
  }
  return pending;
}

/**
 * APPS naming these apps, each with the default app's settings: what a test
 * that gives its devices an app of their own (to keep its alerts and brake
 * counts apart) hands the providers, which serve only apps APPS names.
 */
export const appsFor = (...apps: string[]): string => (apps.length === 0 ? "" : JSON.stringify(Object.fromEntries(apps.map((a) => [a, {}]))));

/**
 * The real providers, with a service account and an APNs key of their own
 * (registered with the stand-ins). Test files keep separate D1 databases,
 * so sharing the default APNs key across them would rotate its JWT more
 * often than APNs allows. `apps` are the apps (besides default) of the
 * test's devices. Returns the configuration too.
 */
export async function ownProviders(deps: Partial<ProviderDeps> = {}, apps: string[] = []) {
  const config = { ...env, ...(await freshCredentials()).config, APPS: appsFor(...apps) };
  return Object.assign(createProviders(config, deps), { config });
}

/** A queue that keeps every message sent to it, with its delay. */
export function recordingQueue() {
  const sent: { body: QueueMessage; delaySeconds: number | undefined }[] = [];
  const queue = {
    async send(body: QueueMessage, options?: { delaySeconds?: number }) {
      sent.push({ body, delaySeconds: options?.delaySeconds });
    },
    async sendBatch(messages: Iterable<{ body: QueueMessage; delaySeconds?: number }>) {
      for (const m of messages) sent.push({ body: m.body, delaySeconds: m.delaySeconds });
    },
  };
  return { queue: queue as unknown as Queue, sent };
}
