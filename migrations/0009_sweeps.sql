-- Sweeps that cannot miss, and schemas that converge.
--
-- An early version of 0004 created an index of open deliveries that a later
-- version of the same file left out: a database migrated in between still
-- has it, and pays a row written for every claim and outcome. Gone here, if
-- present. (Every statement below touches a few rows at most, whatever the
-- ledger's size: nothing nears D1's 30 s per query.)
DROP INDEX IF EXISTS deliveries_open;

-- How far each hourly sweep has looked (epoch ms), so that a missed run, or
-- several, leaves nothing behind: the next run starts where the last one
-- stopped instead of at a fixed window.
CREATE TABLE sweep_marks (
  name  TEXT PRIMARY KEY,
  until INTEGER NOT NULL
) WITHOUT ROWID;

-- When the event was last replayed (epoch ms): the retention sweep keeps an
-- event whose replay may still be on the queue.
ALTER TABLE events ADD COLUMN replayed_at INTEGER;
