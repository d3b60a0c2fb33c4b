/**
 * The Worker: `fetch` serves the webhook and the API; `queue` delivers
 * PushJobs and records what reaches the dead-letter queue; `scheduled`
 * trims the delivery ledger once a day.
 */
import { consumeDeadLetters } from "./delivery/dead-letter";
import { consumePushBatch } from "./delivery/consumer";
import { app } from "./http/app";
import { sweepLedger } from "./maintenance/retention";
import type { QueueMessage } from "./queue/message";

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    if (batch.queue === env.DEAD_LETTER_QUEUE) await consumeDeadLetters(batch, env);
    else await consumePushBatch(batch, env);
  },
  async scheduled(_controller, env) {
    await sweepLedger(env.DB);
  },
} satisfies ExportedHandler<Env, QueueMessage>;
