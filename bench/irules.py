#!/usr/bin/env python3
"""Requests per second through one virtual server without iRules and with a 10-line HTTP_REQUEST
iRule (a URI switch plus a header insert), side by side in one run, with wrk, as JSON.

Both loads run twice: HTTP/1.1 keep-alive, and `Connection: close` (a new connection a request).
The issue's aim: the iRule costs at most 25% of the rate.

    .venv/bin/python bench/irules.py [--seconds 5] [--connections 10]
"""
from __future__ import annotations

import argparse
import json

from common import lab, wrk_figures

from lab.runtime.control import call
from lab.runtime.lab import Lab

RULE = r'''when HTTP_REQUEST {
    if { [HTTP::uri] starts_with "/api" } {
        pool bench_api
    } elseif { [HTTP::uri] ends_with ".png" } {
        pool bench_static
    } else {
        pool bench_pool
    }
    HTTP::header insert X-Lab-Bench [IP::client_addr]
}'''


def wrk(name: str, url: str, seconds: int, connections: int, close: bool) -> dict:
    extra = ["-H", "Connection: close"] if close else []
    out = Lab.open(name).run("client", ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", *extra, url],
                             capture_output=True, text=True).stdout
    return wrk_figures(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=10)
    args = ap.parse_args()
    figures = {}
    with lab("birl", "10.250.41.0/24") as name:
        tmsh = lambda line: call(name, "bigip1", "tmsh", line=line)  # noqa: E731
        for pool in ("bench_pool", "bench_api", "bench_static"):
            tmsh(f"create ltm pool {pool} members add {{ 10.1.20.21:80 }}")
        tmsh(f"create ltm rule bench_rule {{\n{RULE}\n}}")
        tmsh("create ltm virtual vs_plain destination 10.1.10.101:80 pool bench_pool profiles add { http }")
        tmsh("create ltm virtual vs_rule destination 10.1.10.102:80 pool bench_pool profiles add { http } "
             "rules { bench_rule }")
        for vip in ("10.1.10.101", "10.1.10.102"):
            Lab.open(name).run("client", ["curl", "-s", "-m", "3", "--retry", "5", "--retry-all-errors",
                                           "--retry-delay", "1", f"http://{vip}/api/x"], capture_output=True)
        for mode, close in (("keep_alive", False), ("connection_close", True)):
            plain = wrk(name, "http://10.1.10.101/api/x", args.seconds, args.connections, close)
            ruled = wrk(name, "http://10.1.10.102/api/x", args.seconds, args.connections, close)
            figures[mode] = {"without_irule": plain, "with_irule": ruled,
                             "irule_cost": round(1 - ruled["requests_per_s"] / plain["requests_per_s"], 3)}
        executions = tmsh("show ltm rule bench_rule")
    figures["load"] = f"wrk -t2 -c{args.connections} -d{args.seconds}s"
    figures["rule_executions_shown"] = [line.split()[-1] for line in executions.splitlines() if "Total" in line]
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
