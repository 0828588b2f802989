-- Runway ledger, schema 2 (PostgreSQL): deployment facts and the per-environment deploy lock.
-- Forward-only: never edit a released migration, add a new one.

-- Events gain the kind `fact` (a later fact about a deployment: gates, the target's answer,
-- an analysis window, a rollback, logs). Altering a constraint touches no row.
ALTER TABLE events DROP CONSTRAINT events_kind_check;
ALTER TABLE events ADD CONSTRAINT events_kind_check
    CHECK (kind IN ('created', 'status', 'note', 'fact'));

-- Who deploys to an environment now: a lease, not history. The one table that is updated and
-- deleted (a holder renews and releases it; an expired lease is taken over), so no trigger.
-- Times are microseconds since the Unix epoch, from the server's clock.
CREATE TABLE deploy_locks (
    environment  TEXT   NOT NULL PRIMARY KEY,
    holder       TEXT   NOT NULL,
    token        TEXT   NOT NULL,
    acquired_us  BIGINT NOT NULL,
    heartbeat_us BIGINT NOT NULL,
    expires_us   BIGINT NOT NULL
);
