#!/usr/bin/env python3
"""The fault soak on ha-pair, cluster-4 and gtm-3dc (GTM answers checked, whole data centers
lost): fault cycles survived out of those run in M minutes (default 30) with a seed, invariant
violations (aim: 0) and the median seconds to settle after a heal. Prints JSON.

    .venv/bin/python bench/soak.py [--minutes 30] [--seed 1] [--hold 4] [--topology gtm-3dc ...]
"""
from __future__ import annotations

import argparse
import json

from pathlib import Path

from common import ROOT, lab, lab_args, subnet

from lab.scenario.soak import Soak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hold", type=float, default=4.0)
    ap.add_argument("--topology", action="append", help="a topology of topologies/ (default: all three)")
    lab_args(ap, "sbn", "10.250.67")
    args = ap.parse_args()
    out = {}
    for i, topo in enumerate(args.topology or ("ha-pair", "cluster-4", "gtm-3dc")):
        with lab(f"{args.name}{i}", subnet(args.net, i), topology=ROOT / "topologies" / f"{topo}.yml") as name:
            v = Soak(name, args.seed, args.hold, say=lambda _t: None).run(args.minutes)
        out[topo] = {"cycles": v["cycles"], "survived": v["cycles"] - len(v["failed_cycles"]),
                     "violations": v["violations"], "median_settle_s": v["median_settle_s"], "seed": args.seed,
                     "failed": v["failed_cycles"][:5]}
    print(json.dumps({"minutes": args.minutes, "soak": out, "loadavg": Path("/proc/loadavg").read_text().split()[:3]},
                     indent=1))


if __name__ == "__main__":
    main()
