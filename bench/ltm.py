#!/usr/bin/env python3
"""The LTM data paths side by side in one run, from the same client, with wrk (Debian package),
as JSON: straight to the member, through a fastL4 virtual (the kernel forwards), a tcp virtual
(the full proxy), an http virtual (HTTP-aware proxy), and HAProxy (Debian package) in TCP and in
HTTP mode as the anchor a user would pick instead.

Every path ends at the same member, web1 (10.1.20.21:80), and every load but one runs from the
same client, as the issue asks. The virtuals are on bigip1 (active); HAProxy runs in bigip2's
namespace (the standby: its daemon is idle) on bigip2's external self IP, so both proxies sit
between the same two VLANs. `direct` is that client straight to the member's own address: the
client is on another VLAN, so the kernel of bigip1's namespace routes it (through a forwarding
(IP) virtual, as a BIG-IP forwards only what a virtual takes; no pool, no DNAT): the same hops as
fastL4 without its member choice, the kernel's own forwarding the issue names as an L4 virtual's
limit. `same_vlan` is the floor below that, from another client: web2 on web1's VLAN (one bridge,
no node's namespace on the way, nothing routed); fastL4 against it says what bigip1's routing hop
costs on a machine whose two cores also run the load and the member.

For each: keep-alive requests/s with p50/p99 (wrk -c N), and new connections per second (wrk
with `Connection: close`, one request per connection); for a proxy (the BIG-IP daemon, HAProxy),
the CPU time it spent per keep-alive request (user and system, from /proc): the machine is shared,
so requests/s move with its load, CPU per request much less.

    .venv/bin/python bench/ltm.py [--seconds 5] [--connections 10] [--rounds 3] [--name bltm --mgmt-subnet 10.252.4.0/24]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import tempfile
import threading
from pathlib import Path

from common import ROOT, lab, wait, wrk_figures

from lab.runtime.control import ControlError, call
from lab.runtime.lab import Lab

TOPOLOGY = ROOT / "topologies" / "ltm-dataplane.yml"
MEMBER = "10.1.20.21:80"
VIP = "10.1.10.100"
HAPROXY_AT = "10.1.10.12"   # bigip2's external self IP
PATHS = {   # name -> (node wrk runs in, URL)
    "same_vlan": ("web2", f"http://{MEMBER}/"),
    "direct": ("client", f"http://{MEMBER}/"),
    "fastl4": ("client", f"http://{VIP}:94/"),
    "tcp": ("client", f"http://{VIP}:95/"),
    "http": ("client", f"http://{VIP}:96/"),
    "haproxy_tcp": ("client", f"http://{HAPROXY_AT}:8085/"),
    "haproxy_http": ("client", f"http://{HAPROXY_AT}:8086/"),
}
HAPROXY_CFG = f"""global
    maxconn 4000
defaults
    timeout connect 5s
    timeout client 30s
    timeout server 30s
listen tcp_mode
    mode tcp
    bind {HAPROXY_AT}:8085
    server web1 {MEMBER}
listen http_mode
    mode http
    option forwardfor
    http-reuse safe
    bind {HAPROXY_AT}:8086
    server web1 {MEMBER}
"""


def wrk(name: str, node: str, url: str, seconds: int, connections: int, close: bool = False) -> dict:
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if close:
        argv[1:1] = ["-H", "Connection: close"]
    out = Lab.open(name).run(node, argv, capture_output=True, text=True).stdout
    figures = wrk_figures(out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", out)
    figures["p50_ms"] = round(float(p50.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p50.group(2)], 3)
    return figures


def cpu_seconds(pid: int | None) -> float | None:
    """A process's CPU time so far (user + system, all its threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loop_lag_during(name: str, seconds: int, run):
    """run() while bigip1's daemon measures how late its trio loop wakes (control command loop-lag)."""
    lag: dict = {}

    def probe():
        try:
            lag.update(call(name, "bigip1", "loop-lag", timeout=seconds + 30, seconds=max(1, seconds - 1)))
        except ControlError as exc:   # a daemon without the probe: the figures go without it
            lag["error"] = str(exc)

    t = threading.Thread(target=probe)
    t.start()
    try:
        return run(), lag
    finally:
        t.join()


def measure(name: str, node: str, url: str, pid: int | None, args) -> dict:
    before = cpu_seconds(pid)
    keep, lag = loop_lag_during(name, args.seconds, lambda: wrk(name, node, url, args.seconds, args.connections))
    after = cpu_seconds(pid)
    new = wrk(name, node, url, args.seconds, args.connections, close=True)
    out = {"keepalive_rps": keep["requests_per_s"], "p50_ms": keep["p50_ms"], "p99_ms": keep["p99_ms"],
           "new_conn_per_s": new["requests_per_s"], "errors": keep["errors"] or new["errors"], "bigip1_loop_lag": lag}
    if before is not None and after is not None:
        out["proxy_cpu_us_per_request"] = round((after - before) * 1e6 / (keep["requests_per_s"] * args.seconds), 1)
    return out


