/**
 * The pruning brake: dead-token answers remove devices, except in a burst,
 * when the devices are quarantined instead (kept, not sent to, purged after
 * QUARANTINE_DAYS unless an operator restores them). A burst is what a
 * provider incident or a bug of ours looks like; real dead tokens trickle
 * in at a few percent of the answers.
 *
 * Many consumer invocations record at once, so the counts live in D1
 * (`brake_counts`, 10-second buckets per provider and app) and the decision
 * is made in SQL inside the caller's transaction: its counts go in first,
 * then each dead token is quarantined or removed by what the buckets say.
 * D1 runs one write transaction at a time, so every invocation sees the
 * answers of those before it.
 *
 * Reusable by anything that learns of dead tokens (the consumer's answers
 * today, Expo's receipts later): give it the answers and the dead tokens.
 */
import type { Staged } from "./staged";

export const BRAKE = {
  /** Counting granularity. */
  bucketMs: 10_000,
  /**
   * Spans looked at. The brake holds when any of them counts at least
   * `minAnswers` answers and more than `deadShare` of them dead: the short
   * ones react within a few hundred answers on a busy relay (a long span
   * full of earlier successes would let thousands of devices go first), the
   * 5-minute one catches a burst on a quiet relay.
   */
  spansMs: [10_000, 60_000, 300_000],
  /** Fewer answers than this prove nothing either way. */
  minAnswers: 100,
  /** More than half dead is a burst. */
  deadShare: 0.5,
} as const;

/** A quarantined device is purged this long after the brake held it, unless an operator restores it. */
export const QUARANTINE_DAYS = 7;

/** Answers of one provider and app that said whether a token works: accepted, or dead. */
export interface TokenAnswers {
  provider: string;
  app: string;
  answered: number;
  dead: number;
}

/** A token a provider declared dead, with its answer (UNREGISTERED, Unregistered, BadDeviceToken, ...). */
export interface DeadToken {
  token: string;
  provider: string;
  app: string;
  reason: string;
  /**
   * When it was known dead (epoch ms): the push's start, or APNs' 410
   * `timestamp`. A device registered (or restored) after it is left alone:
   * the answer is about a registration that no longer exists.
   */
  sentAt: number;
}

/** Flat lists, so the record step's fallback (record-later.ts) can split them between queue messages. */
export interface PruneInput {
  /** Per provider and app: the batch's answers that said whether a token works. */
  tokenAnswers: readonly TokenAnswers[];
  /** The tokens they declared dead. */
  deadTokens: readonly DeadToken[];
}

export interface PruneResult {
  /** Deleted, as before the brake. */
  removed: string[];
  /** Held by the brake: kept, not sent to. */
  quarantined: DeadToken[];
}

/** What the operator should check when the brake holds devices: shown in its alert and log line. */
export const BRAKE_CHECK =
  `A burst of dead-token answers (${BRAKE.minAnswers} or more in a short span, more than half of them dead): the devices are quarantined instead of deleted. ` +
  "GET /v1/quarantine lists them. If the provider had an incident or the tokens were damaged on the way, restore them " +
  "(POST /v1/quarantine/restore, or POST /v1/devices/:token/restore); if they are really gone, confirm " +
  `(POST /v1/quarantine/confirm-removal) or let the hourly sweep purge them ${QUARANTINE_DAYS} days after.`;

/** The start of the 10-second bucket `at` (epoch ms) falls in. */
export const bucketOf = (at: number) => Math.floor(at / BRAKE.bucketMs) * BRAKE.bucketMs;

/**
 * Quarantines the dead tokens (?1) of every provider and app over the
 * threshold in any span: ?3 answers at least, ?4 the dead share to exceed,
 * ?5 the JSON list of span starts (bucket times); ?2 is now.
 */
