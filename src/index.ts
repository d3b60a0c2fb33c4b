/**
 * The Worker: `fetch` serves the webhook and the API; `queue` delivers
 * PushJobs and records what reaches the dead-letter queue; `scheduled`
 * trims the delivery ledger, purges the pruning brake's quarantine and
 * closes deliveries left open, hourly.
 */
import { consumeQueue } from "./delivery/queues";
import { app } from "./app";
import { closeAbandoned } from "./maintenance/abandoned";
import { sweepQuarantine } from "./maintenance/quarantine";
import { sweepLedger } from "./maintenance/retention";
import type { QueueMessage } from "./queue/message";

export default {
  fetch: app.fetch,
  queue: consumeQueue,
  async scheduled(_controller, env) {
    // All run even if one fails; the failure still fails the invocation.
    for (const sweep of await Promise.allSettled([sweepLedger(env.DB), sweepQuarantine(env.DB), closeAbandoned(env.DB)])) {
      if (sweep.status === "rejected") throw sweep.reason;
    }
  },
} satisfies ExportedHandler<Env, QueueMessage>;
