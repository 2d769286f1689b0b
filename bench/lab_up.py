#!/usr/bin/env python3
"""Figures for bringing labs up and down, printed as JSON.

Seconds from `biglab up FILE` to ready-and-trusted (the command's own exit, HA settled and GTMs
hearing their LTMs included), seconds for `biglab down`, and each node daemon's memory (USS, PSS
and RSS from smaps_rollup, a second after up), for each topology and way of starting daemons in
one run: `forked` from the lab's fork server (the default) and `exec`, an interpreter per daemon
(`--no-fork-server`). `--backend docker` adds the Docker backend. For the generated GTM estate
(gtm-10dc) each run also checks every device is trusted, the LTM pairs are In Sync, and a client
of each region gets its own data center from dig. Labs are named `--name` on management subnet
`--mgmt-subnet`, so they run beside a user's labs.

`--settle S` samples the daemons' memory again S seconds after up (`per_daemon_settled_mb`), for what
a daemon grows by once it runs: health checks, iQuery, heartbeats, polling.

    .venv/bin/python bench/lab_up.py [--runs 3] [--topology FILE]... [--backend docker] [--settle 180]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from common import ROOT, biglab

from lab.model import state
from lab.model.topology import load
from lab.runtime import forkserver
from lab.runtime.lab import Lab
from lab.runtime.processes import memory

TOPOLOGIES = [ROOT / "topologies" / t for t in ("ha-pair.yml", "gtm-3dc.yml", "gtm-10dc.yml")]
MODES = {"forked": [], "exec": ["--no-fork-server"]}


def daemon_memory(name: str) -> dict:
    """node -> {uss, pss, rss} in MB for each daemon of the lab."""
    found = {}
    for pidfile in state.lab_dir(name).glob("*/daemon.pid"):
        mem = memory(int(pidfile.read_text()))
        if mem:
            found[pidfile.parent.name] = mem
    return found


def estate_check(name: str) -> dict:
    """Trust complete, sync status of every device, and dig from one client of each region."""
    lab = Lab.open(name)
    bigips = lab.bigips
    statuses = {n: lab.status(n, timeout=5.0) for n in bigips}
    trusted = all(set(bigips) <= st.iquery.trust.member_names() for st in statuses.values())
    sync = {}
    for n, st in statuses.items():
        sync.setdefault(st.sync.status, []).append(n)
    ltms_in_sync = all(statuses[n].sync.status == "In Sync" for n in bigips if n.startswith("ltm-"))
    regions = sorted({n.name.removeprefix("client-")[:-1] for n in lab.plan.nodes if n.name.startswith("client-")})
    wrong = {}
    vips = {b.vlan.removesuffix("-ext"): b.subnet.rsplit(".", 1)[0] + ".100"
            for b in lab.plan.bridges if b.vlan.endswith("-ext")}
    for dc in regions:
        out = lab.run(f"client-{dc}1", ["dig", "+short", "+time=2", "@10.30.0.53", "www.example.com"],
                      capture_output=True, text=True).stdout.split()
        if out != [vips[dc]]:
            wrong[dc] = out
    return {"trusted": trusted, "ltm_pairs_in_sync": ltms_in_sync,
            "sync_status": {k: len(v) for k, v in sync.items()},
            "regions_answered_nearest": len(regions) - len(wrong), "regions": len(regions),
            **({"wrong_answers": wrong} if wrong else {})}


def biglab_quiet(*args) -> None:
    """biglab, its failure ignored (removing what a failed `up` left)."""
    try:
        biglab(*args)
    except SystemExit:
        pass


def summary(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 2), "max": round(max(values), 2)}


def per_daemon(mem: dict) -> dict:
    """{uss, pss, rss} -> summary over every daemon and run, from node -> [sample per run]."""
    return {k: summary([m[k] for ms in mem.values() for m in ms]) for k in ("uss", "pss", "rss")}


def growth(mem: dict, settled: dict) -> dict:
    """Median USS growth from up to settled, by kind of daemon (the node name's prefix: gtm, ltm)."""
    by = {}
    for node, ms in settled.items():
        for before, after in zip(mem.get(node, []), ms):
            by.setdefault(node.split("-")[0].rstrip("0123456789"), []).append(after["uss"] - before["uss"])
    return {kind: round(statistics.median(v), 2) for kind, v in sorted(by.items())}


def measure(topology: Path, backend: str, mode: str, runs: int, name: str, subnet: str, settle: float = 0) -> dict:
    ups, downs, mem, settled, checks, server = [], [], {}, {}, [], []
    for _ in range(runs):
        ups.append(biglab("up", str(topology), "--name", name, "--mgmt-subnet", subnet, "--backend", backend,
                          "--timeout", "90", *MODES[mode]))
        up_at = time.monotonic()
        time.sleep(1.0)  # let the daemons settle before reading their memory
        for node, m in daemon_memory(name).items():
            mem.setdefault(node, []).append(m)
        fs = forkserver.pid()
        if fs:
            server.append(memory(fs))
        if topology.name.startswith("gtm-10dc"):
            checks.append(estate_check(name))
        if settle:
            time.sleep(max(0.0, settle - (time.monotonic() - up_at)))
            for node, m in daemon_memory(name).items():
                settled.setdefault(node, []).append(m)
        downs.append(biglab("down", name))
    result = {"topology": topology.name, "backend": backend, "daemons": mode, "runs": runs,
              "nodes": len(load(topology).nodes),
              "bigip_daemons": len(mem),
              "up_and_trusted_s": summary(ups), "down_s": summary(downs),
              "per_daemon_mb": per_daemon(mem),
              **({"per_daemon_settled_mb": per_daemon(settled), "settle_s": settle,
                  "uss_growth_mb_by_kind": growth(mem, settled)} if settled else {}),
              "all_daemons_pss_mb": round(sum(statistics.median([m["pss"] for m in ms]) for ms in mem.values()), 1)}
    if server:
        result["fork_server_mb"] = server[-1]
    if checks:
        result["estate_checks"] = checks
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--topology", action="append", help="a topology file (repeatable; default "
                    "ha-pair, gtm-3dc and gtm-10dc)")
    ap.add_argument("--backend", action="append", choices=["netns", "docker"],
                    help="backends to measure (repeatable); netns is always measured")
    ap.add_argument("--mode", action="append", choices=list(MODES),
                    help="how daemons start on netns (repeatable; default both)")
    ap.add_argument("--name", default="bench", help="lab name (at most 6 characters)")
    ap.add_argument("--mgmt-subnet", default="10.252.1.0/24")
    ap.add_argument("--settle", type=float, default=0,
                    help="also sample the daemons' memory this many seconds after up")
    args = ap.parse_args()
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    backends = ["netns"] + [b for b in dict.fromkeys(args.backend or []) if b != "netns"]
    results = []
    for topo in [Path(t) for t in args.topology] if args.topology else TOPOLOGIES:
        for backend in backends:
            for mode in (args.mode or list(MODES)) if backend == "netns" else ["exec"]:
                try:
                    results.append(measure(topo, backend, mode, args.runs, args.name, args.mgmt_subnet,
                                           args.settle))
                except SystemExit as exc:   # one topology failing (a timeout under load) keeps the rest
                    biglab_quiet("down", args.name)
                    results.append({"topology": topo.name, "backend": backend, "daemons": mode,
                                    "failed": str(exc).splitlines()[-1]})
    report = {"results": results, "loadavg": {"start": load_before, "end": Path("/proc/loadavg").read_text().split()[:3]},
              "note": "up includes the CLI's own start (python, imports) and waiting until trust, HA and "
                      "GTM health have settled; memory is per BIG-IP daemon, a second after up"}
    ratios = {}
    for r in results:
        if r["daemons"] == "forked" and "failed" not in r:
            base = next((b for b in results if b["topology"] == r["topology"] and b["daemons"] == "exec"
                         and b["backend"] == "netns" and "failed" not in b), None)
            if base:
                ratios[f"{r['topology']} forked/exec"] = {
                    "up": round(r["up_and_trusted_s"]["median"] / base["up_and_trusted_s"]["median"], 2),
                    "pss": round(r["per_daemon_mb"]["pss"]["median"] / base["per_daemon_mb"]["pss"]["median"], 2)}
    if ratios:
        report["ratios"] = ratios
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
