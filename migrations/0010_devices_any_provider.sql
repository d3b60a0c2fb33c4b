-- Devices of any provider: which providers exist, and what their tokens
-- look like, is the relay's code (each provider's descriptor under
-- src/push/<provider>/, checked when a device registers), no longer a
-- CHECK on this table that every new provider had to rebuild it for.
--
-- SQLite cannot drop a CHECK in place, so the table is rebuilt once more;
-- the copy keeps every row and column. The indexes are created after the
-- copy (one pass each instead of an update per row), which keeps the
-- statements short: SQLite copies on the order of a million narrow rows a
-- second, far inside D1's 30 seconds per statement for any devices table
-- a relay holds (the per-user cap keeps it near the number of phones).

CREATE TABLE devices_any (
  token       TEXT PRIMARY KEY,
  provider    TEXT NOT NULL,
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
INSERT INTO devices_any (token, provider, app, custom_id, user_id, platform, environment, created_at, updated_at, quarantined_at, quarantine_reason)
  SELECT token, provider, app, custom_id, user_id, platform, environment, created_at, updated_at, quarantined_at, quarantine_reason FROM devices;
DROP TABLE devices;
ALTER TABLE devices_any RENAME TO devices;
CREATE INDEX devices_by_custom_id ON devices (custom_id, updated_at);
CREATE INDEX devices_by_user_id ON devices (user_id, updated_at);
CREATE INDEX devices_quarantined ON devices (quarantined_at, token) WHERE quarantined_at IS NOT NULL;
-- The stats' device counts, answered from the index alone.
CREATE INDEX devices_by_provider ON devices (provider, environment, quarantined_at);
