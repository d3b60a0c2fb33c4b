/**
 * Opens: a user tapped a notification. It is kept on the notification's
 * row (migration 0012), the first report's time; a report counts only for
 * a notification that was sent to a device of that user.
 */
import type { UserIds } from "../vocabulary";

/** What a report did: the first one opens; a repeat changes nothing; `not_found` when nothing of that user was sent. */
export type OpenResult = "opened" | "already_opened" | "not_found";

/** The notification, if a push of it reached (`sent`) a device, addressed to `user` (any user for null: the admin key). */
const SENT_TO_USER = `
  notifications.event_id = ?1 AND notifications.idx = ?2
  AND (?3 IS NULL OR notifications.custom_id = ?3) AND (?3 IS NOT NULL OR ?4 IS NULL OR notifications.user_id = ?4)
  AND EXISTS (SELECT 1 FROM deliveries AS d WHERE d.event_id = ?1 AND d.idx = ?2 AND d.status = 'sent')`;

/** Records an open, once; one round trip. */
export async function recordOpen(
  db: D1Database,
  open: { eventId: string; index: number; user: UserIds | null },
  now: number,
): Promise<OpenResult> {
  const ids = [open.eventId, open.index, open.user?.custom_id ?? null, open.user?.user_id ?? null] as const;
  const [updated, found] = await db.batch([
    db.prepare(`UPDATE notifications SET opened_at = ?5 WHERE opened_at IS NULL AND ${SENT_TO_USER}`).bind(...ids, now),
    db.prepare(`SELECT opened_at FROM notifications WHERE ${SENT_TO_USER}`).bind(...ids),
  ]);
  if (updated!.meta.changes > 0) return "opened";
  return found!.results.length > 0 ? "already_opened" : "not_found";
}
