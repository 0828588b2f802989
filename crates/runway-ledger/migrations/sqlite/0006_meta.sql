-- Facts about the ledger itself, one row per key. `settings_key` is the
-- per-ledger random key of the keyed digests kept for secret settings
-- (written by Runway when the table is created). Not a record: never exported.
CREATE TABLE runway_meta (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
