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
 *
 * The sweep remembers how far it has looked (`sweep_marks`) and starts
 * there, so rows of any age are reached: a run that failed or was skipped,
 * or many, leave nothing open for the next one to miss.
 */
import { closeOpenRows } from "../db/ledger-writes";
import { readMark } from "../db/sweep-marks";
import { log } from "../log";

/** An open row not updated for this long has nobody coming back for it. */
export const ABANDONED_AFTER_MS = 48 * 60 * 60_000;
/**
 * The time index is read a slice at a time: six hours are about 250,000
 * index entries at a million deliveries a day, well under a second of D1
 * work (30 s per query is the limit), and 200 slices (50 days) cover a
 * first run over a full 30-day ledger.
 */
export const ABANDONED_SLICE_MS = 6 * 60 * 60_000;
export const ABANDONED_SLICES_PER_RUN = 200;
const MARK = "abandoned";

/** Closes abandoned open rows as failed `abandoned`, from the mark on; resolves with how many. */
export async function closeAbandoned(db: D1Database, now = Date.now()): Promise<number> {
  const to = now - ABANDONED_AFTER_MS;
  let from = (await readMark(db, MARK)) ?? (await oldestUpdate(db)) ?? to;
  let closed = 0;
  for (let slice = 0; from < to && slice < ABANDONED_SLICES_PER_RUN; slice++) {
    const until = Math.min(to, from + ABANDONED_SLICE_MS);
    closed += await closeOpenRows(db, { from, to: until, error: "abandoned", now, mark: MARK });
    from = until;
  }
  if (closed > 0) log("retention", { abandoned: closed, reason: "no_message_came_back" }, "error");
  return closed;
}

/** Where a first run starts: the oldest row's last update (one step down the time index). */
async function oldestUpdate(db: D1Database): Promise<number | null> {
  const row = await db.prepare("SELECT MIN(updated_at) AS at FROM deliveries").first<{ at: number | null }>();
  return row?.at ?? null;
}
