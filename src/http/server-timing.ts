/**
 * What a request of the operations API or the console cost D1, in a
 * `Server-Timing` header an operator can read in any browser's or client's
 * network view:
 *
 *   Server-Timing: d1;desc="rows_read=1234 rows_written=0 queries=3";dur=41
 *
 * Rows read and written are D1's own `meta` counts (what it bills), summed
 * over the request's queries and batches (a batch is one query here, as it
 * is one round trip); `dur` is the milliseconds from this middleware to
 * the answer as the Worker's clock sees them, which moves on I/O, so
 * mostly the waits on D1. The webhook does not carry it.
 */
import { createMiddleware } from "hono/factory";
import { countingD1, newUsage, type Usage } from "../delivery/usage";

/** The header's value for what `usage` counted over `ms`. */
export const d1Timing = (usage: Usage, ms: number): string =>
  `d1;desc="rows_read=${usage.rowsRead} rows_written=${usage.rowsWritten} queries=${usage.d1}";dur=${ms}`;

/** Counts the D1 calls of the routes behind it, and says what they cost in `Server-Timing`. */
export const serverTiming = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  const usage = newUsage();
  const started = Date.now();
  c.env = { ...c.env, DB: countingD1(c.env.DB, usage) };
  await next();
  c.header("Server-Timing", d1Timing(usage, Date.now() - started), { append: true });
});
