-- runway monitor's shared schedule: several workers pointed at one ledger share each
-- environment's check suite through these rows. A worker claims a due row with a lease
-- (owner, lease_until_us), runs the suite, and in one transaction stores the result and moves
-- the row to its next slot, but only while the lease is still its own, so a slot is run and
-- stored at most once; a worker that died stops holding its rows when their leases lapse and
-- another takes them. Operational state, not history: no append-only triggers, not exported.
-- Times are microseconds since the Unix epoch, from the database's clock.
CREATE TABLE monitor_schedule (
    job             TEXT    NOT NULL PRIMARY KEY,
    interval_us     BIGINT  NOT NULL,
    -- The slot being waited for (without jitter), and when it may start (with).
    base_us         BIGINT  NOT NULL,
    next_due_us     BIGINT  NOT NULL,
    -- The worker that holds the current slot, the slot, and until when.
    owner           TEXT,
    slot_us         BIGINT,
    lease_until_us  BIGINT,
    -- Whose lapsed lease the current holder took over (null when the row was free).
    taken_from      TEXT,
    -- The last worker to finish a slot, and when.
    last_owner      TEXT,
    last_run_us     BIGINT,
    runs            BIGINT  NOT NULL DEFAULT 0,
    -- Slots that passed unrun (every worker busy or down), and leases taken over after expiry.
    missed          BIGINT  NOT NULL DEFAULT 0,
    takeovers       BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX monitor_schedule_due ON monitor_schedule (next_due_us);

-- Which slot a stored result belongs to, and which worker ran it (null for a local schedule).
ALTER TABLE monitor_results ADD COLUMN slot_us BIGINT;
ALTER TABLE monitor_results ADD COLUMN worker TEXT;
