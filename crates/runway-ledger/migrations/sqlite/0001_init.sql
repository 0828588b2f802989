-- Runway ledger, schema 1 (SQLite). Forward-only: never edit a released migration, add a new one.
-- Timestamps are UTC RFC 3339 text with microseconds (`2026-11-21T10:00:00.000000Z`), so they
-- sort as text and compare the same way on both backends.

CREATE TABLE records (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL CHECK (kind IN ('release', 'deployment', 'verification', 'incident')),
    created_at  TEXT    NOT NULL,
    operator    TEXT    NOT NULL,
    environment TEXT,
    version     TEXT,
    ref_id      TEXT,
    body        TEXT    NOT NULL
);
CREATE INDEX records_env_time  ON records (environment, created_at);
CREATE INDEX records_env_kind_time ON records (environment, kind, created_at);
CREATE INDEX records_kind_time ON records (kind, created_at);
CREATE INDEX records_time      ON records (created_at);
CREATE INDEX records_version   ON records (version);
CREATE INDEX records_ref       ON records (ref_id);

CREATE TABLE events (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL REFERENCES records (id),
    at        TEXT NOT NULL,
    operator  TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('created', 'status', 'note')),
    status    TEXT,
    note      TEXT,
    data      TEXT NOT NULL
);
CREATE INDEX events_record ON events (record_id, seq);

CREATE TABLE check_results (
    verification_id TEXT    NOT NULL REFERENCES records (id),
    idx             INTEGER NOT NULL,
    check_id        TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    message         TEXT    NOT NULL,
    duration_ms     REAL    NOT NULL,
    hint            TEXT,
    evidence        TEXT    NOT NULL,
    PRIMARY KEY (verification_id, idx)
);

-- Append-only, enforced by the database itself and not only by this code.
CREATE TRIGGER records_no_update BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'the Runway ledger is append-only: records cannot be updated'); END;
CREATE TRIGGER records_no_delete BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'the Runway ledger is append-only: records cannot be deleted'); END;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the Runway ledger is append-only: events cannot be updated'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the Runway ledger is append-only: events cannot be deleted'); END;
CREATE TRIGGER check_results_no_update BEFORE UPDATE ON check_results
BEGIN SELECT RAISE(ABORT, 'the Runway ledger is append-only: check results cannot be updated'); END;
CREATE TRIGGER check_results_no_delete BEFORE DELETE ON check_results
BEGIN SELECT RAISE(ABORT, 'the Runway ledger is append-only: check results cannot be deleted'); END;
