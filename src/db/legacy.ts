/**
 * The previous ledger (tables `events`, `notifications`, `deliveries`,
 * migrations 0004 to 0013), while it still has rows: what was in flight
 * when the new ledger was deployed is delivered exactly once all the same.
 *
 * - A claim or a dead letter of a notification the previous ledger holds,
 *   and no document yet, starts from its rows (imported into the document
 *   the step writes; they stay where they are until the conversion sweep,
 *   maintenance/convert.ts, moves or drops them).
 * - A RecordJob queued by the previous version also lands on the rows it
 *   was claimed under (`writeRecordJob`); so does an Expo receipt read for
 *   a push of the previous version (`legacyReceiptStatements`).
 * - The conversion moves the rest with the same mapping (`addRows`), and
 *   gives a document what changed on the rows after its copy (`mergeNewer`).
 *
 * Once the previous ledger is empty (the conversion is done), an isolate
 * asks no more: nothing writes those tables any more.
 */
import { type DeliveryStatus, notificationKey } from "./ledger";
import { chunkJson } from "./json-chunks";
import type { DocDelivery } from "./doc";
import type { NotificationFields, WorkingSet } from "./doc-edit";

/** Joins a JSON list item `j` (`{e, i, t}`) to the previous ledger's delivery row it names, through the primary key. */
const ROW_OF_ITEM = "deliveries.event_id = j.value->>'e' AND deliveries.idx = j.value->>'i' AND deliveries.device_token = j.value->>'t'";

let emptySeen = false;

/** For the tests that fill the previous ledger after an isolate saw it empty. */
export function forgetLegacyEmpty(): void {
  emptySeen = false;
}

/** A notification of the previous ledger with one of its deliveries (the delivery columns are null for a notification without any). */
export interface LegacyRow {
  e: string;
  i: number;
  token: string | null;
  provider: string | null;
  app: string | null;
  status: DeliveryStatus;
  attempts: number;
  provider_id: string | null;
  error: string | null;
  detail: string | null;
  claimed_by: string | null;
  claimed_until: number | null;
  next_attempt_at: number | null;
  latency_ms: number | null;
  created_at: number;
  updated_at: number;
  user_id: string | null;
  custom_id: string | null;
  title: string | null;
  body: string | null;
  path: string | null;
  opened_at: number | null;
  received_at: number | null;
}

/**
 * The previous ledger's rows of the notifications `from` yields (a FROM
 * item aliased `n` with the columns of `notifications`): each with its
 * deliveries and its event's acceptance time.
 */
export const legacyRowsSql = (from: string): string =>
  `SELECT n.event_id AS e, n.idx AS i, d.device_token AS token, d.provider, d.app, d.status, d.attempts, d.provider_id,
          d.error, d.detail, d.claimed_by, d.claimed_until, d.next_attempt_at, d.latency_ms, d.created_at, d.updated_at,
          n.user_id, n.custom_id, n.title, n.body, n.path, n.opened_at, ev.received_at
   FROM ${from}
   LEFT JOIN deliveries AS d ON d.event_id = n.event_id AND d.idx = n.idx
   LEFT JOIN events AS ev ON ev.event_id = n.event_id`;

/** What a step takes from the previous ledger. */
export interface Legacy {
  /** Adds the imported rows to the working set, for notifications no document holds yet. */
  addTo(set: WorkingSet): void;
}

const NOTHING: Legacy = { addTo: () => undefined };

/** The previous ledger's rows of these notifications (none once it is empty). */
export async function importLegacy(
  db: D1Database,
  notifications: readonly { eventId: string; index: number; bucket: number }[],
): Promise<Legacy> {
  if (emptySeen || notifications.length === 0) return NOTHING;
  const [any, ...found] = await db.batch<LegacyRow | { n: number }>([
    db.prepare("SELECT EXISTS (SELECT 1 FROM notifications) AS n"),
    ...chunkJson(notifications.map((n) => ({ e: n.eventId, i: n.index }))).map((chunk) =>
      db.prepare(legacyRowsSql("json_each(?1) AS j JOIN notifications AS n ON n.event_id = j.value->>'e' AND n.idx = j.value->>'i'")).bind(chunk),
    ),
  ]);
  if ((any!.results[0] as { n: number } | undefined)?.n === 0) {
    emptySeen = true;
    return NOTHING;
  }
  const rows = found.flatMap((r) => r.results as LegacyRow[]);
  if (rows.length === 0) return NOTHING;
  const buckets = new Map(notifications.map((n) => [notificationKey(n), n.bucket]));
  return { addTo: (set) => addRows(set, rows, (row) => buckets.get(notificationKey({ eventId: row.e, index: row.i }))!) };
}

/**
 * Adds the rows' notifications no document of the set holds yet, each
 * with its deliveries, to the set's new document of its bucket.
 */
export function addRows(set: WorkingSet, rows: readonly LegacyRow[], bucketOf: (row: LegacyRow) => number): void {
  const skip = new Set<string>();
  const added = new Set<string>();
  for (const row of rows) {
    const key = notificationKey({ eventId: row.e, index: row.i });
    if (skip.has(key)) continue;
    // A document holds it already: the document is newer.
    if (!added.has(key) && set.find({ eventId: row.e, index: row.i })) {
      skip.add(key);
      continue;
    }
    const place = set.ensure(notificationOf(row, bucketOf(row)));
    added.add(key);
    if (row.opened_at !== null) set.notification(place).o = row.opened_at;
    if (hasDelivery(row)) set.add(place, deliveryOf(row));
  }
}

