/**
 * The ledger's write path: what the consumer claims and records, what the
 * dead-letter consumer closes, and what the webhook rejects. Each step of a
 * queue batch is one D1 round trip (a `db.batch`, one transaction).
 *
 * Lists travel as JSON parameters (json-chunks.ts); their compact keys
 * (`e`, `i`, `t`, ...) exist only between this module and SQL.
 */
import type { Provider } from "../push/providers";
import { type AlarmInput, type AlertChanges, recordAlarms } from "./alerts";
import { chunkJson } from "./json-chunks";
import { claimableRow, DEVICE_QUARANTINED, type QUIET_HOURS, type DeliveryKey, deliveryKey, type DeliveryStatus, type NotificationKey, notificationKey, openRow, ROW_OF_ITEM } from "./ledger";
import { type PruneInput, type PruneResult, pruneDevices } from "./pruning";
import { readStaged } from "./staged";
import { moveMark } from "./sweep-marks";

/** A notification as the ledger keeps it: text and recipient, stored once for all its devices. */
export interface LedgerNotification extends NotificationKey {
  /** When the webhook accepted the event (epoch ms). */
  receivedAt: number;
  userId: string;
  customId: string | null;
  title: string;
  body: string;
  path: string;
}

/** A row the consumer wants to own: a notification for a device, or its "no device" placeholder (token ''). */
export interface DeliveryTarget extends DeliveryKey {
  provider: Provider | null;
  app: string | null;
  /** On a placeholder: the user has devices, all held by the pruning brake (`failed` `device_quarantined`, replayable). */
  held?: boolean;
}

/** The ledger's view of a row after the claim. */
export interface ClaimedRow extends DeliveryKey {
  status: DeliveryStatus;
  /** The claim id of the invocation that owns a `sending` row. */
  claimedBy: string | null;
  /** Lease end (epoch ms) of a `sending` row. */
  claimedUntil: number | null;
  /** When a `retrying` row is due (epoch ms). */
  nextAttemptAt: number | null;
  /** Send attempts so far, this claim's included. */
  attempts: number;
  /** Why a final row failed (a placeholder's `device_quarantined`, say). */
  error: string | null;
}

export interface Claim {
  /** Every notification of the batch, once: written if the ledger does not have it yet. */
  notifications: readonly LedgerNotification[];
  /** Rows to claim. */
  fresh: readonly DeliveryTarget[];
  /** Rows of a replay: they may also take over `failed` rows. */
  replay: readonly DeliveryTarget[];
  /** Notifications that now resolve to devices: their earlier "no device" placeholders are dropped. */
  withDevices: readonly NotificationKey[];
}

export interface ClaimOptions {
  claimId: string;
  now: number;
  leaseUntil: number;
  /** `retrying` rows due by then may be claimed (epoch ms); default `now`. */
  dueBy?: number;
}

const compactNotification = (n: LedgerNotification) => ({
  e: n.eventId,
  i: n.index,
  r: n.receivedAt,
  u: n.userId,
  c: n.customId,
  ti: n.title,
  b: n.body,
  pa: n.path,
});
const compactTarget = (t: DeliveryTarget) => ({ e: t.eventId, i: t.index, t: t.token, p: t.provider, a: t.app, h: t.held ? 1 : 0 });
const compactKey = (k: NotificationKey) => ({ e: k.eventId, i: k.index });
const compactRow = (k: DeliveryKey) => ({ e: k.eventId, i: k.index, t: k.token });

/** Events and notifications are written once; a later writer (a duplicate, a replay) changes nothing. */
const INSERT_EVENTS = `
INSERT INTO events (event_id, received_at)
SELECT j.value->>'e', MIN(j.value->>'r') FROM json_each(?1) AS j GROUP BY 1
ON CONFLICT DO NOTHING`;

const INSERT_NOTIFICATIONS = `
INSERT INTO notifications (event_id, idx, user_id, custom_id, title, body, path, created_at)
SELECT j.value->>'e', j.value->>'i', j.value->>'u', j.value->>'c', j.value->>'ti', j.value->>'b', j.value->>'pa', ?2
FROM json_each(?1) AS j WHERE true`;

/** A rejected notification's row keeps only its valid fields: it never replaces a complete one. */
const INSERT_REJECTED_NOTIFICATIONS = `${INSERT_NOTIFICATIONS} ON CONFLICT DO NOTHING`;

/**
 * A valid notification fills in the row its rejection left (an event
 * replayed from LearnInk's dashboard after a fix); a complete row stays.
 */
