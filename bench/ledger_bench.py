#!/usr/bin/env python3
"""Data generator and timer for bench/ledger.sh.

`gen-repo N`            prints a `git fast-import` stream of N commits spread over 300 days.
`gen-export SHAS OUT`   writes a Runway ledger export: 10,000 deployments, one verification
                        run of 10 checks each (100,000 check results), incidents, releases.
`time ...`              runs commands repeatedly and prints median/min wall times.

Deterministic (fixed seed) so runs compare.
"""

import json
import random
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

DEPLOYMENTS = 10_000
CHECKS_PER_RUN = 10
RELEASES = 500
DAYS = 300
NOW = datetime.now(timezone.utc).replace(microsecond=0)
START = NOW - timedelta(days=DAYS)


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def gen_repo(n):
    out = sys.stdout
    step = (DAYS * 86400) // n
    for i in range(n):
        when = int((START - timedelta(days=1)).timestamp()) + i * step
        msg = f"change {i}\n"
        out.write("commit refs/heads/main\n")
        out.write(f"committer Bench <bench@example.com> {when} +0000\n")
        out.write(f"data {len(msg)}\n{msg}\n")


def event(at, kind, status=None, note=None, data=None, operator="ci"):
    e = {"at": ts(at), "operator": operator, "kind": kind}
    if status is not None:
        e["status"] = status
    if note is not None:
        e["note"] = note
    if data is not None:
        e["data"] = data
    return e


