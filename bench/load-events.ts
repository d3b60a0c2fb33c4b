/**
 * The load test's webhooks: each a fresh event for 1 to N distinct users
 * who have one registered device each, signed when autocannon asks for
 * the next request, and remembered so the deliveries can be checked per
 * event and device afterwards.
 */
import { randomBytes } from "node:crypto";
import type { SeededDevice } from "./seed.ts";
import { notification, type SignedWebhook, WebhookSigner } from "./webhooks.ts";

export class LoadEvents {
  /** Every event handed out: id -> the device tokens it should reach. */
  readonly sent = new Map<string, string[]>();
  private readonly signer: WebhookSigner;
  private readonly devices: readonly SeededDevice[];
  private readonly maxNotifications: number;
  private readonly prefix = `msg_load_${randomBytes(4).toString("hex")}_`;
  private count = 0;

  constructor(secret: string, devices: readonly SeededDevice[], maxNotifications: number) {
    this.signer = new WebhookSigner(secret);
    this.devices = devices;
    this.maxNotifications = Math.min(maxNotifications, devices.length);
  }

  next(): SignedWebhook {
    const size = 1 + Math.floor(Math.random() * this.maxNotifications);
    // Distinct users, so (event, device token) names one delivery.
    const picked = new Set<SeededDevice>();
    while (picked.size < size) picked.add(this.devices[Math.floor(Math.random() * this.devices.length)]!);
    const targets = [...picked];
    const webhook = this.signer.sign(
      targets.map((d, i) => notification(d.user_id, i)),
      `${this.prefix}${(this.count++).toString(36)}`,
    );
    this.sent.set(webhook.id, targets.map((d) => d.token));
    return webhook;
  }
}
