-- Short-lived provider credentials shared by every isolate: the FCM OAuth
-- access token and the APNs provider JWT. Many consumer isolates run at
-- once; without this table each would mint its own, and APNs answers 429
-- TooManyProviderTokenUpdates when its JWT changes more often than every
-- 20 minutes. Writes are compare-and-set (see src/push/credential-cache.ts).
CREATE TABLE credentials (
  name       TEXT    PRIMARY KEY, -- provider and key identity, e.g. 'apns:TEAMID:KEYID'
  value      TEXT    NOT NULL,    -- the access token or JWT (expires within an hour)
  issued_at  INTEGER NOT NULL,    -- epoch ms
  expires_at INTEGER NOT NULL     -- epoch ms: no isolate uses it from then on (before the provider's own expiry)
) WITHOUT ROWID;
