#!/usr/bin/env python3
"""Writes a `git fast-import` stream: N commits on main, a release tag every K commits,
and a few unreleased commits after the last tag. Deterministic (no randomness)."""
import sys

commits = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
tags = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
tail = 50
span = max(1, commits - tail)
kinds = ["feat", "fix", "chore", "docs", "fix", "refactor", "perf", "fix(api)", "feat(tools)", "test"]
out = sys.stdout.buffer
t0 = 1_600_000_000
made_tags = 0
for i in range(1, commits + 1):
    kind = kinds[i % len(kinds)]
    msg = f"{kind}: change number {i}\n"
    if i % 97 == 0:
        msg += f"\nA longer body for change {i}.\n\nRefs: #{i}\n"
    m = msg.encode()
    when = t0 + i * 60
    blob = f"{i}\n".encode()
    out.write(b"blob\nmark :%d\ndata %d\n" % (2 * i, len(blob)) + blob + b"\n")
    out.write(b"commit refs/heads/main\nmark :%d\n" % (2 * i + 1))
    out.write(b"author Bench <bench@runway.invalid> %d +0000\n" % when)
    out.write(b"committer Bench <bench@runway.invalid> %d +0000\n" % when)
    out.write(b"data %d\n" % len(m) + m)
    if i > 1:
        out.write(b"from :%d\n" % (2 * i - 1))
    out.write(b"M 100644 :%d file-%d.txt\n\n" % (2 * i, i % 1000))
    if made_tags < tags and i >= round((made_tags + 1) * span / tags):
        made_tags += 1
        name = f"v1.{made_tags}.0".encode()
        tmsg = b"Release " + name + b"\n"
        out.write(b"tag " + name + b"\nfrom :%d\n" % (2 * i + 1))
        out.write(b"tagger Bench <bench@runway.invalid> %d +0000\n" % when)
        out.write(b"data %d\n" % len(tmsg) + tmsg + b"\n")
out.write(b"done\n")
