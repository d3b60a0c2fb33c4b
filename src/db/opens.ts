/**
 * Opens: a user tapped a notification. The first report's time is kept on
 * the notification in its ledger document (`o`, doc.ts), and counted in
 * `opens_by_hour` for /v1/stats; a report counts only for a notification
 * that was sent to a device of that user.
 */
import type { UserIds } from "../vocabulary";
import { findNotification, ksuidSeconds, type StoredDoc } from "./doc";
import { applyWrites, type DocWrite, eventDocs, writeIdOf } from "./doc-store";
import { LedgerContentionError, MAX_TRIES } from "./ledger-writes";

/** What a report did: the first one opens; a repeat changes nothing; `not_found` when nothing of that user was sent. */
export type OpenResult = "opened" | "already_opened" | "not_found";


const HOUR_MS = 3_600_000;

interface Open {
  eventId: string;
  index: number;
  /** Whose device reported it; null for the admin key (anyone's). */
  user: UserIds | null;
}

/** The document and position of the notification, if a push of it reached (`sent`) a device and it was addressed to the open's user. */
function sentToUser(docs: readonly StoredDoc[], open: Open): { stored: StoredDoc; at: number } | null {
  for (const stored of docs) {
    const at = findNotification(stored.doc, open.eventId, open.index);
    if (at < 0) continue;
    const n = stored.doc.n[at]!;
    const user = open.user;
    const addressed = user === null || (user.custom_id !== null ? n.c === user.custom_id : user.user_id === null || n.u === user.user_id);
    return addressed && stored.doc.d.some((d) => d.n === at && d.s === "sent") ? { stored, at } : null;
  }
  return null;
}

/**
 * Counts the open in its hour, in the transaction of the document's write
 * and only if that write took: the document then carries the write's id.
 */
function countOpen(db: D1Database, write: Extract<DocWrite, { kind: "update" }>, now: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO opens_by_hour (hour, n)
       SELECT ?1, 1 WHERE EXISTS (SELECT 1 FROM ledger_docs WHERE bucket = ?2 AND seq = ?3 AND w = ?4)
       ON CONFLICT (hour) DO UPDATE SET n = n + 1`,
    )
    .bind(Math.floor(now / HOUR_MS) * HOUR_MS, write.stored.bucket, write.stored.seq, writeIdOf(write));
}

/** Records an open, once: the event's documents are read from its bucket, and the one that holds the notification is rewritten, checked by version. */
export async function recordOpen(db: D1Database, open: Open, now: number): Promise<OpenResult> {
  for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
    const found = sentToUser(await eventDocs(db, open.eventId, ksuidSeconds(open.eventId, now), now), open);
    if (!found) return "not_found";
    if (found.stored.doc.n[found.at]!.o !== undefined) return "already_opened";
    const doc = structuredClone(found.stored.doc);
    doc.n[found.at]!.o = now;
    const write = { kind: "update" as const, stored: found.stored, doc };
    const { written } = await applyWrites(db, "open", [write], now, [countOpen(db, write, now)]);
    if (written[0]) return "opened";
  }
  throw new LedgerContentionError("open");
}
