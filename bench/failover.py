#!/usr/bin/env python3
"""Seconds from kill -9 of the active device's daemon to the client's ARP entry for the virtual
address pointing at the new active, with default timing (200 ms heartbeats, 3 s timeout) and
tuned (100 ms / 300 ms). Median of several runs, as JSON.

    .venv/bin/python bench/failover.py [--runs 5] [--name bfo] [--net 10.252.2]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import time

from common import lab, lab_args, subnet, wait

from lab.model import state
from lab.runtime.lab import Lab
from node.netlink import IPRoute

VIP = "10.1.10.100"


def neighbour_mac(netns: str) -> str | None:
    with IPRoute(netns=netns) as ipr:
        for n in ipr.get_neighbours(family=2):
            if n.get("NDA_DST") == VIP:
                return n.get("NDA_LLADDR")
    return None


def link_mac(netns: str, ifname: str) -> str:
    with IPRoute(netns=netns) as ipr:
        return ipr.get_links(ipr.link_lookup(ifname=ifname)[0])[0].get("IFLA_ADDRESS")


def one_run(ha: dict | None, name: str, mgmt_subnet: str) -> float:
    with lab(name, mgmt_subnet, ha=ha) as name:
        plan = Lab.open(name).plan
        client = plan.node("client").netns
        # both devices may have been active for a moment at start (a 300 ms timeout on a loaded
        # host): the client learns the active one's address afresh
        wait(lambda: Lab.open(name).status("bigip2").failover.state == "standby", timeout=20)
        Lab.open(name).run("client", ["ip", "neigh", "flush", "all"], capture_output=True)
        Lab.open(name).run("client", ["ping", "-c1", "-W2", VIP], capture_output=True)
        new_mac = link_mac(plan.node("bigip2").netns, "external")
        assert neighbour_mac(client) == link_mac(plan.node("bigip1").netns, "external")
        time.sleep(1.5)  # older than the client's 1 s ARP locktime, as any idle client's entry is
        pid = int((state.node_dir(name, "bigip1") / "daemon.pid").read_text())
        started = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        wait(lambda: neighbour_mac(client) == new_mac, timeout=20)
        return time.monotonic() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    lab_args(ap, "bfo", "10.252.2")
    args = ap.parse_args()
    result = {}
    for label, ha in (("default_200ms_3s", None), ("tuned_100ms_300ms", {"heartbeat_ms": 100, "timeout_ms": 300})):
        times = [one_run(ha, args.name, subnet(args.net)) for _ in range(args.runs)]
        result[label] = {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
                         "max_s": round(max(times), 3), "runs": [round(t, 3) for t in times]}
    print(json.dumps({"kill9_to_client_arp_moved": result,
                      "note": "kill -9 of bigip1's daemon; the client's neighbour entry polled every 1 ms"}, indent=1))


if __name__ == "__main__":
    main()
