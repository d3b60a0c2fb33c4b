-- The operations console's Failures page lists failed and rejected
-- deliveries, newest first. Without this index that is a walk through every
-- delivery of the period (a million a day at scale, each a billed row
-- read); failures are a small share of the ledger, so this partial index
-- stays small and a page reads about as many entries as it shows.
CREATE INDEX deliveries_failures ON deliveries (updated_at, event_id, idx, device_token)
  WHERE status IN ('failed', 'rejected');
