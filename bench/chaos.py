#!/usr/bin/env python3
"""For each shipped scenario: seconds from each fault to the expected state and from each repair
to recovery (median and max over the runs), and how many of N consecutive runs pass. All runs
share one ha-pair lab; each starts from a settled lab (one active device, In Sync).

    .venv/bin/python bench/chaos.py [--runs 20] [--scenario scenarios/split-brain.yml ...]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

from pathlib import Path

from common import ROOT, lab, lab_args, subnet

from lab.observe.events import render, timeline
from lab.runtime.control import node_status
from lab.scenario.env import LabEnv
from lab.scenario.runner import load, run


def settled(name: str) -> bool:
    """ha-pair: one active device, In Sync. Other labs: every bigip answers with all its
    4353 channels up."""
    env = LabEnv(name)
    try:
        st = [node_status(name, n, timeout=2.0) for n in env.bigips]
    except Exception:
        return False
    if not all(s.iquery.open_peers() == set(s.iquery.peers) for s in st):
        return False
    if "bigip1" not in env.bigips or "bigip2" not in env.bigips:
        return True
    active = [s for s in st if s.failover.traffic_groups.get("traffic-group-1") == "active"]
    return len(active) == 1 and all(s.sync.status == "In Sync" for s in st)


def wait_settled(name: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not settled(name):
        if time.monotonic() > deadline:
            raise SystemExit(f"lab {name} did not settle within {timeout:g} s")
        time.sleep(0.1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--scenario", action="append", help="a scenario file (default: all shipped)")
    lab_args(ap, "cbn", "10.253.5")
    args = ap.parse_args()
    files = args.scenario or sorted(str(p) for p in (ROOT / "scenarios").glob("*.yml"))
    by_topology: dict[Path, list[str]] = {}
    for path in files:
        by_topology.setdefault((Path(path).parent / load(path).topology).resolve(), []).append(path)
    results = {}
    for i, (topology, paths) in enumerate(sorted(by_topology.items())):
        results.update(bench_in(topology, paths, args.runs, f"{args.name}{i}", subnet(args.net, i)))
    print(json.dumps({"scenarios": results,
                      "note": "settled_after: from the fault/repair until every expectation after it held "
                              "(polled every 50 ms); configured: heartbeat timeout 3 s, 4353 idle timeout 6 s, "
                              "NTP poll 2 s, channel redial backoff up to 8 s"}, indent=1))


def bench_in(topology: Path, files: list[str], runs: int, lab_name: str, subnet: str) -> dict:
    results = {}
    with lab(lab_name, subnet, topology=topology) as name:
        for path in files:
            scenario = load(path)
            timings: dict[int, list[float]] = {}
            passed, failures = 0, []
            for _ in range(runs):
                wait_settled(name)
                started = time.time()
                report = run(scenario, LabEnv(name)).to_dict()
                if report["passed"]:
                    passed += 1
                    for t in report["timings"]:
                        timings.setdefault(t["step"], []).append(t["settled_s"])
                else:
                    failed = next(s for s in report["steps"] if not s["ok"])
                    failed["events"] = [render(e) for e in timeline(name, since=started)][-40:]
                    failures.append(failed)
            marks = {}
            for i, values in sorted(timings.items()):
                step = scenario.steps[i]
                marks[f"{step.kind} {step.value}"] = {"median_s": round(statistics.median(values), 3),
                                                      "max_s": round(max(values), 3)}
            results[scenario.name] = {"passed": f"{passed}/{runs}", "settled_after": marks,
                                      "failures": failures[:3]}
    return results


if __name__ == "__main__":
    main()
