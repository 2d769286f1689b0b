"""FQDN pool members on the wire: a name served by a DNS server inside the lab (on web1) resolves
to both web servers; each device asks it itself, and both addresses become ephemeral members that
carry the client's traffic; when one address leaves the answer, its member goes. On the LTM pair
(`ltm_lab`, conftest.py)."""
import json
import os
import signal
import sys
from collections import Counter
from pathlib import Path

import requests

from lab.runtime.control import node_status
from lab.runtime.lab import Lab
from tests.lab.conftest import wait_for
from tests.lab.f5api import no_ca_bundle  # noqa: F401  (autouse)
from tests.lab.test_ltm import tmsh

NAME = "web.lab.example"
DNS = "10.1.20.21"          # web1 serves the name too
SERVER = Path(__file__).with_name("zone_server.py")


def members(lab, node):
    pool = node_status(lab, node).ltm.pools.get("/Common/fq_pool")
    return {n: m.availability for n, m in (pool.members if pool else {}).items()}


def served(lab, n):
    out = Counter()
    for _ in range(n):
        r = Lab.open(lab).run("client", ["curl", "-s", "-m", "3", "http://10.1.10.100:90/"], capture_output=True,
                              text=True)
        out[r.stdout.split()[0] if r.returncode == 0 and r.stdout.split() else None] += 1
    return out


def rest_members(lab, node):
    host = Lab.open(lab).plan.node(node).mgmt_address
    r = requests.get(f"https://{host}/mgmt/tm/ltm/pool/~Common~fq_pool/members", auth=("admin", "admin"),
                     verify=False, timeout=30)
    return {m["name"]: (m["address"], m["ephemeral"]) for m in r.json()["items"]}


def test_a_name_served_in_the_lab_becomes_members_that_carry_traffic(ltm_lab):
    lab = Lab.open(ltm_lab)
    zone = lab.node_dir("web1") / "zone.json"
    zone.write_text(json.dumps({NAME: ["10.1.20.21", "10.1.20.22"]}))
    pid = lab.backend.start(lab.node("web1"), [sys.executable, str(SERVER), DNS, str(zone)],
                            str(lab.node_dir("web1") / "zone.out"))
    both = {"/Common/_auto_10.1.20.21:80": "available", "/Common/_auto_10.1.20.22:80": "available"}
    try:
        for node in ("bigip1", "bigip2"):     # sys dns is each device's own (not synced)
            tmsh(ltm_lab, node, f"modify sys dns name-servers replace-all-with {{ {DNS} }}")
        tmsh(ltm_lab, "bigip1", f"create ltm node {NAME} fqdn {{ name {NAME} autopopulate enabled interval 1 }}")
        tmsh(ltm_lab, "bigip1", f"create ltm pool fq_pool monitor fast members add {{ {NAME}:80 }}")
        tmsh(ltm_lab, "bigip1", "create ltm virtual vs_fq destination 10.1.10.100:90 pool fq_pool profiles add { http }")
        for node in ("bigip1", "bigip2"):     # each resolved it itself: its members are its own
            wait_for(lambda: members(ltm_lab, node) == both, what=f"both addresses members on {node}")
        assert served(ltm_lab, 4) == {"web1": 2, "web2": 2}
        shown = rest_members(ltm_lab, "bigip1")
        assert shown == {f"{NAME}:80": ("any6", "false"), "_auto_10.1.20.21:80": ("10.1.20.21", "true"),
                         "_auto_10.1.20.22:80": ("10.1.20.22", "true")}
        assert f"ltm node {NAME}" in tmsh(ltm_lab, "bigip2", "list ltm node")   # synced: the FQDN node

        zone.write_text(json.dumps({NAME: ["10.1.20.22"]}))     # one address goes away
        wait_for(lambda: members(ltm_lab, "bigip1") == {"/Common/_auto_10.1.20.22:80": "available"},
                 what="the member of the address that went away gone")
        assert served(ltm_lab, 4) == {"web2": 4}
    finally:
        for line in ("delete ltm virtual vs_fq", "delete ltm pool fq_pool", f"delete ltm node {NAME}"):
            try:
                tmsh(ltm_lab, "bigip1", line)
            except Exception:   # noqa: BLE001  (cleaning up what the test got to make)
                pass
        for node in ("bigip1", "bigip2"):
            tmsh(ltm_lab, node, "modify sys dns name-servers none")
        os.kill(pid, signal.SIGKILL)
