/**
 * The stream's events: N `notifications.sent` webhooks of K notifications
 * each, every notification for a user of its own with one device (FCM and
 * APNs interleaved as in the fan-out), the devices seeded in D1 and every
 * webhook signed before the run starts; and the wait until the consumer
 * has settled every queue message the webhooks sent, told by its own
 * `delivery_batch` lines.
 */
import type { LocalRelay } from "./harness.ts";
import type { DeliveryBatch } from "./logs.ts";
import { benchDevices, seedDevices } from "./seed.ts";
import { notification, type SignedWebhook, WebhookSigner } from "./webhooks.ts";

export interface StreamEvents {
  webhooks: SignedWebhook[];
  /** event id -> the device tokens it is for, in notification order. */
  tokens: Map<string, string[]>;
  /** Hands out the webhooks in order (autocannon's request source); past the last, from the first again. */
  next: () => SignedWebhook;
}

/** `count` events of `perEvent` notifications for fresh users named `${prefix}…`, signed now. */
export async function streamEvents(
  relay: LocalRelay,
  prefix: string,
  shape: { count: number; perEvent: number; fcmShare: number },
): Promise<StreamEvents> {
  const devices = benchDevices(prefix, shape.count * shape.perEvent, shape.fcmShare);
  await seedDevices(relay.db, devices);
  const signer = new WebhookSigner(relay.secret);
  const webhooks: SignedWebhook[] = [];
  const tokens = new Map<string, string[]>();
  for (let e = 0; e < shape.count; e++) {
    const users = devices.slice(e * shape.perEvent, (e + 1) * shape.perEvent);
    const webhook = signer.sign(users.map((d, n) => notification(d.user_id, n)));
    webhooks.push(webhook);
    tokens.set(webhook.id, users.map((d) => d.token));
  }
  // Callers sign spare ones: autocannon may build a request per connection it never sends.
  let taken = 0;
  return { webhooks, tokens, next: () => webhooks[taken++ % webhooks.length]! };
}

/**
 * Waits until the push queue's consumer invocations logged since `since`
 * have acked `messages` queue messages and any record jobs they queued
 * (a retried message is acked only when it is redelivered and settled),
 * or `timeoutMs` passed; returns those invocations' lines.
 */
export async function waitForDrain(relay: LocalRelay, since: number, messages: number, timeoutMs: number): Promise<DeliveryBatch[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const batches = relay.log.batchesSince(since).filter((b) => b.queue === relay.pushQueue);
    const acked = batches.reduce((sum, b) => sum + b.acked, 0);
    const records = batches.reduce((sum, b) => sum + (b.records_queued ?? 0), 0);
    if (acked >= messages + records || Date.now() > deadline) return batches;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