def gen_export(shas_path, out_path):
    rnd = random.Random(42)
    commits = []
    with open(shas_path) as f:
        for line in f:
            sha, ct = line.split()
            commits.append((int(ct), sha))
    commits.sort()
    records = []
    for i in range(RELEASES):
        t = START + timedelta(seconds=i * DAYS * 86400 // RELEASES)
        v = f"1.{i // 50}.{i % 50}"
        records.append({
            "id": f"rel-{i:012x}", "kind": "release", "created_at": ts(t), "operator": "ci",
            "version": v,
            "body": {"version": v, "tag": f"v{v}", "git_sha": commits[min(i, len(commits) - 1)][1],
                     "changelog": f"### Fixes\n- fix {i}"},
            "events": [event(t, "created")],
        })
    step = DAYS * 86400 / DEPLOYMENTS
    incidents = 0
    ci = 0
    for i in range(DEPLOYMENTS):
        start = START + timedelta(seconds=int(i * step))
        env = "production" if rnd.random() < 0.4 else "staging"
        while ci + 1 < len(commits) and commits[ci + 1][0] < start.timestamp() - 3600:
            ci += 1
        sha = commits[ci][1]
        r = rnd.random()
        outcome = ("verified" if r < 0.90 else "rolled_back" if r < 0.95
                   else "failed" if r < 0.99 else "aborted")
        end = start + timedelta(minutes=rnd.randint(2, 40))
        version = f"1.{(i * RELEASES // DEPLOYMENTS) // 50}.{(i * RELEASES // DEPLOYMENTS) % 50}"
        dep_id = f"dep-{i:012x}"
        ver_id = f"ver-{i:012x}"
        failing = outcome in ("rolled_back", "failed")
        checks = []
        summary = {"passed": 0, "warned": 0, "failed": 0, "skipped": 0}
        for c in range(CHECKS_PER_RUN):
            fail = failing and c == 3
            status = "fail" if fail else "pass"
            summary["failed" if fail else "passed"] += 1
            check = {
                "id": f"group{c}.check{c}", "status": status,
                "message": f"check {c} of run {i}: {'unexpected 200' if fail else 'ok'}",
                "duration_ms": round(rnd.uniform(1, 300), 3),
                "evidence": {"status": 200, "elapsed_ms": round(rnd.uniform(1, 300), 3),
                             "headers": {"content-type": "application/json"},
                             "body_excerpt": '{"jsonrpc":"2.0","result":{}}'},
            }
            if fail:
                check["hint"] = "require a bearer token"
            checks.append(check)
        vstart = end - timedelta(seconds=30)
        records.append({
            "id": ver_id, "kind": "verification", "created_at": ts(vstart), "operator": "ci",
            "environment": env, "version": version, "ref_id": dep_id,
            "body": {"schema": "runway.report/v1", "target": f"https://{env}.example.com/mcp",
                     "era": {"kind": "session", "version": "2025-11-25"}, "suite": "smoke",
                     "started_at": ts(vstart), "duration_ms": 812.5, "summary": summary,
                     "environment": env, "deployment_id": dep_id},
            "events": [event(vstart, "created", "failed" if failing else "passed")],
            "checks": checks,
        })
        body = {
            "environment": env, "release": version,
            "image_tag": f"ghcr.io/acme/mcp:{version}", "image_digest": f"sha256:{i:064x}",
            "git_sha": sha, "approver": "erin", "scope": ["code"],
            "window": {"decision": "inside", "window": "Tue-Wed 10:00-16:00 UTC"},
            "started_at": ts(start), "verification_id": ver_id,
        }
        events = [event(start, "created", "in_progress")]
        if outcome == "rolled_back":
            events.append(event(end, "status", outcome, data={
                "finished_at": ts(end),
                "rollback": {"decision": "executed", "reason": "verification failed"}}))
        else:
            events.append(event(end, "status", outcome, data={
                "finished_at": ts(end), "rollback": {"decision": "not_needed"}}))
        records.append({
            "id": dep_id, "kind": "deployment", "created_at": ts(start), "operator": "ci",
            "environment": env, "version": version, "body": body, "events": events,
        })
        if failing and env == "production":
            d = end + timedelta(minutes=5)
            respond_by = d + timedelta(hours=1)
            records.append({
                "id": f"inc-{incidents:012x}", "kind": "incident", "created_at": ts(d),
                "operator": "oncall", "environment": env, "version": version, "ref_id": dep_id,
                "body": {"severity": "P1", "title": f"errors after {version}", "deployment_id": dep_id,
                         "detected_at": ts(d), "respond_by": ts(respond_by)},
                "events": [event(d, "created", "detected", operator="oncall"),
                           event(d + timedelta(minutes=7), "status", "acknowledged", operator="oncall"),
                           event(d + timedelta(minutes=25), "status", "mitigated", "rolled back",
                                 operator="oncall"),
                           event(d + timedelta(hours=3), "status", "resolved", operator="oncall")],
            })
            incidents += 1
    records.sort(key=lambda r: (r["created_at"], r["id"]))
    with open(out_path, "w") as f:
        json.dump({"schema": "runway.ledger/v1", "records": records}, f)
    kinds = {}
    for r in records:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    results = sum(len(r.get("checks", [])) for r in records)
    print(f"generated {kinds.get('deployment', 0)} deployments, {results} verification results, "
          f"{kinds.get('incident', 0)} incidents, {kinds.get('release', 0)} releases", file=sys.stderr)


def time_cmd(argv, runs):
    """Median and minimum wall time, and median CPU time (user + system) of the child, in ms."""
    import resource

    def cpu():
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)  # warm-up
    samples, cpus = [], []
    for _ in range(runs):
        c0, t0 = cpu(), time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append((time.perf_counter() - t0) * 1000)
        cpus.append((cpu() - c0) * 1000)
    return statistics.median(samples), min(samples), statistics.median(cpus)


def main():
    cmd = sys.argv[1]
    if cmd == "gen-repo":
        gen_repo(int(sys.argv[2]))
    elif cmd == "gen-export":
        gen_export(sys.argv[2], sys.argv[3])
    elif cmd == "time":
        # time LABEL RUNS -- argv...
        label, runs = sys.argv[2], int(sys.argv[3])
        med, lo, cpu = time_cmd(sys.argv[5:], runs)
        print(f"{label}\t{med:.1f}\t{lo:.1f}\t{cpu:.1f}")
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
