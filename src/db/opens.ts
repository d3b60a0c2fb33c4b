/**
 * Opens: a user tapped a notification. The first report's time is kept on
 * the notification in its ledger document (`o`, doc.ts), and counted in
 * `opens_by_hour` for /v1/stats; a report counts only for a notification
 * that was sent to a device of that user.
 */
import type { UserIds } from "../vocabulary";
import { findNotification, ksuidSeconds, type StoredDoc } from "./doc";
import { applyWrites, eventDocs } from "./doc-store";
import { LedgerContentionError } from "./ledger-writes";

/** What a report did: the first one opens; a repeat changes nothing; `not_found` when nothing of that user was sent. */
export type OpenResult = "opened" | "already_opened" | "not_found";

/** Reads and writes an open retries when another step wrote the same document first. */
const MAX_TRIES = 8;

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
 * and only if that write took: the document is then at the next version,
 * with this open's time on the notification.
 */
function countOpen(db: D1Database, { stored, at }: { stored: StoredDoc; at: number }, now: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO opens_by_hour (hour, n)
       SELECT ?1, 1 WHERE EXISTS (SELECT 1 FROM ledger_docs WHERE bucket = ?2 AND seq = ?3 AND v = ?4 AND doc ->> ?5 = ?6)
       ON CONFLICT (hour) DO UPDATE SET n = n + 1`,
    )
    .bind(Math.floor(now / HOUR_MS) * HOUR_MS, stored.bucket, stored.seq, stored.v + 1, `$.n[${at}].o`, now);
}

/** Records an open, once: the event's documents are read from its bucket, and the one that holds the notification is rewritten, checked by version. */
export async function recordOpen(db: D1Database, open: Open, now: number): Promise<OpenResult> {
  for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
    const found = sentToUser(await eventDocs(db, open.eventId, ksuidSeconds(open.eventId), now), open);
    if (!found) return "not_found";
    if (found.stored.doc.n[found.at]!.o !== undefined) return "already_opened";
    const doc = structuredClone(found.stored.doc);
    doc.n[found.at]!.o = now;
    const { written } = await applyWrites(db, [{ kind: "update", stored: found.stored, doc }], now, [countOpen(db, found, now)]);
    if (written[0]) return "opened";
  }
  throw new LedgerContentionError("open");
}
