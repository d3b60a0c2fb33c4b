/**
 * All SQL on the delivery ledger. Lists travel as one JSON parameter
 * expanded with json_each, and every step of a queue batch is a single D1
 * round trip (a `db.batch`, one transaction): claim, then record.
 */
import type { Provider, UserIdKind } from "../devices/types";
import type { QueuedNotification } from "../queue/message";

export type DeliveryStatus = "sending" | "sent" | "invalid_token" | "retrying" | "failed" | "no_device";

/** Statuses that never change again (short of a replay of `failed`). */
export const FINAL_STATUSES: ReadonlySet<DeliveryStatus> = new Set(["sent", "invalid_token", "failed", "no_device"]);

/** One (event, notification, device) the consumer wants to own. `t` is '' for "no device". */
export interface Candidate {
  e: string;
  i: number;
  t: string;
  p: Provider | null;
  u: string;
  c: string | null;
  ti: string;
  b: string;
  pa: string;
}

/** The ledger's view of a row after the claim. */
export interface LedgerState {
  e: string;
  i: number;
  t: string;
  s: DeliveryStatus;
  /** The claim id of the invocation that owns a `sending` row. */
  cb: string | null;
  /** Lease end (epoch ms) of a `sending` row. */
  cu: number | null;
  a: number;
}

export interface ClaimOptions {
  claimId: string;
  now: number;
  leaseUntil: number;
}

/**
 * Bound parameters may hold at most 2,000,000 bytes (D1's row and string
 * limit); candidates carry the notification text, so large lists are split.
 */
const MAX_PARAM_BYTES = 1_000_000;

function chunkJson<T>(items: readonly T[]): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let bytes = 2;
  for (const item of items) {
    const json = JSON.stringify(item);
    if (current.length > 0 && bytes + json.length + 1 > MAX_PARAM_BYTES) {
      chunks.push(`[${current.join(",")}]`);
      current = [];
      bytes = 2;
    }
    current.push(json);
    bytes += json.length + 1;
  }
  if (current.length > 0) chunks.push(`[${current.join(",")}]`);
  return chunks;
}

const CLAIM_SQL = `
INSERT INTO deliveries (event_id, idx, device_token, provider, status, attempts, user_id, custom_id,
                        title, body, path, claimed_by, claimed_until, created_at, updated_at)
SELECT j.value->>'e', j.value->>'i', j.value->>'t', j.value->>'p',
       CASE WHEN j.value->>'t' = '' THEN 'no_device' ELSE 'sending' END,
       CASE WHEN j.value->>'t' = '' THEN 0 ELSE 1 END,
       j.value->>'u', j.value->>'c', j.value->>'ti', j.value->>'b', j.value->>'pa',
       CASE WHEN j.value->>'t' = '' THEN NULL ELSE ?2 END,
       CASE WHEN j.value->>'t' = '' THEN NULL ELSE ?3 END,
       ?4, ?4
FROM json_each(?1) AS j WHERE true
ON CONFLICT (event_id, idx, device_token) DO UPDATE SET
  status = excluded.status, attempts = deliveries.attempts + excluded.attempts, provider = excluded.provider,
  claimed_by = excluded.claimed_by, claimed_until = excluded.claimed_until,
  error = NULL, next_attempt_at = NULL, updated_at = excluded.updated_at
WHERE deliveries.status = 'retrying'
   OR (deliveries.status = 'sending' AND deliveries.claimed_until < ?4)
   OR (?5 = 1 AND deliveries.status = 'failed')`;

/**
 * The rows of the notifications listed in ?1, as a join that SQLite drives
 * from the list through the primary key. (A row-value `IN (SELECT ...)`
 * would only use the event_id prefix: quadratic for a 10,000-notification event.)
 */
const ROWS_OF_NOTIFICATIONS = `json_each(?1) AS j CROSS JOIN deliveries AS d
  ON d.event_id = j.value->>'e' AND d.idx = j.value->>'i'`;

/**
 * Claims the candidates in one transaction and returns the ledger state of
 * every row of their notifications. A row is ours to send when it comes
 * back `sending` with our claim id; any other row is final or owned by a
 * concurrent invocation (a duplicate webhook in flight).
 *
 * `withDevices` lists the notifications that now resolve to devices: their
 * "no device" placeholder rows from an earlier attempt are dropped.
 * `replay` lists candidates whose `failed` rows may be claimed again.
 */
