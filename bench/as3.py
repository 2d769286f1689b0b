#!/usr/bin/env python3
"""AS3 figures, as JSON: one tenant of N applications (each a Service_HTTP with a pool of 2
members) POSTed to bigip1 of an HA pair: seconds for the deploy (the synchronous POST), for a
no-change redeploy, and from the POST until bigip2 is In Sync at bigip1's commit (auto-sync).
Aim (issue 14): 100 applications deployed and synced in <= 2 s.

    .venv/bin/python bench/as3.py [--apps 100] [--name bas3 --mgmt-subnet 10.250.31.0/24]
"""
from __future__ import annotations

import argparse
import json
import os
import time

import requests
import urllib3
from common import lab, wait

from lab.runtime.control import ControlError, call, status_part

urllib3.disable_warnings()
B1 = "10.250.31.11"


def declaration(apps: int) -> dict:
    tenant = {"class": "Tenant"}
    for i in range(apps):
        tenant[f"app{i}"] = {
            "class": "Application", "template": "http",
            "serviceMain": {"class": "Service_HTTP", "virtualAddresses": ["10.1.10.150"], "virtualPort": 10000 + i,
                            "pool": "pool"},
            "pool": {"class": "Pool", "monitors": ["http"], "members": [
                {"servicePort": 8000 + i, "serverAddresses": ["10.1.20.31", "10.1.20.32"]}]}}
    return {"class": "AS3", "action": "deploy", "persist": True,
            "declaration": {"class": "ADC", "schemaVersion": "3.50.0", "id": "bench", "Bench": tenant}}


def post(body: dict) -> tuple[float, list[str]]:
    started = time.monotonic()
    r = requests.post(f"https://{B1}/mgmt/shared/appsvcs/declare", json=body, auth=("admin", "admin"),
                      verify=False, timeout=120)
    took = time.monotonic() - started
    if r.status_code != 200:
        raise SystemExit(f"deploy failed: {r.status_code} {r.text[:2000]}")
    return took, [x["message"] for x in r.json()["results"]]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=100)
    ap.add_argument("--name", default="bas3", help="the lab's name")
    ap.add_argument("--mgmt-subnet", default="10.250.31.0/24", help="the lab's management subnet (bigip1 is .11)")
    args = ap.parse_args()
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(var, None)
    body = declaration(args.apps)
    global B1
    B1 = args.mgmt_subnet.rsplit(".", 1)[0] + ".11"
    with lab(args.name, args.mgmt_subnet) as name:
        wait(lambda: status_part(name, "bigip2", "sync").status == "In Sync", timeout=60, interval=0.05)
        started = time.monotonic()
        deploy_s, first = post(body)
        cid = status_part(name, "bigip1", "sync").cid
        wait(lambda: (s := status_part(name, "bigip2", "sync")).status == "In Sync" and s.cid == cid,
             timeout=60, interval=0.005)
        synced_s = time.monotonic() - started
        again_s, second = post(body)
        try:   # how late bigip1's trio loop wakes, idle with the tenant deployed
            lag = call(name, "bigip1", "loop-lag", timeout=30, seconds=3)
        except ControlError as exc:   # a daemon without the probe
            lag = {"error": str(exc)}
    print(json.dumps({"loadavg": open("/proc/loadavg").read().split()[:3],
        "applications": args.apps, "objects_per_app": "virtual, pool of 2 members (+ folder)",
        "deploy_s": round(deploy_s, 3), "deploy_message": first,
        "deploy_and_peer_in_sync_s": round(synced_s, 3),
        "no_change_redeploy_s": round(again_s, 3), "redeploy_message": second,
        "aim_s": 2.0, "bigip1_idle_loop_lag": lag,
    }, indent=1))


if __name__ == "__main__":
    main()
