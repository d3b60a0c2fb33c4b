-- A device's clock: the IANA time zone its app reported (`Africa/Nairobi`),
-- checked with Intl when it is registered. Null when the app sent none.
ALTER TABLE devices ADD COLUMN time_zone TEXT;
