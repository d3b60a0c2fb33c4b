-- Alarms an operator must see, and the pruning brake's counters.
--
-- A wrong setting (another Firebase project's service account, a typo in
-- APNS_TOPIC) makes the provider refuse every token; those answers raise an
-- alert instead of deleting devices. A burst of dead-token answers makes
-- the pruning brake quarantine devices instead of deleting them, and raises
-- an alert too. Both are written in the consumer's record transaction, so
-- they cost no extra D1 round trip (src/db/alerts.ts, src/db/pruning.ts).

-- One row per open alert. Bounded: kinds x providers x apps x reasons.
CREATE TABLE alerts (
  kind          TEXT    NOT NULL CHECK (kind IN ('provider_misconfigured', 'pruning_brake')),
  provider      TEXT    NOT NULL,
  app           TEXT    NOT NULL,
  reason        TEXT    NOT NULL,  -- the provider's answer or the unreadable setting; '' for the brake
  since         INTEGER NOT NULL,  -- epoch ms, first answer (or quarantine) of this alert
  last_seen_at  INTEGER NOT NULL,  -- epoch ms, the latest one
  count         INTEGER NOT NULL,  -- answers so far (misconfigured), devices held so far (brake)
  last_event_id TEXT,              -- an event that met it: GET /v1/events/:id shows the deliveries
  -- Which accepted pushes prove a misconfiguration fixed: 'any' push of that
  -- provider and app, or only one to an 'ios' device (FCM's APNs credentials).
  cleared_by    TEXT    NOT NULL DEFAULT 'any' CHECK (cleared_by IN ('any', 'ios')),
  PRIMARY KEY (kind, provider, app, reason)
) WITHOUT ROWID;

-- The pruning brake's counts, in 10-second buckets: answers that said
-- whether a token works (accepted, or dead) and how many said dead. Every
-- consumer invocation adds its batch and reads the recent buckets in the
-- same transaction; the hourly sweep drops buckets older than an hour.
CREATE TABLE brake_counts (
  bucket   INTEGER NOT NULL,  -- epoch ms at the start of the 10-second bucket
  provider TEXT    NOT NULL,
  app      TEXT    NOT NULL,
  answered INTEGER NOT NULL,
  dead     INTEGER NOT NULL,
  PRIMARY KEY (bucket, provider, app)
) WITHOUT ROWID;

-- The quarantine is listed page by page in (quarantined_at, token) order,
-- and purged by quarantined_at: one index serves both.
DROP INDEX devices_quarantined;
CREATE INDEX devices_quarantined ON devices (quarantined_at, token) WHERE quarantined_at IS NOT NULL;
