"""Heartbeats under load on ha-pair: the largest heartbeat gap on the wire, false failovers and
4353 channel drops, idle, under maximum REST load on bigip1 (wrk from the host), under a wrk
flood through the virtual 10.1.10.100 (from the client) and, with GTM provisioned on the pair, under
a dnsperf flood at bigip1's GTM listener (from the client); then the failover time after kill -9
of the active, idle and under REST load on both nodes. Each load phase lasts 60 s.

    python bench/isolation.py [--seconds 60] [--connections 64]     # prints JSON
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import yaml
from common import HA_PAIR, dnsperf_figures, lab, lab_route, wait, wrk_figures
from hostile import PATHS, channel_drops, largest_gaps, lost_paths, rss_kb

from lab.model import state
from lab.observe.capture import capture
from lab.observe.pcap import classify, read
from lab.runtime.control import node_status
from lab.runtime.lab import Lab

NODES = ("bigip1", "bigip2")
BASIC = "Authorization: Basic " + base64.b64encode(b"admin:admin").decode()
VIP = "10.1.10.100"   # traffic-group-1's virtual address: the new active announces it (GARP)
LISTENER = "10.30.0.53"   # bigip1's GTM listener, routed from the client through bigip1's external self IP
GTM_CONFIG = [
    f"create gtm listener dns1 address {LISTENER}",
    'create gtm zone example.com records add { "@ 3600 IN SOA ns1 hostmaster 1 3600 600 86400 60" '
    f'"@ IN NS ns1" "ns1 IN A {LISTENER}" "www IN A 10.1.10.100" }}',
]
QUERIES = "www.example.com A\nexample.com SOA\nexample.com NS\nnosuch.example.com A\n"


def gtm_pair(tmp: Path) -> Path:
    """ha-pair with GTM provisioned on both devices, a listener and a zone on bigip1."""
    data = yaml.safe_load(HA_PAIR.read_text())
    for node in NODES:
        data["nodes"][node]["modules"] = ["ltm", "gtm"]
    data["nodes"]["bigip1"]["config"] = GTM_CONFIG
    data["nodes"]["client"]["routes"] = [{"to": f"{LISTENER}/32", "via": "10.1.10.11"}]
    path = tmp / "gtm-pair.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def dnsperf(seconds: float, queries: Path, netns: str) -> subprocess.Popen:
    cmd = ["dnsperf", "-s", LISTENER, "-d", str(queries), "-l", str(int(seconds)), "-c", "4", "-q", "500"]
    return subprocess.Popen(["ip", "netns", "exec", netns, *cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def went_active(name: str) -> int:
    """How often either bigip logged going Active (010c0019) so far."""
    return sum((state.node_dir(name, n) / "log.jsonl").read_text().count('"010c0019"') for n in NODES)


def role(name: str, node: str) -> str:
    return node_status(name, node).failover.traffic_groups.get("traffic-group-1")


def rest_url(name: str, node: str) -> str:
    return f"https://{lab_route(Lab.open(name).node(node).mgmt_address)}/mgmt/tm/ltm/pool/~Common~web_pool"


def wrk(seconds: float, connections: int, url: str, netns: str | None = None) -> subprocess.Popen:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-H", BASIC, url]
    return subprocess.Popen((["ip", "netns", "exec", netns] if netns else []) + cmd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def phase(name: str, seconds: float, loads: list, tmp: Path, label: str, figures=wrk_figures) -> dict:
    """Capture the heartbeat paths while `loads` (wrk runs, or what `figures` reads) go on; what
    the heartbeats saw."""
    pcaps = {vlan: tmp / f"{label}-{vlan}.pcap" for vlan in PATHS}
    threads = [threading.Thread(target=capture, args=(name, vlan, str(p)),
                                kwargs={"duration": seconds, "say": lambda m: None})
               for vlan, p in pcaps.items()]
    before = {"rss": rss_kb(name, "bigip1"), "lost": lost_paths(name), "drops": channel_drops(name),
              "actives": went_active(name)}
    for t in threads:
        t.start()
    time.sleep(0.5)
    procs = [start(seconds - 1) for start in loads]
    outs = [p.communicate()[0] for p in procs]
    for t in threads:
        t.join()
    return {"load": [figures(o) for o in outs],
            "largest_heartbeat_gap_ms": largest_gaps(pcaps),
            "paths_lost_010c0083": lost_paths(name) - before["lost"],
            "channel_drops_4353": channel_drops(name) - before["drops"],
            "false_failovers_010c0019": went_active(name) - before["actives"],
            "bigip1_rss_growth_kb": rss_kb(name, "bigip1") - before["rss"],
            "roles": {n: role(name, n) for n in NODES}}


def kill_active(name: str, loads: list, settle: float, tmp: Path) -> dict:
    """Seconds from kill -9 of bigip1's daemon to bigip2 reporting traffic-group-1 active, and to
    bigip2's first gratuitous ARP for the virtual address seen on the external VLAN; against the
    heartbeat timeout + 0.5 s (issue item 5)."""
    pcap = tmp / f"kill-{len(loads)}-external.pcap"
    mac = Lab.open(name).run("bigip2", ["cat", "/sys/class/net/external/address"], capture_output=True,
                             text=True).stdout.strip()
    timeout_s = node_status(name, "bigip2").failover.timeout
    procs = [start(settle + 15) for start in loads]
    cap = threading.Thread(target=capture, args=(name, "external", str(pcap)),
                           kwargs={"duration": settle + 12, "say": lambda m: None})
    cap.start()
    time.sleep(max(settle, 1.0))
    pid = int((state.node_dir(name, "bigip1") / "daemon.pid").read_text())
    started, wall = time.monotonic(), time.time()
    os.kill(pid, signal.SIGKILL)
    wait(lambda: role(name, "bigip2") == "active", 30, 0.01)
    active_s = time.monotonic() - started
    for p in procs:
        p.terminate()
        p.wait()
    cap.join()
    garps = [r.ts - wall for r in read(pcap.read_bytes()) if (f := classify(r.data)).kind == "garp"
             and f.src == VIP and r.ts > wall and f.detail.endswith(mac)]
    garp_s = round(min(garps), 3) if garps else None
    return {"active_s": round(active_s, 3), "garp_seen_s": garp_s, "timeout_s": timeout_s,
            "within_timeout_plus_0_5_s": garp_s is not None and garp_s <= timeout_s + 0.5}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="length of each load phase")
    ap.add_argument("--connections", type=int, default=64, help="wrk connections per load")
    ap.add_argument("--only", choices=["rest", "dns"], help="only the REST/virtual phases and kills, or only DNS")
    ap.add_argument("--name", default="biso", help="lab name (at most 6 characters)")
    ap.add_argument("--mgmt-subnet", default="10.250.84.0/24")
    args = ap.parse_args()
    report: dict = {}
    if args.only != "dns":
        rest_phases(args, report)
    if args.only != "rest":
        dns_phase(args, report)
    half = report["timeout_ms"] / 2
    report["gaps_over_timeout_half"] = sorted(
        f"{label}: {path}" for label, r in report.items() if isinstance(r, dict) and "largest_heartbeat_gap_ms" in r
        for path, gap in r["largest_heartbeat_gap_ms"].items() if gap is None or gap > half)
    print(json.dumps(report, indent=2))


def settled(name: str) -> dict:
    """Wait for bigip1 active and bigip2 standby, then a little more; the heartbeat timers."""
    wait(lambda: role(name, "bigip1") == "active" and role(name, "bigip2") == "standby", 60, 0.2)
    time.sleep(2)
    fo = node_status(name, "bigip1").failover
    return {"timeout_ms": fo.timeout * 1000, "interval_ms": fo.interval * 1000}


def rest_phases(args, report: dict) -> None:
    s, c = args.seconds, args.connections
    with lab(args.name, args.mgmt_subnet) as name, tempfile.TemporaryDirectory() as tmp:
        report.update(settled(name))
        client = Lab.open(name).node("client").netns
        rest1 = lambda d: wrk(d, c, rest_url(name, "bigip1"))
        rest2 = lambda d: wrk(d, c, rest_url(name, "bigip2"))
        vip = lambda d: wrk(d, c, f"http://{VIP}/", client)
        report["idle"] = phase(name, s, [], Path(tmp), "idle")
        report["rest_wrk_on_bigip1"] = phase(name, s, [rest1], Path(tmp), "rest")
        report["wrk_through_virtual"] = phase(name, s, [vip], Path(tmp), "vip")
        report["failover_after_kill9_under_rest_load_on_both"] = kill_active(name, [rest1, rest2], 5, Path(tmp))
    with lab(args.name, args.mgmt_subnet) as name, tempfile.TemporaryDirectory() as tmp:
        settled(name)
        report["failover_after_kill9_idle"] = kill_active(name, [], 0, Path(tmp))
    loaded, idle = report["failover_after_kill9_under_rest_load_on_both"], report["failover_after_kill9_idle"]
    if loaded["garp_seen_s"] and idle["garp_seen_s"]:
        report["failover_garp_loaded_over_idle"] = round(loaded["garp_seen_s"] / idle["garp_seen_s"], 2)


def dns_phase(args, report: dict) -> None:
    """GTM on the pair: a dnsperf flood at bigip1's listener from the client."""
    with tempfile.TemporaryDirectory() as tmp, lab(args.name, args.mgmt_subnet, gtm_pair(Path(tmp))) as name:
        report.update(settled(name))
        queries = Path(tmp) / "queries"
        queries.write_text(QUERIES)
        client = Lab.open(name).node("client").netns
        report["dnsperf_at_gtm_listener_on_bigip1"] = phase(
            name, args.seconds, [lambda d: dnsperf(d, queries, client)], Path(tmp), "dns", dnsperf_figures)


if __name__ == "__main__":
    main()
