-- The ledger, written per claim instead of per delivery (docs/ledger.md).
--
-- A claim (one consumer invocation's work on the events of one second)
-- writes one document: its notifications, with their text and recipient,
-- and their deliveries, with each one's state. Later steps (the outcomes,
-- a retry's claim, a dead letter, a sweep) rewrite the document in place,
-- checked by its version. D1 bills every row written, index entries
-- included: a document costs two rows when it is written, two each time it
-- changes and two when retention deletes it, whatever it holds, and
-- neither table has a secondary index.
--
-- `bucket` is the event's own time in unix seconds (a Svix message id
-- carries it; else the envelope's `timestamp`): every delivery of the same
-- event, repeated or replayed, finds its documents under the same key.

-- What the reads scan: a few hundred bytes per document.
CREATE TABLE ledger (
  bucket     INTEGER NOT NULL,  -- the event's time, unix seconds
  seq        INTEGER NOT NULL,  -- 1, 2, ... within the bucket, in the order written
  lo         INTEGER NOT NULL,  -- the lowest and highest notification index held
  hi         INTEGER NOT NULL,
  open_at    INTEGER,           -- the earliest due time or lease end of an open delivery; NULL when all are final
  notifications INTEGER NOT NULL,
  created_at INTEGER NOT NULL,  -- epoch ms
  updated_at INTEGER NOT NULL,  -- epoch ms
  counts     TEXT NOT NULL,     -- JSON object "provider|app|status" -> deliveries
  -- The wide columns last: a fan-out's recipients run to kilobytes and spill
  -- out of the row's page, and a scan of the columns above never reads them.
  events     TEXT NOT NULL,     -- JSON array of the event ids held
  users      TEXT NOT NULL,     -- JSON array of "u:<user_id>" and "c:<custom_id>"
  PRIMARY KEY (bucket, seq)
) WITHOUT ROWID;

-- The documents themselves, read by key.
CREATE TABLE ledger_docs (
  bucket  INTEGER NOT NULL,
  seq     INTEGER NOT NULL,
  v       INTEGER NOT NULL,  -- version: every write checks and bumps it
  w       TEXT NOT NULL,     -- the last write's own id, so the summary row follows only that write
  doc     BLOB NOT NULL,     -- deflated JSON (src/db/doc.ts, doc-store.ts)
  PRIMARY KEY (bucket, seq)
) WITHOUT ROWID;

-- Opens by the hour of the open, for /v1/stats (the open itself is kept on
-- its notification in the document).
CREATE TABLE opens_by_hour (
  hour INTEGER PRIMARY KEY,  -- epoch ms of the hour's start
  n    INTEGER NOT NULL
);

-- Events replayed lately (POST /v1/events/:id/replay): retention keeps
-- their documents while the replay may still be on the queue.
CREATE TABLE replays (
  event_id    TEXT PRIMARY KEY,
  bucket      INTEGER NOT NULL,
  replayed_at INTEGER NOT NULL  -- epoch ms
) WITHOUT ROWID;

-- The previous ledger (events, notifications, deliveries) stays: the
-- consumer moves an event's rows into a document the first time it claims
-- the event again, and the hourly sweep moves the rest, a slice at a time
-- (src/maintenance/convert.ts). Every statement here touches no row of it,
-- so none nears D1's 30 s per query on a ledger of millions of rows.