def median_of(runs: list[dict]) -> dict:
    """Each figure's median over the rounds (the loop lag and errors of the median keep-alive run)."""
    mid = sorted(runs, key=lambda r: r["keepalive_rps"])[len(runs) // 2]
    out = dict(mid)
    for key in ("keepalive_rps", "p50_ms", "p99_ms", "new_conn_per_s", "proxy_cpu_us_per_request"):
        if key in mid:
            out[key] = statistics.median(r[key] for r in runs)
    if len(runs) > 1:
        out["keepalive_rps_each_round"] = [r["keepalive_rps"] for r in runs]
    return out


def ready(name: str, node: str, url: str) -> bool:
    return Lab.open(name).run(node, ["curl", "-s", "-m", "2", "-o", "/dev/null", "-w", "%{http_code}", url],
                              capture_output=True, text=True).stdout == "200"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=1, help="run every path this many times; medians")
    ap.add_argument("--name", default="bltm", help="the lab's name")
    ap.add_argument("--mgmt-subnet", default="10.252.4.0/24", help="the lab's management subnet")
    args = ap.parse_args()
    if not shutil.which("haproxy"):
        raise SystemExit("haproxy is not installed (scripts/bootstrap.sh installs it)")
    with lab(args.name, args.mgmt_subnet, TOPOLOGY) as name, tempfile.TemporaryDirectory() as tmp:
        call(name, "bigip1", "tmsh", line=f"create ltm pool bench_pool members add {{ {MEMBER} }} monitor http")
        for port, profiles in ((94, "fastL4"), (95, "tcp"), (96, "tcp http")):
            call(name, "bigip1", "tmsh", line=f"create ltm virtual vs_bench_{port} destination {VIP}:{port} "
                                             f"pool bench_pool profiles replace-all-with {{ {profiles} }}")
        call(name, "bigip1", "tmsh", line="create ltm virtual vs_bench_fwd destination 10.1.20.0:0 mask 255.255.255.0 "
                                          "ip-forward ip-protocol any profiles replace-all-with { fastL4 }")
        cfg = Path(tmp) / "haproxy.cfg"
        cfg.write_text(HAPROXY_CFG)
        lab_ = Lab.open(name)
        lab_.run("client", ["ip", "route", "replace", "10.1.20.0/24", "via", "10.1.10.10"], check=True)   # direct
        pid = lab_.backend.start(lab_.node("bigip2"), ["haproxy", "-db", "-f", str(cfg)], str(Path(tmp) / "haproxy.log"))
        proxy_pid = {"tcp": lab_.pid("bigip1", "daemon.pid"), "http": lab_.pid("bigip1", "daemon.pid"),
                     "haproxy_tcp": pid, "haproxy_http": pid}
        try:
            for node, url in PATHS.values():
                wait(lambda: ready(name, node, url), timeout=30)
            rounds: dict[str, list[dict]] = {path: [] for path in PATHS}
            for _ in range(args.rounds):   # every path once per round: the machine's load moves meanwhile
                for path, (node, url) in PATHS.items():
                    rounds[path].append(measure(name, node, url, proxy_pid.get(path), args))
            results = {path: median_of(runs) for path, runs in rounds.items()}
        finally:
            os.kill(pid, signal.SIGTERM)

    def ratio(a, b, key="keepalive_rps"):
        return round(results[a][key] / results[b][key], 3)

    print(json.dumps({
        "loadavg": open("/proc/loadavg").read().split()[:3],
        "paths": results,
        "fastl4_over_direct": ratio("fastl4", "direct"),                 # aim >= 0.9: the same client, the same hops
        "fastl4_over_same_vlan": ratio("fastl4", "same_vlan"),           # against no router at all
        "direct_over_same_vlan": ratio("direct", "same_vlan"),           # what bigip1's routing hop costs
        "tcp_over_haproxy_tcp": ratio("tcp", "haproxy_tcp"),             # aim >= 0.7
        "tcp_p99_over_haproxy_tcp_p99": ratio("tcp", "haproxy_tcp", "p99_ms"),   # aim <= 3
        "http_over_haproxy_http": ratio("http", "haproxy_http"),         # aim >= 0.5
        "http_cpu_over_haproxy_http_cpu": ratio("http", "haproxy_http", "proxy_cpu_us_per_request"),
        "load": f"wrk -t2 -c{args.connections} -d{args.seconds}s, HTTP/1.1 keep-alive; new connections with "
                f"Connection: close; medians of {args.rounds} round(s)"}, indent=1))


if __name__ == "__main__":
    main()
