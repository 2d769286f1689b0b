#!/usr/bin/env python3
"""The fault soak on ha-pair and on cluster-4: fault cycles survived out of those run in M
minutes (default 30) with a seed, invariant violations (aim: 0) and the median seconds to settle
after a heal. Prints JSON.

    .venv/bin/python bench/soak.py [--minutes 30] [--seed 1] [--hold 4]
"""
from __future__ import annotations

import argparse
import json

from common import ROOT, lab, lab_args, subnet

from lab.scenario.soak import Soak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hold", type=float, default=4.0)
    lab_args(ap, "sbn", "10.250.67")
    args = ap.parse_args()
    out = {}
    for i, topo in enumerate(("ha-pair", "cluster-4")):
        with lab(f"{args.name}{i}", subnet(args.net, i), topology=ROOT / "topologies" / f"{topo}.yml") as name:
            v = Soak(name, args.seed, args.hold, say=lambda _t: None).run(args.minutes)
        out[topo] = {"cycles": v["cycles"], "survived": v["cycles"] - len(v["failed_cycles"]),
                     "violations": v["violations"], "median_settle_s": v["median_settle_s"], "seed": args.seed,
                     "failed": v["failed_cycles"][:5]}
    print(json.dumps({"minutes": args.minutes, "soak": out}, indent=1))


if __name__ == "__main__":
    main()
