/**
 * Alerts: what an operator must act on, shown in GET /v1/stats. Two kinds:
 *
 * - `provider_misconfigured`: a provider answered that one of our settings
 *   is wrong (each provider's table, src/push/<provider>/misconfiguration.ts). Raised and cleared in the
 *   consumer's record transaction: raised (or counted) by each batch with
 *   such answers; cleared by a later batch in which the same provider and
 *   app accepted a push (for FCM's APNs credentials, a push to an iOS
 *   device) and gave no such answer; forgotten a day after its last answer.
 * - `pruning_brake`: the brake quarantined devices (src/db/pruning.ts
 *   raises it); cleared once nothing of that provider and app is left in
 *   quarantine (restored, confirmed or purged).
 */
import { misconfiguration } from "../push/providers";
import { BRAKE_CHECK } from "./pruning";
import type { Staged } from "./staged";

export type AlertKind = "provider_misconfigured" | "pruning_brake";

/** A misconfiguration alert with no new answer for this long is no longer shown, and the sweep drops it. */
export const ALERT_STALE_MS = 24 * 3_600_000;

/** One batch's answers of one kind of misconfiguration. */
export interface MisconfiguredAnswers {
  provider: string;
  app: string;
  /** The provider's answer (SENDER_ID_MISMATCH, DeviceTokenNotForTopic, ...) or the unreadable setting. */
  reason: string;
  answers: number;
  /** The event of the last of them. */
  lastEventId: string;
}

/** Pushes a provider accepted for an app in one batch; `ios` when one of them went to an iOS device. */
export interface AcceptedPushes {
  provider: string;
  app: string;
  ios: boolean;
}

export interface AlarmInput {
  misconfigured: readonly MisconfiguredAnswers[];
  accepted: readonly AcceptedPushes[];
}

/** An alert as stored. */
export interface AlertRow {
  kind: AlertKind;
  provider: string;
  app: string;
  reason: string;
  since: number;
  lastSeenAt: number;
  count: number;
  lastEventId: string | null;
}

export interface AlertChanges {
  /** Misconfiguration alerts raised or counted by this batch, as they now stand. */
  raised: Pick<AlertRow, "provider" | "app" | "reason" | "since" | "count">[];
  /** Misconfiguration alerts this batch's accepted pushes cleared. */
  cleared: Pick<AlertRow, "provider" | "app" | "reason" | "since">[];
}

/**
 * Raises or counts the batch's misconfiguration alerts, then clears those
 * its accepted pushes prove fixed: at most two statements for the caller's
 * record transaction. An alert this batch raised is never cleared by it.
 */
export function recordAlarms(db: D1Database, input: AlarmInput, now: number): Staged<AlertChanges> {
  const statements: D1PreparedStatement[] = [];
  const reads: ((result: D1Result, changes: AlertChanges) => void)[] = [];
  if (input.misconfigured.length > 0) {
    const rows = input.misconfigured.map((m) => ({
      p: m.provider,
      a: m.app,
      r: m.reason,
      n: m.answers,
      e: m.lastEventId,
      c: misconfiguration(m.provider, m.reason).clearedBy,
    }));
    statements.push(db.prepare(RAISE_ALERTS).bind(JSON.stringify(rows), now, now - ALERT_STALE_MS));
    reads.push((result, changes) => changes.raised.push(...(result.results as AlertChanges["raised"])));
  }
  if (input.accepted.length > 0) {
    const rows = input.accepted.map((a) => ({ p: a.provider, a: a.app, s: a.ios ? "ios" : "any" }));
    statements.push(db.prepare(CLEAR_ALERTS).bind(JSON.stringify(rows), now));
    reads.push((result, changes) => changes.cleared.push(...(result.results as AlertChanges["cleared"])));
  }
  return {
    statements,
    read(results) {
      const changes: AlertChanges = { raised: [], cleared: [] };
      reads.forEach((read, i) => read(results[i]!, changes));
      return changes;
    },
  };
}

