-- Push tokens registered by the app (or the company backend).
-- A token is unique: registering it again moves it to the new user.
CREATE TABLE devices (
  token       TEXT PRIMARY KEY,
  provider    TEXT NOT NULL CHECK (provider IN ('fcm', 'apns')),
  custom_id   TEXT,
  user_id     TEXT,
  platform    TEXT CHECK (platform IN ('ios', 'android')),
  environment TEXT NOT NULL DEFAULT 'production' CHECK (environment IN ('production', 'sandbox')),
  created_at  INTEGER NOT NULL, -- epoch ms
  updated_at  INTEGER NOT NULL, -- epoch ms
  CHECK (custom_id IS NOT NULL OR user_id IS NOT NULL)
);

-- The consumer resolves recipients by custom_id, then by LearnInk's user_id;
-- the API lists a user's devices by custom_id. updated_at orders the
-- per-user cap (the least recently registered device goes first).
CREATE INDEX devices_by_custom_id ON devices (custom_id, updated_at);
CREATE INDEX devices_by_user_id ON devices (user_id, updated_at);