const INSERT_VALID_NOTIFICATIONS = `${INSERT_NOTIFICATIONS}
ON CONFLICT (event_id, idx) DO UPDATE SET
  user_id = excluded.user_id, custom_id = excluded.custom_id,
  title = excluded.title, body = excluded.body, path = excluded.path
WHERE notifications.user_id IS NULL OR notifications.title IS NULL
   OR notifications.body IS NULL OR notifications.path IS NULL`;

/** A placeholder's status: `failed` while the brake holds the user's devices, else `no_device`. */
const PLACEHOLDER = "CASE WHEN j.value->>'h' = 1 THEN 'failed' ELSE 'no_device' END";

const CLAIM = `
INSERT INTO deliveries (event_id, idx, device_token, provider, app, status, attempts, error,
                        claimed_by, claimed_until, created_at, updated_at)
SELECT j.value->>'e', j.value->>'i', j.value->>'t', j.value->>'p', j.value->>'a',
       CASE WHEN j.value->>'t' = '' THEN ${PLACEHOLDER} ELSE 'sending' END,
       CASE WHEN j.value->>'t' = '' THEN 0 ELSE 1 END,
       CASE WHEN j.value->>'t' = '' AND j.value->>'h' = 1 THEN '${DEVICE_QUARANTINED}' END,
       CASE WHEN j.value->>'t' = '' THEN NULL ELSE ?2 END,
       CASE WHEN j.value->>'t' = '' THEN NULL ELSE ?3 END,
       ?4, ?4
FROM json_each(?1) AS j WHERE true
ON CONFLICT (event_id, idx, device_token) DO UPDATE SET
  status = excluded.status, attempts = deliveries.attempts + excluded.attempts,
  provider = excluded.provider, app = excluded.app,
  claimed_by = excluded.claimed_by, claimed_until = excluded.claimed_until,
  error = excluded.error, next_attempt_at = NULL, updated_at = excluded.updated_at
WHERE ${claimableRow("deliveries", "?4", "?6")} OR (?5 = 1 AND deliveries.status = 'failed')`;

/**
 * The rows of the notifications listed in ?1, as a join that SQLite drives
 * from the list through the primary key. (A row-value `IN (SELECT ...)`
 * would only use the event_id prefix: quadratic for a 10,000-notification event.)
 */
const ROWS_OF_NOTIFICATIONS = `json_each(?1) AS j CROSS JOIN deliveries AS d
  ON d.event_id = j.value->>'e' AND d.idx = j.value->>'i'`;

/**
 * Claims the rows in one transaction and returns the ledger state of every
 * row of their notifications. A row is ours to send when it comes back
 * `sending` with our claim id; any other row is final, `retrying` and not
 * yet due (see claimableRow), or owned by a concurrent invocation (a
 * duplicate webhook in flight).
 */
export async function claimDeliveries(db: D1Database, claim: Claim, options: ClaimOptions): Promise<ClaimedRow[]> {
  const statements: D1PreparedStatement[] = [];
  const notifications = claim.notifications.map(compactNotification);
  if (notifications.length > 0) statements.push(db.prepare(INSERT_EVENTS).bind(JSON.stringify(notifications.map(({ e, r }) => ({ e, r })))));
  for (const chunk of chunkJson(notifications)) {
    statements.push(
      db.prepare(INSERT_VALID_NOTIFICATIONS).bind(chunk, options.now),
      // Valid now: a `rejected` placeholder from an earlier delivery of the event goes.
      db
        .prepare(
          `DELETE FROM deliveries WHERE (event_id, idx, device_token) IN (
             SELECT d.event_id, d.idx, d.device_token FROM ${ROWS_OF_NOTIFICATIONS}
             WHERE d.device_token = '' AND d.status = 'rejected')`,
        )
        .bind(chunk),
    );
  }
  if (claim.withDevices.length > 0) {
    statements.push(
      db
        .prepare(
          `DELETE FROM deliveries WHERE (event_id, idx, device_token) IN (
             SELECT d.event_id, d.idx, d.device_token FROM ${ROWS_OF_NOTIFICATIONS}
             WHERE d.device_token = '' AND d.status IN ('no_device', 'failed'))`,
        )
        .bind(JSON.stringify(claim.withDevices.map(compactKey))),
    );
  }
  for (const [targets, isReplay] of [[claim.fresh, 0], [claim.replay, 1]] as const) {
    for (const chunk of chunkJson(targets.map(compactTarget))) {
      statements.push(
        db.prepare(CLAIM).bind(chunk, options.claimId, options.leaseUntil, options.now, isReplay, options.dueBy ?? options.now),
      );
    }
  }
  statements.push(
    db
      .prepare(
        `SELECT d.event_id AS eventId, d.idx AS "index", d.device_token AS token, d.status AS status,
                d.claimed_by AS claimedBy, d.claimed_until AS claimedUntil,
                d.next_attempt_at AS nextAttemptAt, d.attempts AS attempts, d.error AS error
         FROM ${ROWS_OF_NOTIFICATIONS}`,
      )
      .bind(JSON.stringify(uniqueNotifications([...claim.fresh, ...claim.replay]).map(compactKey))),
  );
  const results = await db.batch<ClaimedRow>(statements);
  return results.at(-1)!.results;
}

