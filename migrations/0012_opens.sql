-- Opens: when a user tapped a notification (POST /v1/opens), kept on the
-- notification, whose row is written once anyway: an open is one row
-- written, and one entry of the partial index below that /v1/stats counts
-- by time ($2 per million opens at D1's $1 per million rows written).
ALTER TABLE notifications ADD COLUMN opened_at INTEGER;  -- epoch ms, the first report
CREATE INDEX notifications_opened ON notifications (opened_at) WHERE opened_at IS NOT NULL;
