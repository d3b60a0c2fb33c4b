/**
 * Which consumer a queue batch is for. The Worker consumes two queues and
 * can tell them apart only by name, so both names are settings that must
 * match wrangler.toml (a test checks the shipped one): `PUSH_QUEUE_NAME`,
 * the queue it delivers from, and `DEAD_LETTER_QUEUE`, where that queue's
 * failures land. A batch from any other queue is a configuration mistake
 * (say a renamed queue): treating it as pushes would send dead letters
 * again, and as dead letters would fail live ones. So it is left alone,
 * retried an hour later, and logged as an error that names the setting.
 */
import { log } from "../log";
import { consumePushBatch } from "./consumer";
import { consumeDeadLetters } from "./dead-letter";

/** A batch from an unknown queue waits this long, so the retries span hours in which to fix the setting. */
export const UNKNOWN_QUEUE_RETRY_SECONDS = 60 * 60;

export async function consumeQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  if (batch.queue === env.DEAD_LETTER_QUEUE) {
    await consumeDeadLetters(batch, env);
  } else if (batch.queue === env.PUSH_QUEUE_NAME) {
    await consumePushBatch(batch, env);
  } else {
    log(
      "consumer_error",
      {
        reason: "unknown_queue",
        queue: batch.queue,
        push_queue_name: env.PUSH_QUEUE_NAME ?? null,
        dead_letter_queue: env.DEAD_LETTER_QUEUE ?? null,
        messages: batch.messages.length,
        retry_in: UNKNOWN_QUEUE_RETRY_SECONDS,
        fix: "set PUSH_QUEUE_NAME and DEAD_LETTER_QUEUE in wrangler.toml to the queues its [[queues.consumers]] name",
      },
      "error",
    );
    batch.retryAll({ delaySeconds: UNKNOWN_QUEUE_RETRY_SECONDS });
  }
}
