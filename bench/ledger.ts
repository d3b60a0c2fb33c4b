/**
 * The bench's look into the ledger's documents (migration 0014,
 * src/db/doc.ts), straight through D1: the Worker's modules do not load in
 * Node. Each delivery of a document is a JSON item of `$.d`, whose `n`
 * points into `$.n` (the notification) and that into `$.ev` (the event id).
 */
import type { D1 } from "./harness.ts";

/** The deliveries of the documents whose events match `events` (a SQL condition on `l.events`), with each one's event id and index. */
const DELIVERIES = (events: string) => `
  SELECT json_extract(x.doc, '$.ev[' || json_extract(x.doc, '$.n[' || (d.value->>'n') || '].e') || ']') AS event_id,
         json_extract(x.doc, '$.n[' || (d.value->>'n') || '].i') AS idx,
         d.value->>'s' AS status, d.value->>'k' AS attempts
  FROM ledger AS l JOIN ledger_docs AS x ON x.bucket = l.bucket AND x.seq = l.seq, json_each(x.doc, '$.d') AS d
  WHERE ${events}`;

/** An event's deliveries by status: how many, the most attempts, and how many notifications were sent. */
export async function eventDeliveryCounts(db: D1, eventId: string) {
  const { results } = await db
    .prepare(
      `SELECT status, COUNT(*) AS n, MAX(attempts) AS a, COUNT(DISTINCT idx) AS k
       FROM (${DELIVERIES("instr(l.events, json_quote(?1)) > 0")}) WHERE event_id = ?1 GROUP BY status`,
    )
    .bind(eventId)
    .all<{ status: string; n: number; a: number; k: number }>();
  return results;
}

/** How many deliveries the ledger holds for events whose ids start with `prefix`. */
export async function deliveriesOfEvents(db: D1, prefix: string): Promise<number> {
  const row = await db
    .prepare(`SELECT COUNT(*) AS n FROM (${DELIVERIES("instr(l.events, '\"' || ?1) > 0")}) WHERE event_id LIKE ?1 || '%'`)
    .bind(prefix)
    .first<{ n: number }>();
  return row?.n ?? 0;
}
