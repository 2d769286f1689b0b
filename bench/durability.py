#!/usr/bin/env python3
"""Acknowledged writes under kill -9, checked against the recorded history (Jepsen's way): on an
ha-pair, writers commit through iControl REST and tmsh to bigip1 as fast as they can while its
daemon (and now and then its peer's) is killed at random moments and started again. Then, once
the pair is In Sync, every acknowledged write must be on both devices, whole, and no refused one.
Prints JSON.

    .venv/bin/python bench/durability.py [--cycles 50]
"""
from __future__ import annotations

import argparse
import json
import random
import time

from common import lab, lab_args, subnet

from lab.observe.history import History, Writers, in_sync, kill_cycles, read
from lab.runtime.lab import Lab

DEVICES = ("bigip1", "bigip2")


def run(name: str, subnet: str, cycles: int, seed: int) -> dict:
    with lab(name, subnet) as lab_name:
        plan = Lab.open(lab_name).plan
        history = History()
        started = time.monotonic()
        with Writers(lab_name, plan, "bigip1", history):
            victims = kill_cycles(lab_name, cycles, random.Random(seed))
        deadline = time.monotonic() + 60
        while not all(in_sync(plan, d) for d in DEVICES) and time.monotonic() < deadline:
            time.sleep(0.2)
        report = history.check({d: read(plan, d) for d in DEVICES})
        return {"cycles": cycles, "in_sync": {d: in_sync(plan, d) for d in DEVICES}, "kills": {d: victims.count(d) for d in DEVICES},
                "seconds": round(time.monotonic() - started, 1), "writes": history.counts(),
                "by_via": {v: sum(1 for w in history.writes if w.via == v and w.outcome == "ok")
                           for v in ("rest", "tmsh")},
                "acknowledged_lost": sum(len(r["lost"]) for r in report.values()),
                "phantom": sum(len(r["phantom"]) for r in report.values()),
                "half_applied": sum(len(r["half_applied"]) for r in report.values()), "report": report}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    lab_args(ap, "bdur", "10.250.88")
    args = ap.parse_args()
    print(json.dumps({"kill9_durability": run(args.name, subnet(args.net), args.cycles, args.seed)}, indent=1))


if __name__ == "__main__":
    main()
