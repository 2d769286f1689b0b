#!/usr/bin/env python3
"""Requests per second and p99 latency through a virtual server against the same load sent
straight to the member, side by side in one run, with wrk (Debian package), as JSON.

The virtual server vs_bench (10.1.10.101:80) has one member, web1; wrk runs in the client's
namespace for the virtual and in web2's namespace (on the internal VLAN) for the direct load.

    .venv/bin/python bench/ltm.py [--seconds 5] [--connections 10]
"""
from __future__ import annotations

import argparse
import json

from common import lab, wrk_figures

from lab.runtime.control import call
from lab.runtime.lab import Lab


def wrk(name: str, node: str, url: str, seconds: int, connections: int) -> dict:
    out = Lab.open(name).run(node, ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                        capture_output=True, text=True).stdout
    return wrk_figures(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=10)
    args = ap.parse_args()
    with lab("bltm", "10.252.4.0/24") as name:
        call(name, "bigip1", "tmsh", line="create ltm pool bench_pool members add { 10.1.20.21:80 } monitor http")
        call(name, "bigip1", "tmsh", line="create ltm virtual vs_bench destination 10.1.10.101:80 pool bench_pool")
        Lab.open(name).run("client", ["curl", "-s", "-m", "3", "--retry", "5", "--retry-all-errors",
                                       "--retry-delay", "1", "http://10.1.10.101/"], capture_output=True)
        direct = wrk(name, "web2", "http://10.1.20.21/", args.seconds, args.connections)
        virtual = wrk(name, "client", "http://10.1.10.101/", args.seconds, args.connections)
    print(json.dumps({"direct_to_member": direct, "through_virtual": virtual,
                      "virtual_over_direct": round(virtual["requests_per_s"] / direct["requests_per_s"], 3),
                      "load": f"wrk -t2 -c{args.connections} -d{args.seconds}s, HTTP/1.1 keep-alive"}, indent=1))


if __name__ == "__main__":
    main()
