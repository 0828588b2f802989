#!/usr/bin/env python3
"""How long the schema-2 migration (`0002_deployments`) takes on a big ledger.

SQLite cannot alter a CHECK constraint, so `0002` rebuilds the `events`
table with every row. This builds a schema-1 SQLite ledger shaped like
`bench/ledger.sh`'s (10,000 deployments with two events each, 10,000
verification runs with 10 check results each, 500 releases), then applies
`0001_init.sql` and times `0002_deployments.sql` in one `BEGIN IMMEDIATE`
transaction, as `runway` does on open. With `BENCH_PG_URL` (or
`RUNWAY_TEST_PG_URL`) it does the same on PostgreSQL through `psql`, in a
scratch database it drops afterwards.

    python3 bench/ledger-migrate.py            # SQLite (and PostgreSQL when a URL is set)
    BENCH_RUNS=5 python3 bench/ledger-migrate.py

The SQL runs in the database itself (Python's `sqlite3`, `psql`), so the
figure is the migration's own cost, not the client's.
"""

import os
import sqlite3
import statistics
import subprocess
import tempfile
import time
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
MIG = os.path.join(HERE, "..", "crates", "runway-ledger", "migrations")
DEPLOYMENTS = 10_000
RELEASES = 500
CHECKS = 10


def rows():
    """(records, events, check_results) rows of a schema-1 ledger."""
    records, events, checks = [], [], []
    t = "2026-01-01T00:00:00.000000Z"
    for i in range(RELEASES):
        rid = f"rel-{i:012x}"
        records.append((rid, "release", t, "ci", None, f"1.{i}.0", None, "{}"))
        events.append((rid, t, "ci", "created", None, None, "null"))
    for i in range(DEPLOYMENTS):
        did = f"dep-{i:012x}"
        vid = f"ver-{i:012x}"
        body = '{"environment":"production","release":"1.0.0","window":{"decision":"no_window"},"started_at":"2026-01-01T00:00:00Z"}'
        records.append((did, "deployment", t, "ci", "production", "1.0.0", None, body))
        events.append((did, t, "ci", "created", "in_progress", None, "null"))
        events.append((did, t, "ci", "status", "verified", None, '{"finished_at":"2026-01-01T00:05:00Z"}'))
        records.append((vid, "verification", t, "ci", "production", "1.0.0", did, "{}"))
        events.append((vid, t, "ci", "created", "passed", None, "null"))
        for c in range(CHECKS):
            checks.append((vid, c, f"check.{c}", "pass", "ok", 1.5, None, "{}"))
    return records, events, checks


def sqlite_run(runs):
    records, events, checks = rows()
    init = open(os.path.join(MIG, "sqlite", "0001_init.sql")).read()
    step = open(os.path.join(MIG, "sqlite", "0002_deployments.sql")).read()
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "ledger.db")
            db = sqlite3.connect(path, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.executescript(init)
            db.execute("BEGIN")
            db.executemany("INSERT INTO records (id, kind, created_at, operator, environment, version, ref_id, body) VALUES (?,?,?,?,?,?,?,?)", records)
            db.executemany("INSERT INTO events (record_id, at, operator, kind, status, note, data) VALUES (?,?,?,?,?,?,?)", events)
            db.executemany("INSERT INTO check_results VALUES (?,?,?,?,?,?,?,?)", checks)
            db.execute("COMMIT")
            start = time.perf_counter()
            db.executescript("BEGIN IMMEDIATE;\n" + step + "\nCOMMIT;\n")
            times.append((time.perf_counter() - start) * 1000)
            n = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
            assert n == len(events), (n, len(events))
            db.close()
    return times, len(events)


def psql(url, sql):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url], input=sql, text=True, check=True, capture_output=True)


def pg_run(base, runs):
    records, events, checks = rows()
    init = open(os.path.join(MIG, "postgres", "0001_init.sql")).read()
    step = open(os.path.join(MIG, "postgres", "0002_deployments.sql")).read()

    def lit(v):
        if v is None:
            return "NULL"
        if isinstance(v, (int, float)):
            return str(v)
        return "'" + str(v).replace("'", "''") + "'"

    def values(rs):
        return ",\n".join("(" + ",".join(lit(v) for v in r) + ")" for r in rs)

    load = (
        init
        + "\nINSERT INTO records (id, kind, created_at, operator, environment, version, ref_id, body) VALUES\n" + values(records) + ";\n"
        + "INSERT INTO events (record_id, at, operator, kind, status, note, data) VALUES\n" + values(events) + ";\n"
        + "INSERT INTO check_results VALUES\n" + values(checks) + ";\n"
    )
    times = []
    u = urllib.parse.urlsplit(base)
    for _ in range(runs):
        name = "runway_mig_" + uuid.uuid4().hex[:12]
        psql(base, f"CREATE DATABASE {name};")
        url = urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query, ""))
        try:
            psql(url, load)
            start = time.perf_counter()
            psql(url, "BEGIN;\n" + step + "\nCOMMIT;\n")
            times.append((time.perf_counter() - start) * 1000)
        finally:
            psql(base, f"DROP DATABASE IF EXISTS {name} WITH (FORCE);")
    return times, len(events)


def report(backend, times, n):
    print(f"{backend:<9} 0002 on {n:,} events: median {statistics.median(times):.1f} ms, min {min(times):.1f} ms ({len(times)} runs)")


def main():
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    times, n = sqlite_run(runs)
    report("sqlite", times, n)
    pg = os.environ.get("BENCH_PG_URL") or os.environ.get("RUNWAY_TEST_PG_URL")
    if pg:
        times, n = pg_run(pg, runs)
        report("postgres", times, n)


if __name__ == "__main__":
    main()
