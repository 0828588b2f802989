-- Runway ledger, schema 2 (SQLite): deployment facts and the per-environment deploy lock.
-- Forward-only: never edit a released migration, add a new one.

-- Events gain the kind `fact` (a later fact about a deployment: gates, the target's answer,
-- an analysis window, a rollback, logs). SQLite cannot alter a CHECK constraint, so the table
-- is rebuilt with every row, `seq` kept, inside the migration's transaction. The implicit
-- delete of DROP TABLE fires no trigger; the append-only triggers are recreated on the new table.
CREATE TABLE events_v2 (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL REFERENCES records (id),
    at        TEXT NOT NULL,
    operator  TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('created', 'status', 'note', 'fact')),
    status    TEXT,
    note      TEXT,
    data      TEXT NOT NULL
);
INSERT INTO events_v2 (seq, record_id, at, operator, kind, status, note, data)
    SELECT seq, record_id, at, operator, kind, status, note, data FROM events ORDER BY seq;
DROP TABLE events;
ALTER TABLE events_v2 RENAME TO events;
CREATE INDEX events_record ON events (record_id, seq);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the Runway ledger is append-only: events cannot be updated'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the Runway ledger is append-only: events cannot be deleted'); END;

-- Who deploys to an environment now: a lease, not history. The one table that is updated and
-- deleted (a holder renews and releases it; an expired lease is taken over), so no trigger.
-- Times are microseconds since the Unix epoch.
CREATE TABLE deploy_locks (
    environment  TEXT    NOT NULL PRIMARY KEY,
    holder       TEXT    NOT NULL,
    token        TEXT    NOT NULL,
    acquired_us  INTEGER NOT NULL,
    heartbeat_us INTEGER NOT NULL,
    expires_us   INTEGER NOT NULL
);