/** A row's notification as a step brings it. */
function notificationOf(row: LegacyRow, bucket: number): NotificationFields {
  return {
    eventId: row.e,
    index: row.i,
    bucket,
    receivedAt: row.received_at ?? row.created_at,
    userId: row.user_id,
    customId: row.custom_id,
    title: row.title,
    body: row.body,
    path: row.path,
  };
}

/** A row that carries a delivery (a notification without any has one row of nulls). */
export const hasDelivery = (row: LegacyRow): row is LegacyRow & { token: string } => row.token !== null;

/** A row's delivery as a document keeps it (absent fields for the row's nulls). */
export function deliveryOf(row: LegacyRow & { token: string }): Omit<DocDelivery, "n"> {
  return {
    t: row.token,
    p: row.provider,
    a: row.app,
    s: row.status,
    k: row.attempts,
    ...(row.error === null ? {} : { er: row.error }),
    ...(row.detail === null ? {} : { dt: row.detail }),
    ...(row.provider_id === null ? {} : { id: row.provider_id }),
    ...(row.next_attempt_at === null ? {} : { na: row.next_attempt_at }),
    ...(row.claimed_by === null ? {} : { cb: row.claimed_by }),
    ...(row.claimed_until === null ? {} : { cu: row.claimed_until }),
    ...(row.latency_ms === null ? {} : { l: row.latency_ms }),
    c: row.created_at,
    u: row.updated_at,
  };
}

/**
 * A RecordJob of the previous version: its outcomes land on the previous
 * ledger's rows still claimed under its claim id (if the rows moved to a
 * document since, the document's write takes them instead).
 */
export function legacyRecordStatements(
  db: D1Database,
  outcomes: readonly { eventId: string; index: number; token: string; status: string; providerId?: string | null; error?: string | null; detail?: string; nextAttemptAt?: number | null; latencyMs?: number | null }[],
  claimId: string,
  now: number,
): D1PreparedStatement[] {
  const compact = outcomes.map((o) => ({
    e: o.eventId,
    i: o.index,
    t: o.token,
    s: o.status,
    id: o.providerId ?? null,
    er: o.error ?? null,
    d: o.detail ?? null,
    n: o.nextAttemptAt ?? null,
    l: o.latencyMs ?? null,
  }));
  return chunkJson(compact).map((chunk) =>
    db
      .prepare(
        `/* ledger record */ UPDATE deliveries SET status = j.value->>'s', provider_id = j.value->>'id', error = j.value->>'er',
           detail = j.value->>'d', next_attempt_at = j.value->>'n', latency_ms = j.value->>'l',
           claimed_by = NULL, claimed_until = NULL, updated_at = ?2
         FROM json_each(?1) AS j
         WHERE ${ROW_OF_ITEM} AND deliveries.claimed_by = ?3`,
      )
      .bind(chunk, now, claimId),
  );
}

/**
 * The previous ledger's changes to notifications a document of the set
 * already holds: a delivery whose row changed after the document's copy of
 * it (a record of the previous version landed on the row only) takes the
 * row's state, and a first open the document lacks is added. A row the
 * document has no copy of stays out: the document knows which deliveries
 * its notification has (a claim drops a "no device" placeholder once there
 * are devices).
 */
export function mergeNewer(set: WorkingSet, rows: readonly LegacyRow[]): void {
  for (const row of rows) {
    const place = set.find({ eventId: row.e, index: row.i });
    if (!place) continue;
    const n = set.notification(place);
    if (row.opened_at !== null && n.o === undefined) {
      n.o = row.opened_at;
      set.touch(place.doc);
    }
    if (!hasDelivery(row)) continue;
    const d = set.delivery(place, row.token);
    if (!d || d.u >= row.updated_at) continue;
    for (const key of Object.keys(d) as (keyof DocDelivery)[]) if (key !== "n") delete (d as Partial<DocDelivery>)[key];
    Object.assign(d, deliveryOf(row));
    set.touch(place.doc);
  }
}

/**
 * Expo receipts read for pushes of the previous version: a receipt's error
 * lands on the previous ledger's row still `sent` with that ticket (if the
 * row moved to a document since, the document's write takes it instead).
 */
export function legacyReceiptStatements(
  db: D1Database,
  errors: readonly { eventId: string; index: number; token: string; ticket: string; status: string; error: string }[],
  now: number,
): D1PreparedStatement[] {
  return chunkJson(errors.map((e) => ({ e: e.eventId, i: e.index, t: e.token, r: e.ticket, s: e.status, er: e.error }))).map((chunk) =>
    db
      .prepare(
        `UPDATE deliveries SET status = j.value->>'s', error = j.value->>'er', updated_at = ?2
         FROM json_each(?1) AS j
         WHERE ${ROW_OF_ITEM} AND deliveries.provider_id = j.value->>'r' AND deliveries.status = 'sent'`,
      )
      .bind(chunk, now),
  );
}