function uniqueNotifications(keys: readonly NotificationKey[]): NotificationKey[] {
  const seen = new Map<string, NotificationKey>();
  for (const key of keys) seen.set(notificationKey(key), key);
  return [...seen.values()];
}

/** A claimed row that goes back unsent: until when (default now), and why (default `deferred`). */
export interface Released extends DeliveryKey {
  until?: number;
  reason?: typeof QUIET_HOURS;
}

/** The outcome of one claimed row. */
export interface Outcome extends DeliveryKey {
  /** `no_device` only from a provider that reaches users rather than devices (OneSignal). */
  status: Exclude<DeliveryStatus, "sending" | "rejected" | "held">;
  /** The provider's message id (sent). */
  providerId?: string | null;
  /** Provider reason or our code (invalid_token, retrying, failed). */
  error?: string | null;
  /**
   * The provider's own words about the failure (trimmed, never a token;
   * src/push/detail.ts), for the operator beside `error` (migration 0013).
   */
  detail?: string;
  /** When to try again, epoch ms (retrying). */
  nextAttemptAt?: number | null;
  /** From the webhook's acceptance to the provider's answer, ms. */
  latencyMs?: number | null;
}

/**
 * Besides the outcomes, the batch's answers about tokens (PruneInput: dead
 * ones are removed, or quarantined by the pruning brake) and about our
 * settings (AlarmInput: alerts raised and cleared).
 */
export interface RecordOptions extends PruneInput, AlarmInput {
  claimId: string;
  now: number;

  /** APNs tokens that turned out to belong to the other environment. */
  environmentFixes: readonly { token: string; environment: "production" | "sandbox" }[];
  /** Open rows (`retrying`, or `sending` past its lease) for devices that no longer exist. */
  orphans: readonly DeliveryKey[];
  /**
   * Rows this claim took but never sent: `retrying` again, and the claim's
   * attempt is not counted. Due at once when the invocation's budget ran
   * out (`deferred`); at `until` when held for the quiet hours.
   */
  released?: readonly Released[];
}

const compactOutcome = (o: Outcome) => ({
  e: o.eventId,
  i: o.index,
  t: o.token,
  s: o.status,
  id: o.providerId ?? null,
  er: o.error ?? null,
  d: o.detail ?? null,
  n: o.nextAttemptAt ?? null,
  l: o.latencyMs ?? null,
});

/** What the record transaction decided besides the outcomes. */
export interface Recorded {
  pruned: PruneResult;
  alerts: AlertChanges;
  /**
   * Outcomes whose row was not this claim's any more (or never matched its
   * key): nothing was written for them. Never expected; the caller must not
   * take them as recorded.
   */
  missed: DeliveryKey[];
}

/** Each outcome onto its row, if this claim still owns it; returns the rows it wrote. */
const RECORD_OUTCOMES = `
UPDATE deliveries SET status = j.value->>'s', provider_id = j.value->>'id', error = j.value->>'er',
  detail = j.value->>'d', next_attempt_at = j.value->>'n', latency_ms = j.value->>'l',
  claimed_by = NULL, claimed_until = NULL, updated_at = ?2
FROM json_each(?1) AS j
WHERE ${ROW_OF_ITEM} AND deliveries.claimed_by = ?3
RETURNING deliveries.event_id AS eventId, deliveries.idx AS "index", deliveries.device_token AS token`;

/** Open rows of devices that are gone: nobody will send them. */
const CLOSE_ORPHANS = `
UPDATE deliveries SET status = 'failed', error = 'device_removed', updated_at = ?2
FROM json_each(?1) AS j
WHERE ${ROW_OF_ITEM} AND ${openRow("deliveries", "?2")}`;

/** Claimed rows that go back unsent: no attempt counted, due at `u` (default now) for reason `r` (default `deferred`). */
const RELEASE = `
UPDATE deliveries SET status = 'retrying', attempts = MAX(0, attempts - 1),
  error = COALESCE(j.value->>'r', 'deferred'), next_attempt_at = COALESCE(j.value->>'u', ?2),
  claimed_by = NULL, claimed_until = NULL, updated_at = ?2
FROM json_each(?1) AS j
WHERE ${ROW_OF_ITEM} AND deliveries.claimed_by = ?3`;

