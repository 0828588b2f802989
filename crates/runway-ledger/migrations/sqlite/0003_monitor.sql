-- runway monitor's results. Operational data, not history: raw results are kept for a short
-- horizon, then rolled up into hourly rows and deleted (retention keeps storage bounded), so
-- these tables have no append-only triggers and are not exported. Times are microseconds
-- since the Unix epoch.
CREATE TABLE monitor_results (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    environment TEXT    NOT NULL,
    at_us       BIGINT  NOT NULL,
    ok          BIGINT  NOT NULL,
    status      TEXT    NOT NULL,
    reason      TEXT,
    check_id    TEXT,
    message     TEXT,
    latency_ms  REAL NOT NULL
);
CREATE INDEX monitor_results_env_at ON monitor_results (environment, at_us);

-- One row per environment and hour, summed from the raw results it replaced.
CREATE TABLE monitor_rollups (
    environment    TEXT    NOT NULL,
    bucket_us      BIGINT  NOT NULL,
    runs           BIGINT  NOT NULL,
    failures       BIGINT  NOT NULL,
    auth_failures  BIGINT  NOT NULL,
    latency_sum_ms REAL NOT NULL,
    latency_max_ms REAL NOT NULL,
    PRIMARY KEY (environment, bucket_us)
);
