/**
 * The last safety net of "nothing lost": a delivery left open with no queue
 * message coming back for it. That happens only when the dead-letter
 * consumer could not record a message even after its own last retry (there
 * is no queue after it; it logs the event ids and indexes as an error), or
 * when outcomes queued for a later write were lost the same way. Such rows
 * would stay `retrying` or `sending` for ever, and a replay sends only
 * `failed` ones: the hourly sweep closes them as `failed` `abandoned`.
 *
 * Nothing legitimate leaves a row untouched for two days: a retried message
 * comes back within its delay (at most 24 hours, the queue's cap), the push
 * queue's 12 retries end within about 13 hours, and the dead-letter
 * consumer's within about 5.
 */
import { closeOpenRows } from "../db/ledger-writes";
import { log } from "../log";

/** An open row not updated for this long has nobody coming back for it. */
export const ABANDONED_AFTER_MS = 48 * 60 * 60_000;
/**
 * Each hourly run looks at rows that crossed the threshold in the last 3
 * hours, so two missed runs lose nothing, and reads only those hours of the
 * time index (D1 bills rows read).
 */
export const ABANDONED_WINDOW_MS = 3 * 60 * 60_000;

/** Closes abandoned open rows as failed `abandoned`; resolves with how many. */
export async function closeAbandoned(db: D1Database, now = Date.now()): Promise<number> {
  const to = now - ABANDONED_AFTER_MS;
  const closed = await closeOpenRows(db, to - ABANDONED_WINDOW_MS, to, "abandoned", now);
  if (closed > 0) log("retention", { abandoned: closed, reason: "no_message_came_back" }, "error");
  return closed;
}
