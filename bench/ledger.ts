/**
 * The bench's look into the ledger's documents (migration 0014,
 * src/db/doc.ts), straight through D1: the Worker's modules do not load in
 * Node. A document is deflated JSON whose deliveries (`d`) point into its
 * notifications (`n`), and those into its event ids (`ev`).
 */
import { inflateRawSync } from "node:zlib";
import type { D1 } from "./harness.ts";

interface Doc {
  ev: string[];
  n: { e: number; i: number }[];
  d: { n: number; s: string; k: number }[];
}

/** The deliveries of the documents whose `ledger` row matches `where` (a condition on `l`), with each one's event id and index. */
async function deliveries(db: D1, where: string, ...params: unknown[]) {
  const { results } = await db
    .prepare(`SELECT x.doc AS doc FROM ledger AS l JOIN ledger_docs AS x ON x.bucket = l.bucket AND x.seq = l.seq WHERE ${where}`)
    .bind(...params)
    .all<{ doc: ArrayBuffer | number[] }>();
  return results.flatMap(({ doc }) => {
    const parsed = JSON.parse(inflateRawSync(Buffer.from(doc instanceof ArrayBuffer ? new Uint8Array(doc) : doc)).toString("utf8")) as Doc;
    return parsed.d.map((d) => ({ eventId: parsed.ev[parsed.n[d.n]!.e]!, index: parsed.n[d.n]!.i, status: d.s, attempts: d.k }));
  });
}

/** An event's deliveries by status: how many, the most attempts, and how many notifications were sent. */
export async function eventDeliveryCounts(db: D1, eventId: string) {
  const byStatus = new Map<string, { status: string; n: number; a: number; indexes: Set<number> }>();
  for (const d of await deliveries(db, "instr(l.events, json_quote(?1)) > 0", eventId)) {
    if (d.eventId !== eventId) continue;
    const entry = byStatus.get(d.status) ?? { status: d.status, n: 0, a: 0, indexes: new Set<number>() };
    entry.n++;
    entry.a = Math.max(entry.a, d.attempts);
    entry.indexes.add(d.index);
    byStatus.set(d.status, entry);
  }
  return [...byStatus.values()].map(({ status, n, a, indexes }) => ({ status, n, a, k: indexes.size }));
}

/** How many deliveries the ledger holds for events whose ids start with `prefix`. */
export async function deliveriesOfEvents(db: D1, prefix: string): Promise<number> {
  const found = await deliveries(db, `instr(l.events, '"' || ?1) > 0`, prefix);
  return found.filter((d) => d.eventId.startsWith(prefix)).length;
}
