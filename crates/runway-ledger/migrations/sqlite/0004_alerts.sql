-- runway monitor's alerts. Operational state, not history: an instance row is updated as it
-- moves pending -> firing -> resolved, and the outbox row of a notification as it is attempted,
-- so these tables have no append-only triggers and are not exported. Times are microseconds
-- since the Unix epoch.

-- One alert instance: a rule on an environment, from the first evaluation its condition held
-- until it resolved. At most one open (pending or firing) instance per fingerprint (dedup).
CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint     TEXT    NOT NULL,
    rule            TEXT    NOT NULL,
    environment     TEXT    NOT NULL,
    level           TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    condition       TEXT    NOT NULL,
    started_us      BIGINT  NOT NULL,
    fired_us        BIGINT,
    resolved_us     BIGINT,
    evaluated_us    BIGINT  NOT NULL,
    last_value      REAL,
    hits            BIGINT  NOT NULL,
    clears          BIGINT  NOT NULL,
    notified_us     BIGINT,
    muted           BIGINT  NOT NULL,
    message         TEXT,
    acked_by        TEXT,
    acked_us        BIGINT,
    silenced_until_us BIGINT
);
CREATE UNIQUE INDEX alerts_one_open ON alerts (fingerprint) WHERE state <> 'resolved';
CREATE INDEX alerts_started ON alerts (started_us);

-- Every notification to send, kept until it was delivered: a notifier that is down delays it,
-- never loses it. `dedup_key` makes enqueueing the same notification twice a no-op.
CREATE TABLE alert_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id        BIGINT  NOT NULL REFERENCES alerts (id),
    notifier        TEXT    NOT NULL,
    event           TEXT    NOT NULL,
    dedup_key       TEXT    NOT NULL UNIQUE,
    payload         TEXT    NOT NULL,
    created_us      BIGINT  NOT NULL,
    attempts        BIGINT  NOT NULL,
    next_attempt_us BIGINT  NOT NULL,
    last_error      TEXT,
    sent_us         BIGINT
);
CREATE INDEX alert_outbox_unsent ON alert_outbox (next_attempt_us) WHERE sent_us IS NULL;

-- Each notifier's delivery health: what the dashboard and /metrics show.
CREATE TABLE notifier_state (
    notifier        TEXT    PRIMARY KEY,
    attempts        BIGINT  NOT NULL,
    sent            BIGINT  NOT NULL,
    failures        BIGINT  NOT NULL,
    consecutive_failures BIGINT NOT NULL,
    last_attempt_us BIGINT,
    last_success_us BIGINT,
    last_error      TEXT
);
