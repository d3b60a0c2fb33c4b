-- The provider's own words about a failure (trimmed, never a token), kept
-- beside `error` for the operator. Written by the same UPDATE as the
-- outcome: no row more, and bytes only where something failed.
ALTER TABLE deliveries ADD COLUMN detail TEXT;
