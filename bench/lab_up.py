#!/usr/bin/env python3
"""Figures for bringing labs up and down, printed as JSON.

Seconds from `biglab up FILE` to ready-and-trusted (the command's own exit), seconds for
`biglab down`, and the resident memory of each node daemon, for each topology and backend in one
run. `--backend docker` measures the Docker backend beside the namespace backend (the baseline)
and gives the ratio; `--topology` may be given several times (ha-pair by default). Labs are named
`--name` on management subnet `--mgmt-subnet`, so they run beside a user's `ha` lab.

    .venv/bin/python bench/lab_up.py [--runs 5] [--topology FILE]... [--backend docker]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from common import HA_PAIR, biglab

from lab.model import state


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(topology: str, backend: str, runs: int, name: str, subnet: str) -> dict:
    ups, downs, rss = [], [], {}
    for _ in range(runs):
        ups.append(biglab("up", topology, "--name", name, "--mgmt-subnet", subnet, "--backend", backend))
        time.sleep(1.0)  # let the daemons settle before reading their memory
        for pidfile in state.lab_dir(name).glob("*/daemon.pid"):
            rss.setdefault(pidfile.parent.name, []).append(rss_mb(int(pidfile.read_text())))
        downs.append(biglab("down", name))
    return {"topology": Path(topology).name, "backend": backend, "runs": runs,
            "up_and_trusted_s": {"median": round(statistics.median(ups), 3), "max": round(max(ups), 3)},
            "down_s": {"median": round(statistics.median(downs), 3), "max": round(max(downs), 3)},
            "daemon_rss_mb": {node: round(max(v), 1) for node, v in sorted(rss.items())}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--topology", action="append", help="a topology file (repeatable; default ha-pair)")
    ap.add_argument("--backend", action="append", choices=["netns", "docker"],
                    help="backends to measure (repeatable); netns is always measured as the baseline")
    ap.add_argument("--name", default="bench", help="lab name (at most 6 characters)")
    ap.add_argument("--mgmt-subnet", default="10.252.1.0/24")
    args = ap.parse_args()
    backends = ["netns"] + [b for b in dict.fromkeys(args.backend or []) if b != "netns"]
    results = [measure(topo, backend, args.runs, args.name, args.mgmt_subnet)
               for topo in (args.topology or [str(HA_PAIR)]) for backend in backends]
    report = {"results": results,
              "note": "up includes the CLI's own start (python, imports) and waiting for every 4353 channel"}
    ratios = {}
    for r in results:
        if r["backend"] != "netns":
            base = next(b for b in results if b["topology"] == r["topology"] and b["backend"] == "netns")
            ratios[f"{r['topology']} {r['backend']}/netns up"] = round(
                r["up_and_trusted_s"]["median"] / base["up_and_trusted_s"]["median"], 2)
    if ratios:
        report["ratios"] = ratios
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
