#!/usr/bin/env python3
"""iControl REST on one node: GET requests per second on a pool with members (wrk, 10 connections,
HTTPS keep-alive, basic auth and token), and login latency with 10 concurrent clients, as JSON.

    .venv/bin/python bench/rest.py [--seconds 5] [--connections 10] [--logins 20]
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import requests
import urllib3
from common import host_argv, lab, percentile, wrk_figures

from lab.runtime.control import call

urllib3.disable_warnings()
NODE = "10.251.41.11"
URL = f"https://{NODE}/mgmt/tm/ltm/pool/~Common~web_pool?expandSubcollections=true"


def wrk(header: str, seconds: int, connections: int) -> dict:
    argv = host_argv(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", header, URL], NODE)
    out = subprocess.run(argv, capture_output=True, text=True).stdout
    return wrk_figures(out)


def logins(n: int) -> list[float]:
    s = requests.Session()
    s.verify = False
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = s.post(f"https://{NODE}/mgmt/shared/authn/login", json={"username": "admin", "password": "admin",
                                                                   "loginProviderName": "tmos"}, timeout=10)
        r.raise_for_status()
        times.append((time.perf_counter() - t) * 1000)
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=10)
    ap.add_argument("--logins", type=int, default=20, help="logins per client (10 clients)")
    args = ap.parse_args()
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(var, None)
    with lab("brest", "10.251.41.0/24") as name:
        call(name, "bigip1", "tmsh", line="modify ltm pool web_pool members add { 10.1.20.23:80 10.1.20.24:80 }")
        basic = "Authorization: Basic " + base64.b64encode(b"admin:admin").decode()
        token = requests.post(f"https://{NODE}/mgmt/shared/authn/login", verify=False,
                              json={"username": "admin", "password": "admin"}).json()["token"]["token"]
        get_basic = wrk(basic, args.seconds, args.connections)
        get_token = wrk(f"X-F5-Auth-Token: {token}", args.seconds, args.connections)
        with ThreadPoolExecutor(10) as pool:
            times = [t for ts in pool.map(logins, [args.logins] * 10) for t in ts]
    print(json.dumps({"get_pool_with_4_members_basic": get_basic, "get_pool_with_4_members_token": get_token,
                      "login_ms": {"p50": round(percentile(times, 50), 2), "p99": round(percentile(times, 99), 2),
                                   "count": len(times), "clients": 10},
                      "load": f"wrk -t2 -c{args.connections} -d{args.seconds}s, HTTPS keep-alive, from the host",
                      "aim": ">= 1000 GET/s"}, indent=1))


if __name__ == "__main__":
    main()