export async function claimDeliveries(
  db: D1Database,
  fresh: readonly Candidate[],
  replay: readonly Candidate[],
  withDevices: readonly { e: string; i: number }[],
  options: ClaimOptions,
): Promise<LedgerState[]> {
  const statements: D1PreparedStatement[] = [];
  if (withDevices.length > 0) {
    statements.push(
      db
        .prepare(
          `DELETE FROM deliveries WHERE (event_id, idx, device_token) IN (
             SELECT d.event_id, d.idx, d.device_token FROM ${ROWS_OF_NOTIFICATIONS}
             WHERE d.device_token = '' AND d.status IN ('no_device', 'failed'))`,
        )
        .bind(JSON.stringify(withDevices)),
    );
  }
  for (const [list, isReplay] of [[fresh, 0], [replay, 1]] as const) {
    for (const chunk of chunkJson(list)) {
      statements.push(
        db.prepare(CLAIM_SQL).bind(chunk, options.claimId, options.leaseUntil, options.now, isReplay),
      );
    }
  }
  const keys = uniqueKeys([...fresh, ...replay]);
  statements.push(
    db
      .prepare(
        `SELECT d.event_id AS e, d.idx AS i, d.device_token AS t, d.status AS s, d.claimed_by AS cb,
                d.claimed_until AS cu, d.attempts AS a
         FROM ${ROWS_OF_NOTIFICATIONS}`,
      )
      .bind(JSON.stringify(keys)),
  );
  const results = await db.batch<LedgerState>(statements);
  return results.at(-1)!.results;
}

function uniqueKeys(candidates: readonly Candidate[]): { e: string; i: number }[] {
  const seen = new Map<string, { e: string; i: number }>();
  for (const { e, i } of candidates) seen.set(`${i}\u0000${e}`, { e, i });
  return [...seen.values()];
}

/** The outcome of one claimed row. */
export interface Outcome {
  e: string;
  i: number;
  t: string;
  s: Exclude<DeliveryStatus, "sending" | "no_device">;
  /** Provider message id (sent). */
  id?: string | null;
  /** Error code (invalid_token, retrying, failed). */
  er?: string | null;
  /** Next attempt, epoch ms (retrying). */
  n?: number | null;
  /** Latency from webhook to provider answer, ms. */
  l?: number | null;
}

export interface RecordOptions {
  claimId: string;
  now: number;
  /** Tokens the providers declared dead: their devices are removed. */
  removeTokens: readonly string[];
  /** APNs tokens that turned out to belong to the other environment. */
  environmentFixes: readonly { t: string; env: "production" | "sandbox" }[];
  /** Rows left open (`retrying`, or `sending` past its lease) for devices that no longer exist. */
  orphans: readonly { e: string; i: number; t: string }[];
}

/** Writes the outcomes of this invocation's claims, in one transaction; false when there was nothing to write. */
export async function recordOutcomes(db: D1Database, outcomes: readonly Outcome[], options: RecordOptions): Promise<boolean> {
  const statements: D1PreparedStatement[] = [];
  for (const chunk of chunkJson(outcomes)) {
    statements.push(
      db
        .prepare(
          `UPDATE deliveries SET status = j.value->>'s', provider_id = j.value->>'id', error = j.value->>'er',
             next_attempt_at = j.value->>'n', latency_ms = j.value->>'l',
             claimed_by = NULL, claimed_until = NULL, updated_at = ?2
           FROM json_each(?1) AS j
           WHERE deliveries.event_id = j.value->>'e' AND deliveries.idx = j.value->>'i'
             AND deliveries.device_token = j.value->>'t' AND deliveries.claimed_by = ?3`,
        )
        .bind(chunk, options.now, options.claimId),
    );
  }
  if (options.orphans.length > 0) {
    statements.push(
      db
        .prepare(
          `UPDATE deliveries SET status = 'failed', error = 'device_removed', updated_at = ?2
           FROM json_each(?1) AS j
           WHERE deliveries.event_id = j.value->>'e' AND deliveries.idx = j.value->>'i'
             AND deliveries.device_token = j.value->>'t'
             AND (deliveries.status = 'retrying' OR (deliveries.status = 'sending' AND deliveries.claimed_until < ?2))`,
        )
        .bind(JSON.stringify(options.orphans), options.now),
    );
  }
  if (options.removeTokens.length > 0) {
    statements.push(
      db
        .prepare("DELETE FROM devices WHERE token IN (SELECT value FROM json_each(?1))")
        .bind(JSON.stringify(options.removeTokens)),
    );
  }
  if (options.environmentFixes.length > 0) {
    statements.push(
      db
        .prepare(
          `UPDATE devices SET environment = j.value->>'env', updated_at = ?2
           FROM json_each(?1) AS j WHERE devices.token = j.value->>'t'`,
        )
        .bind(JSON.stringify(options.environmentFixes), options.now),
    );
  }
  if (statements.length === 0) return false;
  await db.batch(statements);
  return true;
}

/**
 * Dead letters: every row of these notifications that is still open becomes
 * `failed` `retries_exhausted`, and a notification that never got a row gets
 * a failed placeholder, so the ledger shows it and a replay can resend it.
 */