const FIX_ENVIRONMENTS = `
UPDATE devices SET environment = j.value->>'env', updated_at = ?2
FROM json_each(?1) AS j WHERE devices.token = j.value->>'t'`;

/** The record step's statements before the brake's and the alerts'; the outcomes' come first, one per chunk. */
function recordStatements(db: D1Database, chunks: readonly string[], options: RecordOptions): D1PreparedStatement[] {
  const { now, claimId } = options;
  const statements = chunks.map((chunk) => db.prepare(RECORD_OUTCOMES).bind(chunk, now, claimId));
  if (options.orphans.length > 0) statements.push(db.prepare(CLOSE_ORPHANS).bind(JSON.stringify(options.orphans.map(compactRow)), now));
  const released = (options.released ?? []).map((r) => ({ ...compactRow(r), u: r.until ?? null, r: r.reason ?? null }));
  for (const chunk of chunkJson(released)) statements.push(db.prepare(RELEASE).bind(chunk, now, claimId));
  if (options.environmentFixes.length > 0) {
    const fixes = JSON.stringify(options.environmentFixes.map((f) => ({ t: f.token, env: f.environment })));
    statements.push(db.prepare(FIX_ENVIRONMENTS).bind(fixes, now));
  }
  return statements;
}

/** Writes the outcomes of this invocation's claims, in one transaction; null when there was nothing to write. */
export async function recordOutcomes(db: D1Database, outcomes: readonly Outcome[], options: RecordOptions): Promise<Recorded | null> {
  const chunks = chunkJson(outcomes.map(compactOutcome));
  const statements = recordStatements(db, chunks, options);
  // Last, so their results are the batch's last ones.
  const pruning = pruneDevices(db, options, options.now);
  const alarms = recordAlarms(db, options, options.now);
  statements.push(...pruning.statements, ...alarms.statements);
  if (statements.length === 0) return null;
  const results = await db.batch(statements);
  const [pruned, alerts] = readStaged<[PruneResult, AlertChanges]>(results, pruning, alarms);
  const matched = new Set(results.slice(0, chunks.length).flatMap((r) => (r.results as DeliveryKey[]).map(deliveryKey)));
  const missed = outcomes.filter((o) => !matched.has(deliveryKey(o))).map(({ eventId, index, token }) => ({ eventId, index, token }));
  return { pruned, alerts, missed };
}

/**
 * A row a dead letter leaves to its owner: `sending` under a live lease
 * (its holder may yet record an outcome), or `retrying` and not due yet
 * (another message waits for it: a group split off, a duplicate's retry).
 */
export interface HeldRow extends DeliveryKey {
  /** When the row is the dead letter's to close if still open (epoch ms): the lease's end, or a minute past its due time. */
  until: number;
}

/**
 * A minute past a waiting row's due time, the message that waits for it has
 * claimed it (then it is `sending` under a live lease) or is not coming.
 */
export const DEAD_LETTER_DUE_MARGIN_MS = 60_000;

/**
 * Dead letters: every row of these notifications that is open and nobody
 * else's (`retrying` and due, or `sending` past its lease) becomes `failed`
 * `retries_exhausted`, and a notification that never got a row gets a
 * failed placeholder, so the ledger shows it and a replay can resend it.
 * Rows another message still owns are left alone and returned: the caller
 * comes back when they would be its, and closes what is still open.
 */
