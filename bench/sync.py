#!/usr/bin/env python3
"""Config sync figures, as JSON: milliseconds from a commit on bigip1 (a tmsh line through its
control socket) to the object being listed by tmsh on bigip2 (auto-sync, incremental), p50 and
p99; and a full sync of 10,000 objects (`run cm config-sync to-group`) until bigip2 is In Sync
at the same commit.

    .venv/bin/python bench/sync.py [--commits 200] [--objects 10000]
"""
from __future__ import annotations

import argparse
import json
import time

from common import lab, percentile, wait

from lab.runtime.control import call, status_part


def has_pool(name: str, pool: str) -> bool:
    try:
        call(name, "bigip2", "tmsh", line=f"list ltm pool {pool}")
        return True
    except Exception:
        return False


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=200)
    ap.add_argument("--objects", type=int, default=10000)
    args = ap.parse_args()
    with lab("bsync", "10.252.3.0/24") as name:
        lat = []
        for i in range(args.commits):
            started = time.monotonic()
            call(name, "bigip1", "tmsh", line=f"create ltm pool inc{i}")
            wait(lambda: has_pool(name, f"inc{i}"), timeout=10, interval=0)
            lat.append((time.monotonic() - started) * 1000)
        call(name, "bigip1", "tmsh", line="modify cm device-group dg-ha auto-sync disabled")
        lines = [f"create ltm pool full{i} members add {{ 10.1.20.21:{1000 + i % 60000} }}"
                 for i in range(args.objects)]
        started = time.monotonic()
        call(name, "bigip1", "transaction", timeout=300, lines=lines)
        commit_s = time.monotonic() - started
        cid = status_part(name, "bigip1", "sync").cid
        started = time.monotonic()
        call(name, "bigip1", "tmsh", line="run cm config-sync to-group dg-ha")
        wait(lambda: (s := status_part(name, "bigip2", "sync")).status == "In Sync" and s.cid == cid,
             timeout=120, interval=0.005)
        full_s = time.monotonic() - started
        on_peer = call(name, "bigip2", "tmsh", line="list ltm pool", timeout=60).count("ltm pool ")
    print(json.dumps({
        "incremental_commit_to_peer_ms": {"p50": round(percentile(lat, 50), 2), "p99": round(percentile(lat, 99), 2),
                                          "commits": args.commits},
        "full_sync": {"objects": args.objects + args.commits + args.objects, "seconds": round(full_s, 3),
                      "pools_listed_on_bigip2": on_peer,
                      "note": f"{args.objects} pools + their {args.objects} nodes + {args.commits} earlier pools"},
        "transaction_commit_s": round(commit_s, 3),
    }, indent=1))


if __name__ == "__main__":
    main()