/** Raises or counts each misconfiguration (?1); one unseen since ?3 starts afresh. */
const RAISE_ALERTS = `
INSERT INTO alerts (kind, provider, app, reason, since, last_seen_at, count, last_event_id, cleared_by)
SELECT 'provider_misconfigured', j.value->>'p', j.value->>'a', j.value->>'r', ?2, ?2, j.value->>'n', j.value->>'e', j.value->>'c'
FROM json_each(?1) AS j WHERE true
ON CONFLICT (kind, provider, app, reason) DO UPDATE SET
  since = CASE WHEN alerts.last_seen_at < ?3 THEN excluded.since ELSE alerts.since END,
  count = CASE WHEN alerts.last_seen_at < ?3 THEN excluded.count ELSE alerts.count + excluded.count END,
  last_seen_at = excluded.last_seen_at, last_event_id = excluded.last_event_id, cleared_by = excluded.cleared_by
RETURNING provider, app, reason, since, count`;

/** Clears the misconfigurations the accepted pushes (?1) prove fixed; never one raised in this batch (at ?2). */
const CLEAR_ALERTS = `
DELETE FROM alerts WHERE kind = 'provider_misconfigured' AND last_seen_at < ?2
  AND EXISTS (SELECT 1 FROM json_each(?1) AS j WHERE j.value->>'p' = alerts.provider AND j.value->>'a' = alerts.app
                AND (alerts.cleared_by = 'any' OR j.value->>'s' = alerts.cleared_by))
RETURNING provider, app, reason, since`;

/**
 * Every alert to show: misconfigurations seen within ALERT_STALE_MS, and
 * the brake's. The table is bounded by kinds x providers x apps x reasons,
 * so reading all of it costs a handful of rows.
 */
export const ALERTS_SQL = `
  SELECT kind, provider, app, reason, since, last_seen_at AS lastSeenAt, count, last_event_id AS lastEventId
  FROM alerts WHERE kind = 'pruning_brake' OR last_seen_at >= ?1 ORDER BY since, kind, provider, app, reason`;

export const alertsStatement = (db: D1Database, now: number) => db.prepare(ALERTS_SQL).bind(now - ALERT_STALE_MS);

/** The API's view of an alert: which provider and app, since when, how many, and what to check. */
export function presentAlert(row: AlertRow) {
  return {
    kind: row.kind,
    provider: row.provider,
    app: row.app,
    /** The provider's answer (or unreadable setting); null for the brake. */
    reason: row.reason === "" ? null : row.reason,
    since: new Date(row.since).toISOString(),
    last_seen_at: new Date(row.lastSeenAt).toISOString(),
    /** Answers so far (misconfigured), devices held so far (brake). */
    count: row.count,
    last_event_id: row.lastEventId,
    check: row.kind === "pruning_brake" ? BRAKE_CHECK : misconfiguration(row.provider, row.reason).check,
  };
}

export type AlertView = ReturnType<typeof presentAlert>;

/**
 * Drops brake alerts of providers and apps with nothing left in quarantine;
 * run after the quarantine shrinks. The environment list lets SQLite seek
 * devices_by_provider (provider, environment, quarantined_at) to the held
 * devices alone instead of reading every device of the provider.
 */
export const clearBrakeAlerts = (db: D1Database) =>
  db.prepare(
    `DELETE FROM alerts WHERE kind = 'pruning_brake' AND NOT EXISTS (
       SELECT 1 FROM devices AS d
       WHERE d.provider = alerts.provider AND d.environment IN ('production', 'sandbox') AND d.quarantined_at > 0
         AND d.app = alerts.app)`,
  );

/** The hourly sweep: forgets stale misconfiguration alerts and brake alerts with an empty quarantine. */
export async function sweepAlerts(db: D1Database, now: number): Promise<number> {
  const [stale, brake] = await db.batch([
    db.prepare("DELETE FROM alerts WHERE kind = 'provider_misconfigured' AND last_seen_at < ?1").bind(now - ALERT_STALE_MS),
    clearBrakeAlerts(db),
  ]);
  return stale!.meta.changes + brake!.meta.changes;
}
