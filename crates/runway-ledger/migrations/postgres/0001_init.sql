-- Runway ledger, schema 1 (PostgreSQL). Forward-only: never edit a released migration, add a new one.
-- Timestamps are UTC RFC 3339 text with microseconds, identical to the SQLite schema, so an
-- export from one backend imports into the other byte for byte.

CREATE TABLE records (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          TEXT   NOT NULL UNIQUE,
    kind        TEXT   NOT NULL CHECK (kind IN ('release', 'deployment', 'verification', 'incident')),
    created_at  TEXT   NOT NULL,
    operator    TEXT   NOT NULL,
    environment TEXT,
    version     TEXT,
    ref_id      TEXT,
    body        TEXT   NOT NULL
);
CREATE INDEX records_env_time  ON records (environment, created_at);
CREATE INDEX records_env_kind_time ON records (environment, kind, created_at);
CREATE INDEX records_kind_time ON records (kind, created_at);
CREATE INDEX records_time      ON records (created_at);
CREATE INDEX records_version   ON records (version);
CREATE INDEX records_ref       ON records (ref_id);

CREATE TABLE events (
    seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    verification_id TEXT             NOT NULL REFERENCES records (id),
    idx             BIGINT           NOT NULL,
    check_id        TEXT             NOT NULL,
    status          TEXT             NOT NULL,
    message         TEXT             NOT NULL,
    duration_ms     DOUBLE PRECISION NOT NULL,
    hint            TEXT,
    evidence        TEXT             NOT NULL,
    PRIMARY KEY (verification_id, idx)
);

-- Append-only, enforced by the database itself and not only by this code.
CREATE FUNCTION runway_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the Runway ledger is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME;
END
$$;
CREATE TRIGGER records_append_only BEFORE UPDATE OR DELETE ON records
    FOR EACH ROW EXECUTE FUNCTION runway_append_only();
CREATE TRIGGER records_no_truncate BEFORE TRUNCATE ON records
    FOR EACH STATEMENT EXECUTE FUNCTION runway_append_only();
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION runway_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION runway_append_only();
CREATE TRIGGER check_results_append_only BEFORE UPDATE OR DELETE ON check_results
    FOR EACH ROW EXECUTE FUNCTION runway_append_only();
CREATE TRIGGER check_results_no_truncate BEFORE TRUNCATE ON check_results
    FOR EACH STATEMENT EXECUTE FUNCTION runway_append_only();
