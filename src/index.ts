/**
 * The Worker: `fetch` serves the webhook and the API; `queue` delivers
 * PushJobs and records what reaches the dead-letter queue; `scheduled`
 * trims the delivery ledger and purges the pruning brake's quarantine, hourly.
 */
import { consumeDeadLetters } from "./delivery/dead-letter";
import { consumePushBatch } from "./delivery/consumer";
import { app } from "./http/app";
import { sweepQuarantine } from "./maintenance/quarantine";
import { sweepLedger } from "./maintenance/retention";
import type { QueueMessage } from "./queue/message";

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    if (batch.queue === env.DEAD_LETTER_QUEUE) await consumeDeadLetters(batch, env);
    else await consumePushBatch(batch, env);
  },
  async scheduled(_controller, env) {
    // Both run even if one fails; the failure still fails the invocation.
    for (const sweep of await Promise.allSettled([sweepLedger(env.DB), sweepQuarantine(env.DB)])) {
      if (sweep.status === "rejected") throw sweep.reason;
    }
  },
} satisfies ExportedHandler<Env, QueueMessage>;