const QUARANTINE = `
WITH braking AS (
  SELECT DISTINCT provider, app FROM (
    SELECT c.provider, c.app FROM json_each(?5) AS s JOIN brake_counts AS c ON c.bucket >= s.value
    GROUP BY s.value, c.provider, c.app
    HAVING SUM(c.answered) >= ?3 AND SUM(c.dead) > SUM(c.answered) * ?4))
UPDATE devices SET quarantined_at = ?2, quarantine_reason = j.value->>'r'
FROM json_each(?1) AS j JOIN braking AS b ON b.provider = j.value->>'p' AND b.app = j.value->>'a'
WHERE devices.token = j.value->>'t' AND devices.quarantined_at IS NULL AND devices.updated_at <= j.value->>'s'
RETURNING devices.token AS token, devices.provider AS provider, devices.app AS app, devices.quarantine_reason AS reason`;

/** Adds the batch's answers to the current bucket of each provider and app. */
const COUNT_ANSWERS = `
INSERT INTO brake_counts (bucket, provider, app, answered, dead)
SELECT ?2, j.value->>'p', j.value->>'a', j.value->>'n', j.value->>'d' FROM json_each(?1) AS j WHERE true
ON CONFLICT (bucket, provider, app) DO UPDATE SET
  answered = brake_counts.answered + excluded.answered, dead = brake_counts.dead + excluded.dead`;

/** The brake's alert: one per provider and app, counting the devices it holds. */
const BRAKE_ALERT = `
INSERT INTO alerts (kind, provider, app, reason, since, last_seen_at, count)
SELECT 'pruning_brake', d.provider, d.app, '', ?2, ?2, COUNT(*)
FROM json_each(?1) AS j JOIN devices AS d ON d.token = j.value->>'t'
WHERE d.quarantined_at = ?2 GROUP BY d.provider, d.app
ON CONFLICT (kind, provider, app, reason) DO UPDATE SET
  last_seen_at = excluded.last_seen_at, count = alerts.count + excluded.count`;

/** The dead tokens the brake did not hold, registered before they were known dead. */
const REMOVE_DEAD = `
DELETE FROM devices WHERE quarantined_at IS NULL AND token IN (
  SELECT j.value->>'t' FROM json_each(?1) AS j WHERE devices.updated_at <= j.value->>'s')
RETURNING token`;

/**
 * Counts `input.tokenAnswers`, then quarantines the dead tokens of every provider
 * and app over the threshold and removes the others. Three to four
 * statements for the caller's batch; nothing when there is nothing to weigh.
 */
export function pruneDevices(db: D1Database, input: PruneInput, now: number): Staged<PruneResult> {
  const statements: D1PreparedStatement[] = [];
  const answers = input.tokenAnswers.filter((a) => a.answered > 0);
  if (answers.length > 0) {
    statements.push(db.prepare(COUNT_ANSWERS).bind(JSON.stringify(answers.map((a) => ({ p: a.provider, a: a.app, n: a.answered, d: a.dead }))), bucketOf(now)));
  }
  if (input.deadTokens.length === 0) return { statements, read: () => ({ removed: [], quarantined: [] }) };

  const dead = JSON.stringify(input.deadTokens.map((d) => ({ t: d.token, p: d.provider, a: d.app, r: d.reason, s: d.sentAt })));
  const spans = JSON.stringify(BRAKE.spansMs.map((span) => bucketOf(now - span)));
  statements.push(
    db.prepare(QUARANTINE).bind(dead, now, BRAKE.minAnswers, BRAKE.deadShare, spans),
    db.prepare(BRAKE_ALERT).bind(dead, now),
    db.prepare(REMOVE_DEAD).bind(dead),
  );
  return {
    statements,
    read(results) {
      const tail = results.slice(-3);
      return {
        quarantined: (tail[0]?.results ?? []) as DeadToken[],
        removed: ((tail[2]?.results ?? []) as { token: string }[]).map((r) => r.token),
      };
    },
  };
}

/** Drops counts no span looks at any more (the hourly sweep). */
export async function sweepBrakeCounts(db: D1Database, now: number): Promise<number> {
  const oldest = bucketOf(now - Math.max(...BRAKE.spansMs));
  return (await db.prepare("DELETE FROM brake_counts WHERE bucket < ?1").bind(oldest).run()).meta.changes;
}
