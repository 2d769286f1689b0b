#!/usr/bin/env python3
"""Figures for the lab foundation, printed as JSON.

Seconds from `biglab up topologies/ha-pair.yml` to ready-and-trusted (the command's own exit),
seconds for `biglab down`, and the resident memory of each node daemon. Runs a copy of the file
named `bench` on management subnet 10.252.1.0/24, so it runs beside a user's `ha` lab.

    .venv/bin/python bench/lab_up.py [--runs 5] [--topology FILE]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from common import HA_PAIR, biglab

from lab import state


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--topology", default=str(HA_PAIR))
    args = ap.parse_args()
    ups, downs, rss = [], [], {}
    for _ in range(args.runs):
        ups.append(biglab("up", args.topology, "--name", "bench", "--mgmt-subnet", "10.252.1.0/24"))
        time.sleep(1.0)  # let the daemons settle before reading their memory
        for pidfile in state.lab_dir("bench").glob("*/daemon.pid"):
            rss.setdefault(pidfile.parent.name, []).append(rss_mb(int(pidfile.read_text())))
        downs.append(biglab("down", "bench"))
    print(json.dumps({
        "topology": Path(args.topology).name, "runs": args.runs,
        "up_and_trusted_s": {"median": round(statistics.median(ups), 3), "max": round(max(ups), 3)},
        "down_s": {"median": round(statistics.median(downs), 3), "max": round(max(downs), 3)},
        "daemon_rss_mb": {node: round(max(v), 1) for node, v in sorted(rss.items())},
        "note": "up includes the CLI's own start (python, imports) and waiting for every 4353 channel",
    }, indent=1))


if __name__ == "__main__":
    main()
