#!/usr/bin/env python3
"""How many of F5's published AS3 example declarations (the f5-appsvcs-extension repository's
examples/declarations/*.json, given as a directory) the lab takes unmodified, as JSON: validated
(no 422) and deployed (every tenant 200) on one device's configuration store whose self IPs cover
the documentation networks the examples use, with the VLANs, /Common pools and SSL profiles they name (a body of AS3 settings
goes to /settings, as F5 documents it). Also the first reason of each refused one, counted.

The route domains the examples name (1, 2 and 100) are made first, each with a VLAN and a self IP
on 10.0.0.0/8, as an engineer makes them beforehand (tmsh or DO): AS3 uses route domains, it
never makes them.

    .venv/bin/python bench/as3_examples.py DIR [--list] [--only NAME.json ...]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])   # the repository, not bench/ (it has a dns.py)

import trio  # noqa: E402

from node.as3 import settings, targets  # noqa: E402
from node.as3.service import AppServices  # noqa: E402
from node.config.store import ConfigStore, Op  # noqa: E402

# the networks F5's examples put their addresses in, each on a VLAN of the device
NETWORKS = ("10.0.0.254/8", "192.0.2.254/24", "198.51.100.254/24", "203.0.113.254/24", "172.16.255.254/12",
            "192.168.255.254/16", "2001:db8::fffe/32", "1.1.1.254/24", "100.64.0.254/10", "1.2.3.254/24",
            "123.123.123.254/24", "123.123.124.254/24", "9161::fffe/16", "192.0.0.254/24", "1.0.0.254/24")

VLANS = ("internal", "internal-sales", "internal-marketing")   # the VLANs they name (allowVlans)
ROUTE_DOMAINS = (1, 2, 100)   # the route domains they name
# a PATCH example and the published declaration it patches (F5's docs deploy that one first)
BASES = {"example-add-application-to-tenant-via-patch.json": "example-udp-virtual-service.json"}
# what some examples name in /Common with `bigip` and a user makes before deploying them (a stock
# BIG-IP has clientssl and serverssl, not these), made here by hand as an engineer would
PREREQUISITES = [("ltm profile client-ssl", "/Common/clientssl1"), ("ltm profile client-ssl", "/Common/clientssl2"),
                 ("ltm profile server-ssl", "/Common/serverssl1"), ("ltm profile server-ssl", "/Common/serverssl2"),
                 ("ltm profile http2", "/Common/http2ingress"), ("ltm profile http2", "/Common/http2egress"),
                 ("ltm profile sip", "/Common/testSIP"), ("ltm profile ftp", "/Common/testFTP")]
POOLS = ("myPool",)   # the /Common pools they name ({"bigip": "/Common/myPool"})


def device() -> AppServices:
    store = ConfigStore(None, "bigip1")
    ops = []
    for i, net in enumerate(NETWORKS):
        ops += [Op("create", "net vlan", f"/Common/v{i}", {}),
                Op("create", "net self", f"/Common/s{i}", {"address": ("set", net), "vlan": ("set", f"/Common/v{i}")})]
    ops += [Op("create", "net vlan", f"/Common/{name}", {}) for name in VLANS]
    for rd in ROUTE_DOMAINS:
        ops += [Op("create", "net vlan", f"/Common/rd{rd}", {}),
                Op("create", "net route-domain", f"/Common/rd{rd}", {"id": ("set", rd), "vlans": ("set", [f"rd{rd}"])}),
                Op("create", "net self", f"/Common/rd{rd}-self",
                   {"address": ("set", f"10.0.0.254%{rd}/8"), "vlan": ("set", f"/Common/rd{rd}")})]
    ops += [Op("create", kind, name, {"defaults-from": ("set", f"/Common/{kind.rsplit(' ', 1)[1].replace('-', '')}")})
            for kind, name in PREREQUISITES]
    ops += [Op("create", "ltm pool", f"/Common/{name}", {}) for name in POOLS]
    store.commit(ops)
    return AppServices(store, lambda: None)


def batch(svc: AppServices, body) -> tuple[int, dict]:
    """An array of requests, or one with a targetHost, as node/rest/appsvcs.py runs it (one device
    alone: any other host is out of reach); an array's outcome as its items' results together."""
    items, errors = targets.batch(body, targets.Lab("bigip1", "192.0.2.245"))
    if errors:
        return svc.prepare(body).answer or (422, {"errors": errors})

    async def in_thread(fn, *args):
        return fn(*args)

    answers = trio.run(targets.run, svc, items, [svc.submitted()["id"] for _ in items], None, in_thread, None)
    status, out = targets.combined(answers) if isinstance(body, list) else answers[0]
    parts = [o for o in (out.get("items") or [out])]
    return status, {"errors": [e for o in parts for e in o.get("errors", [])],
                    "results": [r for o in parts for r in (o.get("results") or [{"code": o.get("code"),
                                                                                  "message": o.get("message")}])]}


def reason(out: dict) -> str:
    """The first error or refusal, with names and numbers taken out so that alike ones count together."""
    text = (out.get("errors") or [r.get("response", r.get("message", "")) for r in out.get("results", [])
                                  if r.get("code") != 200] or [""])[0]
    text = re.sub(r"^(/[^:]*)+:", "", text).strip()
    return re.sub(r"/[\w./-]+|\d+(\.\d+)*", "_", text)[:110]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("--list", action="store_true", help="print each example's outcome")
    ap.add_argument("--only", nargs="*", help="these examples (file names) only")
    args = ap.parse_args()
    files = sorted(f for f in args.dir.glob("*.json") if not args.only or f.name in args.only)
    validated = deployed = 0
    reasons: Counter = Counter()
    for f in files:
        try:
            body = json.loads(f.read_text())
        except ValueError:
            reasons["not JSON"] += 1
            continue
        svc = device()
        if f.name in BASES:
            svc.apply(svc.prepare(json.loads((f.parent / BASES[f.name]).read_text()), None, "POST"))
        patch = isinstance(body, list) and all(isinstance(op, dict) and "op" in op for op in body)
        if isinstance(body, dict) and body and set(body) <= set(settings.DEFAULTS):   # a body for /settings
            status, out = settings.post(svc.store, body)
        elif targets.is_array(body) or targets.is_targeted(body):   # requests for targets: a device without peers
            status, out = batch(svc, body)
        else:
            status, out = svc.apply(svc.prepare(body, None, "PATCH" if patch else "POST"))   # a PATCH body: PATCH
        ok = status == 200 and all(r.get("code") == 200 for r in out.get("results", []))
        validated += status != 422 or "errors" not in out
        deployed += ok
        if not ok:
            reasons[reason(out)] += 1
        if args.list:
            print(("ok   " if ok else "FAIL ") + f.name + ("" if ok else f"  {reason(out)}"), file=sys.stderr)
    print(json.dumps({"examples": len(files), "validated": validated, "deployed": deployed,
                      "refused_by": dict(reasons.most_common(25))}, indent=1))


if __name__ == "__main__":
    main()
