-- The delivery ledger: one row per (event, notification index, device).
-- It is what makes a repeated webhook, a dashboard replay or a queue
-- redelivery send nothing twice, and what the operations API reads.
--
-- device_token '' stands for "no device": the notification's user had none
-- (status no_device), or it never got as far as a lookup (failed).
CREATE TABLE deliveries (
  event_id      TEXT    NOT NULL,  -- the Svix message id
  idx           INTEGER NOT NULL,  -- index in data.notifications[]
  device_token  TEXT    NOT NULL,
  provider      TEXT CHECK (provider IN ('fcm', 'apns')),
  status        TEXT    NOT NULL CHECK (status IN ('sending', 'sent', 'invalid_token', 'retrying', 'failed', 'no_device')),
  attempts      INTEGER NOT NULL DEFAULT 0,
  provider_id   TEXT,              -- FCM message name or APNs apns-id
  error         TEXT,              -- provider reason or our code
  -- what is needed to send it again (replay); never the phone number
  user_id       TEXT    NOT NULL,
  custom_id     TEXT,
  title         TEXT    NOT NULL,
  body          TEXT    NOT NULL,
  path          TEXT    NOT NULL,
  -- a consumer invocation owns a 'sending' row until claimed_until
  claimed_by    TEXT,
  claimed_until INTEGER,
  next_attempt_at INTEGER,
  latency_ms    INTEGER,           -- webhook accepted -> provider answered
  created_at    INTEGER NOT NULL,  -- epoch ms
  updated_at    INTEGER NOT NULL,  -- epoch ms
  PRIMARY KEY (event_id, idx, device_token)
) WITHOUT ROWID;

-- Stats over recent windows and the retention sweep read by time and status.
CREATE INDEX deliveries_by_updated ON deliveries (updated_at, status);
-- "Did Mary get her reminder?": a user's recent deliveries.
CREATE INDEX deliveries_by_custom_id ON deliveries (custom_id, created_at) WHERE custom_id IS NOT NULL;
CREATE INDEX deliveries_by_user_id ON deliveries (user_id, created_at);
