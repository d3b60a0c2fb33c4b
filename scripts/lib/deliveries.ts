/**
 * Follows an event through `GET /v1/events/:svix_id` until every delivery
 * is final, reporting each delivery when its status changes.
 */
import { shortToken } from "../../src/log.ts";

export interface Delivery {
  index: number;
  device_token: string | null;
  provider: "fcm" | "apns" | "expo" | "onesignal" | null;
  status: "sending" | "sent" | "invalid_token" | "retrying" | "failed" | "no_device";
  attempts: number;
  provider_id: string | null;
  error: string | null;
  custom_id: string | null;
  user_id: string;
  latency_ms: number | null;
  next_attempt_at: string | null;
}

export interface EventAnswer {
  event_id: string;
  summary: Record<string, number>;
  deliveries: Delivery[];
  next_cursor: string | null;
}

const PENDING = new Set(["sending", "retrying"]);

/** The relay answered something other than 200/404 while we polled. */
export class PollError extends Error {
  readonly status: number;
  readonly body: string;
  constructor(status: number, body: string) {
    super(`GET /v1/events answered ${status}: ${body}`);
    this.status = status;
    this.body = body;
  }
}

export interface FollowOptions {
  origin: string;
  apiKey: string;
  eventId: string;
  /** Notifications in the event: each gets at least one delivery row. */
  notifications: number;
  timeoutMs: number;
  intervalMs?: number;
  onChange: (delivery: Delivery) => void;
  fetch?: typeof fetch;
}

/** Counts of the final answer, or `pending` > 0 when the time ran out first. */
export interface FollowResult {
  summary: Record<string, number>;
  pending: number;
  settledAfterMs: number;
}

export async function followEvent(o: FollowOptions): Promise<FollowResult> {
  const doFetch = o.fetch ?? fetch;
  const started = Date.now();
  const seen = new Map<string, string>();
  let summary: Record<string, number> = {};
  for (;;) {
    const response = await doFetch(`${o.origin}/v1/events/${encodeURIComponent(o.eventId)}`, {
      headers: { authorization: `Bearer ${o.apiKey}` },
    });
    if (response.status === 200) {
      const answer = (await response.json()) as EventAnswer;
      summary = answer.summary;
      for (const d of answer.deliveries) {
        const key = `${d.index}\u0000${d.device_token ?? ""}`;
        const state = `${d.status}\u0000${d.attempts}\u0000${d.error ?? ""}`;
        if (seen.get(key) !== state) {
          seen.set(key, state);
          o.onChange(d);
        }
      }
      const total = Object.values(summary).reduce((a, b) => a + b, 0);
      const pending = Object.entries(summary).reduce((n, [status, count]) => n + (PENDING.has(status) ? count : 0), 0);
      const notificationsSeen = new Set(answer.deliveries.map((d) => d.index)).size;
      const complete = answer.next_cursor !== null ? total >= o.notifications : notificationsSeen >= o.notifications;
      if (pending === 0 && complete) return { summary, pending: 0, settledAfterMs: Date.now() - started };
    } else if (response.status !== 404) {
      throw new PollError(response.status, await response.text());
    } else {
      await response.body?.cancel();
    }
    if (Date.now() - started > o.timeoutMs) {
      const pending = Object.entries(summary).reduce((n, [status, count]) => n + (PENDING.has(status) ? count : 0), 0);
      return { summary, pending: Math.max(pending, 1), settledAfterMs: Date.now() - started };
    }
    await new Promise((resolve) => setTimeout(resolve, o.intervalMs ?? 250));
  }
}

/** One line per delivery state, e.g. `#0 fcm …a1b2c3 sent (412 ms after the webhook)`. */
export function describeDelivery(d: Delivery): string {
  const who = d.custom_id ? `custom_id ${d.custom_id}` : `user_id ${d.user_id}`;
  if (d.status === "no_device") {
    const why = d.provider === "onesignal" ? "no device here, and no push subscription at OneSignal" : "no registered device for this user";
    return `#${d.index} ${who}: no_device, ${why}`;
  }
  // A OneSignal user is shown by external id (onesignal:<id>), not as a shortened token.
  const device = d.provider === "onesignal" ? (d.device_token ?? "onesignal") : `${d.provider ?? "?"} ${shortToken(d.device_token ?? "")}`;
  const parts: string[] = [];
  if (d.error) parts.push(d.error);
  if (d.status === "sent" && d.provider_id) parts.push(`id ${d.provider_id}`);
  if (d.status === "retrying" && d.next_attempt_at) parts.push(`next attempt ${d.next_attempt_at}`);
  if (d.attempts > 1) parts.push(`attempt ${d.attempts}`);
  if (d.latency_ms !== null && d.status !== "sending") parts.push(`${d.latency_ms} ms after the webhook`);
  return `#${d.index} ${device} ${d.status}${parts.length > 0 ? ` (${parts.join(", ")})` : ""}`;
}
