#!/usr/bin/env python3
"""Connection mirroring under repeated failover, as JSON.

20 times (--failovers): a long-lived TCP stream (lab.runtime.stream) through a mirrored fastL4
virtual and one through an unmirrored one, the active device killed (kill -9), the stream left
running through the new active, then closed; the killed device comes back as standby and is the
next round's mirroring peer. Per round: the mirrored stream's bytes lost (sent - received by the
server) and longest stall (the server's longest silence), and whether the unmirrored one reset.

Then the cost of mirroring: the same fastL4 virtual to the same member with mirroring on and off,
wrk keep-alive requests/s and new connections/s (each new connection is conntrack events, a
frame to the peer and an entry made in its kernel).

    .venv/bin/python bench/mirror.py [--failovers 20] [--seconds 5]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, lab, percentile, wait, wrk_figures

from lab import faults
from lab.runtime.control import ControlError, call, node_status
from lab.runtime.lab import Lab

TOPOLOGY = ROOT / "topologies" / "ltm-dataplane.yml"
VIP = "10.1.10.100"
STREAM = [sys.executable, "-m", "lab.runtime.stream"]
RATE = 200_000   # bytes/s each stream


def until(check, timeout: float, what: str):
    try:
        return wait(check, timeout=timeout, interval=0.02)
    except SystemExit:
        raise SystemExit(f"timed out after {timeout} s waiting for {what}") from None


def tg1(name: str, node: str) -> str | None:
    try:
        return node_status(name, node).failover.traffic_groups.get("traffic-group-1")
    except ControlError:
        return None


def read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def tmsh(name: str, node: str, line: str) -> str:
    return call(name, node, "tmsh", line=line)


def one_failover(name: str, tmp: Path, n: int, active: str, standby: str) -> dict:
    lab_ = Lab.open(name)
    mirrored, plain = tmp / f"m{n}.json", tmp / f"p{n}.json"
    for port, path in ((91, mirrored), (92, plain)):
        lab_.run("client", [*STREAM, "client", f"{VIP}:{port}", str(path), "--rate", str(RATE), "--background"],
                 capture_output=True, check=True)
    until(lambda: read(mirrored).get("sent", 0) > RATE // 2 and read(plain).get("state") == "open", 10,
          f"both streams open ({read(mirrored)}, {read(plain)})")
    local = read(mirrored)["local"].split(":")[1]
    until(lambda: f"sport={local} " in lab_.run(standby, ["conntrack", "-L", "-p", "tcp", "--orig-port-dst", "91"],
                                                capture_output=True, text=True).stdout, 10, f"the flow on {standby}")
    faults.run(lab_, "kill", [active])
    killed = time.monotonic()
    until(lambda: tg1(name, standby) == "active", 15, f"{standby} active")
    took_over = time.monotonic() - killed
    at = read(mirrored)["sent"]
    deadline = time.monotonic() + 10
    while read(mirrored).get("state") == "open" and read(mirrored)["sent"] < at + 2 * RATE and time.monotonic() < deadline:
        time.sleep(0.05)
    lab_.run("client", [*STREAM, "stop", str(mirrored)], capture_output=True)
    m = until(lambda: (s := read(mirrored)).get("state") != "open" and s, 15, "the mirrored stream closed")
    got = next((s for w in ("web1", "web2") for peer, s in read(tmp / f"{w}.json").items() if peer == m["local"]), {})
    p = read(plain)
    if p.get("state") == "open":
        lab_.run("client", [*STREAM, "stop", str(plain)], capture_output=True)
    faults.run(lab_, "start", [active])
    until(lambda: tg1(name, active) == "standby", 20, f"{active} back as standby")
    until(lambda: "(connected)" in tmsh(name, standby, "show ltm virtual vs_mirror"), 20, "the mirroring channel")
    return {"survived": m["state"] == "closed" and got.get("received") == m["sent"] and got.get("corrupt") == 0,
            "lost": m["sent"] - got.get("received", 0), "stall_s": got.get("max_gap_s"),
            "takeover_s": round(took_over, 2), "unmirrored_reset": p.get("state", "").startswith("reset")}


def wrk(name: str, port: int, seconds: int, close: bool) -> float:
    argv = ["wrk", "-t2", "-c10", f"-d{seconds}s", "--latency", f"http://{VIP}:{port}/"]
    if close:
        argv[1:1] = ["-H", "Connection: close"]
    return wrk_figures(Lab.open(name).run("client", argv, capture_output=True, text=True).stdout)["requests_per_s"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--failovers", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=5)
    args = ap.parse_args()
    with lab("bmir", "10.250.155.0/24", TOPOLOGY) as name, tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for line in ("create ltm pool stream_pool members add { 10.1.20.21:9000 10.1.20.22:9000 }",
                     f"create ltm virtual vs_mirror destination {VIP}:91 pool stream_pool profiles replace-all-with "
                     "{ fastL4 } mirror enabled",
                     f"create ltm virtual vs_plain destination {VIP}:92 pool stream_pool profiles replace-all-with {{ fastL4 }}",
                     "create ltm pool one_pool members add { 10.1.20.21:80 }",
                     f"create ltm virtual vs_on destination {VIP}:93 pool one_pool profiles replace-all-with {{ fastL4 }} "
                     "mirror enabled",
                     f"create ltm virtual vs_off destination {VIP}:94 pool one_pool profiles replace-all-with {{ fastL4 }}"):
            tmsh(name, "bigip1", line)
        lab_ = Lab.open(name)
        servers = [(w, int(lab_.run(w, [*STREAM, "server", "9000", str(tmp / f"{w}.json"), "--background"],
                                    capture_output=True, text=True, check=True).stdout.split()[0]))
                   for w in ("web1", "web2")]
        try:
            until(lambda: "(connected)" in tmsh(name, "bigip1", "show ltm virtual vs_mirror"), 20, "the mirroring channel")
            rounds, active, standby = [], "bigip1", "bigip2"
            for n in range(args.failovers):
                rounds.append(one_failover(name, tmp, n, active, standby))
                active, standby = standby, active
            cost = {}   # last: a flood of short mirrored connections queues up at the peer; off first, so
            # that the conntrack events of on's flood, still being mirrored, do not run during off's measurement
            for label, port in (("mirror_off", 94), ("mirror_on", 93)):
                cost[label] = {"keepalive_rps": wrk(name, port, args.seconds, False),
                               "new_conn_per_s": wrk(name, port, args.seconds, True)}
        finally:
            for node, pid in servers:
                lab_.run(node, ["kill", str(pid)], capture_output=True)
    stalls = [r["stall_s"] for r in rounds if r["stall_s"] is not None]
    print(json.dumps({
        "failovers": len(rounds),
        "mirrored_survived": sum(r["survived"] for r in rounds),            # aim: all
        "bytes_lost_total": sum(r["lost"] for r in rounds),                 # aim: 0
        "stall_s": {"p50": percentile(stalls, 50), "max": max(stalls)} if stalls else None,
        "takeover_s_p50": percentile([r["takeover_s"] for r in rounds], 50),
        "unmirrored_reset": sum(r["unmirrored_reset"] for r in rounds),    # the lesson: all
        "cost": cost,
        "new_conn_on_over_off": round(cost["mirror_on"]["new_conn_per_s"] / cost["mirror_off"]["new_conn_per_s"], 3),
        "keepalive_on_over_off": round(cost["mirror_on"]["keepalive_rps"] / cost["mirror_off"]["keepalive_rps"], 3),
        "load": f"streams at {RATE} B/s; kill -9 of the active daemon; wrk -t2 -c10 -d{args.seconds}s",
        "rounds": rounds}, indent=1))


if __name__ == "__main__":
    main()
