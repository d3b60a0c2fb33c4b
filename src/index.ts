/**
 * The Worker: `fetch` serves the webhook and the API; `queue` delivers
 * PushJobs and records what reaches the dead-letter queue; `scheduled`
 * trims the delivery ledger, purges the pruning brake's quarantine, closes
 * deliveries left open and moves the previous ledger into documents, hourly.
 */
import { consumeQueue } from "./delivery/queues";
import { app } from "./app";
import { closeAbandoned } from "./maintenance/abandoned";
import { convertLedger } from "./maintenance/convert";
import { sweepQuarantine } from "./maintenance/quarantine";
import { sweepLedger } from "./maintenance/retention";
import type { QueueMessage } from "./queue/message";

export default {
  fetch: app.fetch,
  queue: consumeQueue,
  async scheduled(_controller, env) {
    // All run even if one fails; the failure still fails the invocation.
    const sweeps = [sweepLedger(env.DB), sweepQuarantine(env.DB), closeAbandoned(env.DB), convertLedger(env.DB)];
    for (const sweep of await Promise.allSettled(sweeps)) {
      if (sweep.status === "rejected") throw sweep.reason;
    }
  },
} satisfies ExportedHandler<Env, QueueMessage>;
