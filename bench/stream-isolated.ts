/**
 * Isolated events: one webhook at a time, each sent once the queue is idle
 * (the consumer settled the one before), timed from the webhook's 200 to
 * the last of its pushes the stand-ins recorded. Such an event waits for
 * the consumer's `max_batch_timeout` before any invocation sees it.
 */
import { quantile } from "./load-generator.ts";
import type { LocalRelay } from "./harness.ts";
import type { StandinClient } from "../standins/client.ts";
import { type StreamEvents, waitForDrain } from "./stream-events.ts";
import { WEBHOOK_PATH } from "./webhooks.ts";

export interface IsolatedFigures {
  events: number;
  /** 200 → the event's last push, ms. */
  p50_ms: number;
  p99_ms: number;
  samples_ms: number[];
  /** The push queue consumer's `max_batch_timeout` (wrangler.toml), seconds. */
  batch_timeout_s: number;
}

/** From each answer (epoch ms, by event id) to each recorded push of that event, ascending. */
export function answerToPush(pushes: readonly { event_id: string | null; received_at: number }[], answeredAt: ReadonlyMap<string, number>): number[] {
  const latencies: number[] = [];
  for (const push of pushes) {
    const answered = push.event_id === null ? undefined : answeredAt.get(push.event_id);
    if (answered !== undefined) latencies.push(push.received_at - answered);
  }
  return latencies.sort((a, b) => a - b);
}

export async function measureIsolated(relay: LocalRelay, standins: StandinClient, events: StreamEvents): Promise<IsolatedFigures> {
  const samples: number[] = [];
  for (const webhook of events.webhooks) {
    const answer = await fetch(`${relay.url}${WEBHOOK_PATH}`, { method: "POST", headers: webhook.headers, body: webhook.body });
    const answeredAt = Date.now();
    const text = await answer.text();
    if (!answer.ok) throw new Error(`an isolated webhook answered ${answer.status}: ${text}`);
    const pushes = await standins.waitForMatching({ event_id: webhook.id }, webhook.notifications, 30_000);
    samples.push(Math.max(...pushes.map((p) => p.received_at)) - answeredAt);
    await waitForDrain(relay, answeredAt, (JSON.parse(text) as { messages?: number }).messages ?? 1, 30_000);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    events: samples.length,
    p50_ms: quantile(sorted, 0.5),
    p99_ms: quantile(sorted, 0.99),
    samples_ms: samples,
    batch_timeout_s: relay.batchTimeoutS,
  };
}