export async function recordDeadLetters(db: D1Database, notifications: readonly Candidate[], now: number): Promise<void> {
  const statements: D1PreparedStatement[] = [];
  for (const chunk of chunkJson(notifications)) {
    statements.push(
      db
        .prepare(
          `UPDATE deliveries SET status = 'failed', error = 'retries_exhausted',
             claimed_by = NULL, claimed_until = NULL, next_attempt_at = NULL, updated_at = ?2
           FROM json_each(?1) AS j
           WHERE deliveries.event_id = j.value->>'e' AND deliveries.idx = j.value->>'i'
             AND (deliveries.status = 'retrying' OR (deliveries.status = 'sending' AND deliveries.claimed_until < ?2))`,
        )
        .bind(chunk, now),
      db
        .prepare(
          `INSERT INTO deliveries (event_id, idx, device_token, provider, status, attempts, error, user_id, custom_id,
                                   title, body, path, created_at, updated_at)
           SELECT j.value->>'e', j.value->>'i', '', NULL, 'failed', 0, 'retries_exhausted', j.value->>'u', j.value->>'c',
                  j.value->>'ti', j.value->>'b', j.value->>'pa', ?2, ?2
           FROM json_each(?1) AS j
           WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = j.value->>'e' AND d.idx = j.value->>'i')
           ON CONFLICT DO NOTHING`,
        )
        .bind(chunk, now),
    );
  }
  if (statements.length > 0) await db.batch(statements);
}

export interface DeliveryRow {
  idx: number;
  device_token: string;
  provider: Provider | null;
  status: DeliveryStatus;
  attempts: number;
  provider_id: string | null;
  error: string | null;
  user_id: string;
  custom_id: string | null;
  title: string;
  body: string;
  path: string;
  latency_ms: number | null;
  next_attempt_at: number | null;
  created_at: number;
  updated_at: number;
}

/** A page of an event's deliveries, in (index, token) order after `after`. */
export async function eventDeliveries(
  db: D1Database,
  eventId: string,
  options: { after?: { idx: number; token: string }; status?: DeliveryStatus; limit: number },
): Promise<DeliveryRow[]> {
  const after = options.after ?? { idx: -1, token: "" };
  const { results } = await db
    .prepare(
      `SELECT idx, device_token, provider, status, attempts, provider_id, error, user_id, custom_id,
              title, body, path, latency_ms, next_attempt_at, created_at, updated_at
       FROM deliveries WHERE event_id = ?1 AND (idx, device_token) > (?2, ?3) AND (?4 IS NULL OR status = ?4)
       ORDER BY idx, device_token LIMIT ?5`,
    )
    .bind(eventId, after.idx, after.token, options.status ?? null, options.limit)
    .all<DeliveryRow>();
  return results;
}

/** Counts of an event's deliveries by status. */
export async function eventSummary(db: D1Database, eventId: string): Promise<Partial<Record<DeliveryStatus, number>>> {
  const { results } = await db
    .prepare("SELECT status, COUNT(*) AS n FROM deliveries WHERE event_id = ?1 GROUP BY status")
    .bind(eventId)
    .all<{ status: DeliveryStatus; n: number }>();
  return Object.fromEntries(results.map((r) => [r.status, r.n]));
}

/** The notifications of an event that have at least one `failed` delivery, for a replay. */
export async function failedNotifications(
  db: D1Database,
  eventId: string,
): Promise<{ notifications: QueuedNotification[]; deliveries: number }> {
  const { results } = await db
    .prepare(
      `SELECT idx AS i, title, body, path, user_id, custom_id, COUNT(*) AS n
       FROM deliveries WHERE event_id = ?1 AND status = 'failed' GROUP BY idx ORDER BY idx`,
    )
    .bind(eventId)
    .all<QueuedNotification & { n: number }>();
  return {
    notifications: results.map(({ n: _n, ...notification }) => notification),
    deliveries: results.reduce((sum, r) => sum + r.n, 0),
  };
}

/** A user's most recent deliveries, newest first: "did Mary get her reminder?" */
export async function userDeliveries(
  db: D1Database,
  by: UserIdKind,
  id: string,
  limit: number,
): Promise<(DeliveryRow & { event_id: string })[]> {
  const { results } = await db
    .prepare(
      `SELECT event_id, idx, device_token, provider, status, attempts, provider_id, error, user_id, custom_id,
              title, body, path, latency_ms, next_attempt_at, created_at, updated_at
       FROM deliveries WHERE ${by} = ?1 ORDER BY created_at DESC, event_id, idx LIMIT ?2`,
    )
    .bind(id, limit)
    .all<DeliveryRow & { event_id: string }>();
  return results;
}
