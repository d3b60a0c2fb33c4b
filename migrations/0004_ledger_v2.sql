-- Ledger v2: a notification's text is stored once, not once per device row;
-- events get a row of their own (the console and the retention sweep page
-- through them by time); a notification that failed validation can be
-- recorded as `rejected`; devices belong to an app and can be quarantined
-- by the pruning brake instead of deleted.
--
-- SQLite cannot change a CHECK constraint in place, so devices and
-- deliveries are rebuilt; the copy keeps every row.

-- Devices ---------------------------------------------------------------

CREATE TABLE devices_v2 (
  token       TEXT PRIMARY KEY,
  provider    TEXT NOT NULL CHECK (provider IN ('fcm', 'apns', 'expo')),
  app         TEXT NOT NULL DEFAULT 'default',
  custom_id   TEXT,
  user_id     TEXT,
  platform    TEXT CHECK (platform IN ('ios', 'android')),
  environment TEXT NOT NULL DEFAULT 'production' CHECK (environment IN ('production', 'sandbox')),
  created_at  INTEGER NOT NULL, -- epoch ms
  updated_at  INTEGER NOT NULL, -- epoch ms
  -- Set by the pruning brake: the device is kept but not sent to, until an
  -- operator restores it or the sweep purges it 7 days later.
  quarantined_at    INTEGER,    -- epoch ms
  quarantine_reason TEXT,       -- the provider's answer, e.g. 'UNREGISTERED'
  CHECK (custom_id IS NOT NULL OR user_id IS NOT NULL)
);
INSERT INTO devices_v2 (token, provider, custom_id, user_id, platform, environment, created_at, updated_at)
  SELECT token, provider, custom_id, user_id, platform, environment, created_at, updated_at FROM devices;
DROP TABLE devices;
ALTER TABLE devices_v2 RENAME TO devices;
CREATE INDEX devices_by_custom_id ON devices (custom_id, updated_at);
CREATE INDEX devices_by_user_id ON devices (user_id, updated_at);
CREATE INDEX devices_quarantined ON devices (quarantined_at) WHERE quarantined_at IS NOT NULL;
-- The stats' device counts, answered from the index alone.
CREATE INDEX devices_by_provider ON devices (provider, environment, quarantined_at);

-- Events and notifications -------------------------------------------------

-- One row per webhook event the relay has worked on (by its Svix id).
CREATE TABLE events (
  event_id    TEXT PRIMARY KEY,  -- the Svix message id
  received_at INTEGER NOT NULL   -- epoch ms, when the webhook was first accepted
) WITHOUT ROWID;
CREATE INDEX events_by_received ON events (received_at, event_id);

-- One row per notification of an event: its text and recipient, kept for
-- the operations API and for replays. Never the phone number. A rejected
-- notification keeps whichever fields were valid text (the others NULL).
CREATE TABLE notifications (
  event_id   TEXT    NOT NULL,
  idx        INTEGER NOT NULL,  -- index in data.notifications[]
  user_id    TEXT,
  custom_id  TEXT,
  title      TEXT,
  body       TEXT,
  path       TEXT,
  created_at INTEGER NOT NULL,  -- epoch ms
  PRIMARY KEY (event_id, idx)
) WITHOUT ROWID;
-- "Did Mary get her reminder?": a user's recent notifications.
CREATE INDEX notifications_by_custom_id ON notifications (custom_id, created_at) WHERE custom_id IS NOT NULL;
CREATE INDEX notifications_by_user_id ON notifications (user_id, created_at);

INSERT INTO events (event_id, received_at)
  SELECT event_id, MIN(created_at) FROM deliveries GROUP BY event_id;
INSERT INTO notifications (event_id, idx, user_id, custom_id, title, body, path, created_at)
  SELECT event_id, idx, user_id, custom_id, title, body, path, MIN(created_at) FROM deliveries GROUP BY event_id, idx;

-- Deliveries -----------------------------------------------------------------

-- One row per (event, notification index, device); device_token '' stands
-- for "no device" (no_device), a notification that never reached a lookup
-- (failed) and one that failed validation (rejected).
CREATE TABLE deliveries_v2 (
  event_id        TEXT    NOT NULL,
  idx             INTEGER NOT NULL,
  device_token    TEXT    NOT NULL,
  provider        TEXT,              -- fcm, apns, expo, onesignal; NULL without a device
  app             TEXT,              -- the device's app; NULL without a device
  status          TEXT    NOT NULL CHECK (status IN ('sending', 'sent', 'invalid_token', 'retrying', 'failed', 'no_device', 'rejected')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  provider_id     TEXT,              -- the provider's message id
  error           TEXT,              -- provider reason, our code, or the field error of a rejected notification
  -- a consumer invocation owns a 'sending' row until claimed_until
  claimed_by      TEXT,
  claimed_until   INTEGER,
  next_attempt_at INTEGER,
  latency_ms      INTEGER,           -- webhook accepted -> provider answered
  created_at      INTEGER NOT NULL,  -- epoch ms
  updated_at      INTEGER NOT NULL,  -- epoch ms
  PRIMARY KEY (event_id, idx, device_token)
) WITHOUT ROWID;
INSERT INTO deliveries_v2 (event_id, idx, device_token, provider, app, status, attempts, provider_id, error,
                           claimed_by, claimed_until, next_attempt_at, latency_ms, created_at, updated_at)
  SELECT event_id, idx, device_token, provider, CASE WHEN provider IS NULL THEN NULL ELSE 'default' END,
         status, attempts, provider_id, error,
         claimed_by, claimed_until, next_attempt_at, latency_ms, created_at, updated_at FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_v2 RENAME TO deliveries;
-- Stats over recent windows: a covering index, so counting never reads the
-- table. The only secondary index: D1 bills every index entry written as a
-- row, and each delivery is written twice (claim, outcome).
CREATE INDEX deliveries_by_updated ON deliveries (updated_at, status, provider, app);