export async function recordDeadLetters(
  db: D1Database,
  notifications: readonly LedgerNotification[],
  now: number,
): Promise<HeldRow[]> {
  if (notifications.length === 0) return [];
  const compact = notifications.map(compactNotification);
  const statements: D1PreparedStatement[] = [
    db.prepare(INSERT_EVENTS).bind(JSON.stringify(compact.map(({ e, r }) => ({ e, r })))),
  ];
  for (const chunk of chunkJson(compact)) {
    statements.push(
      db.prepare(INSERT_VALID_NOTIFICATIONS).bind(chunk, now),
      db
        .prepare(
          `UPDATE deliveries SET status = 'failed', error = 'retries_exhausted',
             claimed_by = NULL, claimed_until = NULL, next_attempt_at = NULL, updated_at = ?2
           FROM json_each(?1) AS j
           WHERE deliveries.event_id = j.value->>'e' AND deliveries.idx = j.value->>'i'
             AND ${claimableRow("deliveries", "?2", "?2")}`,
        )
        .bind(chunk, now),
      db
        .prepare(
          `INSERT INTO deliveries (event_id, idx, device_token, provider, status, attempts, error, created_at, updated_at)
           SELECT j.value->>'e', j.value->>'i', '', NULL, 'failed', 0, 'retries_exhausted', ?2, ?2
           FROM json_each(?1) AS j
           WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = j.value->>'e' AND d.idx = j.value->>'i')
           ON CONFLICT DO NOTHING`,
        )
        .bind(chunk, now),
    );
  }
  const heldFrom = statements.length;
  for (const chunk of chunkJson(compact.map(({ e, i }) => ({ e, i })))) {
    statements.push(
      db
        .prepare(
          `SELECT d.event_id AS eventId, d.idx AS "index", d.device_token AS token,
                  CASE d.status WHEN 'sending' THEN d.claimed_until ELSE d.next_attempt_at + ?3 END AS until
           FROM ${ROWS_OF_NOTIFICATIONS}
           WHERE (d.status = 'sending' AND d.claimed_until >= ?2) OR (d.status = 'retrying' AND d.next_attempt_at > ?2)`,
        )
        .bind(chunk, now, DEAD_LETTER_DUE_MARGIN_MS),
    );
  }
  const results = await db.batch<HeldRow>(statements);
  return results.slice(heldFrom).flatMap((result) => result.results);
}

/**
 * Open rows (`retrying`, `sending`) last updated within [from, to) become
 * `failed` with `error`, so they show and a replay can send them. Found
 * through the time index, so only that window is read.
 */
export const CLOSE_OPEN_ROWS_SQL = `
UPDATE deliveries SET status = 'failed', error = ?3,
  claimed_by = NULL, claimed_until = NULL, next_attempt_at = NULL, updated_at = ?4
WHERE updated_at >= ?1 AND updated_at < ?2 AND status IN ('retrying', 'sending')`;

/** A window of the time index to close, and the sweep mark that moves past it in the same transaction. */
export interface CloseWindow {
  from: number;
  to: number;
  error: string;
  now: number;
  mark: string;
}

/** Closes the open rows last updated within [from, to) as failed `error` and moves the mark to `to`; resolves with how many. */
export async function closeOpenRows(db: D1Database, window: CloseWindow): Promise<number> {
  const [closed] = await db.batch([
    db.prepare(CLOSE_OPEN_ROWS_SQL).bind(window.from, window.to, window.error, window.now),
    moveMark(db, window.mark, window.to),
  ]);
  return closed!.meta.changes;
}

/** Notes that the event is being replayed: the retention sweep keeps it while the replay may be on the queue. */
export async function markReplayed(db: D1Database, eventId: string, now: number): Promise<void> {
  await db.prepare("UPDATE events SET replayed_at = ?2 WHERE event_id = ?1").bind(eventId, now).run();
}

/** A notification that failed validation at the webhook, with whichever of its fields were usable text. */
export interface Rejection {
  index: number;
  /** What was wrong, e.g. `data.notifications[3].title: must be a non-empty string`. */
  error: string;
  notification: {
    user_id: string | null;
    custom_id: string | null;
    title: string | null;
    body: string | null;
    path: string | null;
  };
}

/**
 * Records an event's rejected notifications: the event, each notification
 * (what was usable of it) and one `rejected` row each. Idempotent, so a
 * repeated webhook records nothing twice.
 */
export async function recordRejections(
  db: D1Database,
  eventId: string,
  receivedAt: number,
  rejections: readonly Rejection[],
): Promise<void> {
  if (rejections.length === 0) return;
  const compact = rejections.map((r) => ({
    e: eventId,
    i: r.index,
    er: r.error,
    u: r.notification.user_id,
    c: r.notification.custom_id,
    ti: r.notification.title,
    b: r.notification.body,
    pa: r.notification.path,
  }));
  const statements: D1PreparedStatement[] = [
    db.prepare("INSERT INTO events (event_id, received_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING").bind(eventId, receivedAt),
  ];
  for (const chunk of chunkJson(compact)) {
    statements.push(
      db.prepare(INSERT_REJECTED_NOTIFICATIONS).bind(chunk, receivedAt),
      db
        .prepare(
          `INSERT INTO deliveries (event_id, idx, device_token, status, attempts, error, created_at, updated_at)
           SELECT j.value->>'e', j.value->>'i', '', 'rejected', 0, j.value->>'er', ?2, ?2
           FROM json_each(?1) AS j WHERE true
           ON CONFLICT DO NOTHING`,
        )
        .bind(chunk, receivedAt),
    );
  }
  await db.batch(statements);
}
