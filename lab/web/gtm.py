"""The GTM page's model: for each wide IP and each client network, the answer a client gets now and
why. The answer is real DNS inside the lab (dig from the client node to a GTM's listener); the why
is the GTM's own configuration, read over its iControl REST (servers, topology records, regions),
scored by the GTM's topology code (node/gtm/topology.py), and the GTM's status of each member."""
from __future__ import annotations

import base64
import ipaddress
import json
import urllib.request

from node import tls
from node.gtm.topology import Dest, Record, Regions, Topology

from ..runtime.control import ControlError
from ..runtime.guard import lab_route


def rest(lab, node: str, path: str) -> list[dict]:
    """GET /mgmt/tm/<path> on a node (its management address, inside the lab): the items."""
    n = lab.node(node)
    admin = n.admin or {"username": "admin", "password": "admin"}
    req = urllib.request.Request(f"https://{lab_route(n.mgmt_address)}/mgmt/tm/{path}")
    token = base64.b64encode(f"{admin['username']}:{admin['password']}".encode()).decode()
    req.add_header("Authorization", f"Basic {token}")
    # the device's own certificate: checked by nothing, and no host CA store loaded
    with urllib.request.urlopen(req, timeout=5, context=tls.unverified_client()) as r:
        return json.load(r).get("items", [])


def wideips(lab, node: str) -> list[dict]:
    """The node's A wide IPs with their pools and LB mode, as its REST lists them ([] if it does
    not answer)."""
    try:
        return [{"name": w["fullPath"], "mode": w.get("poolLbMode", ""),
                 "pools": [p["name"] for p in w.get("pools", [])]} for w in rest(lab, node, "gtm/wideip/a")]
    except (OSError, ValueError):
        return []


def dig(lab, client: str, server: str, name: str) -> list[str]:
    proc = lab.run(client, ["dig", f"@{server}", name, "A", "+short", "+time=1", "+tries=1"],
                   capture_output=True, text=True, timeout=5)
    if proc.returncode != 0:
        return []
    return [line.strip() for line in proc.stdout.splitlines() if line.strip() and not line.startswith(";")]


class GtmConfig:
    """What one GTM is configured with: its virtual servers by address, topology and regions."""

    def __init__(self, lab, gtm: str):
        self.wideips = [w["fullPath"] for w in rest(lab, gtm, "gtm/wideip/a")]
        self.vs: dict[str, tuple[str, str, str]] = {}   # address -> (server, vs, datacenter)
        self.member_dc: dict[str, str] = {}             # "/Common/server:vs" -> datacenter
        for s in rest(lab, gtm, "gtm/server?expandSubcollections=true"):
            for v in s.get("virtualServersReference", {}).get("items", []):
                address = v.get("destination", "").rsplit(":", 1)[0]
                self.vs[address] = (s["fullPath"], v["name"], s.get("datacenter", ""))
                self.member_dc[f"{s['fullPath']}:{v['name']}"] = s.get("datacenter", "")
        records = [Record.parse(t["name"], t.get("score", 1), t.get("order", 0)) for t in rest(lab, gtm, "gtm/topology")]
        regions = Regions({r["fullPath"]: [m["name"] for m in r.get("regionMembers", [])]
                           for r in rest(lab, gtm, "gtm/region")})
        self.topology = Topology(records, regions)

    def scores(self, ldns: str, members: list[str]) -> dict[str, int]:
        """Each member's topology score for this LDNS, by its data center."""
        dests = [Dest(datacenter=self.member_dc.get(m)) for m in members]
        return dict(zip(members, self.topology.scores(ipaddress.ip_address(ldns), dests)))


def answers(lab, statuses: dict) -> list[dict]:
    """[{gtm, listener, wideip, client, network, answer, dc, why}] for every GTM with a listener."""
    clients = [n for n in lab.plan.nodes if n.kind == "host"]
    out = []
    for gtm, status in statuses.items():
        if status is None or isinstance(status, str) or status.gtm is None or not status.gtm.listeners:
            continue
        try:
            config = GtmConfig(lab, gtm)
        except (OSError, ValueError, ControlError):
            continue   # its REST is not up (a restarting daemon): the next change shows it
        listener = next(iter(status.gtm.listeners.values())).address
        # "POOL/MEMBER" -> MEMBER ("/Common/ltm-nyc:vs_www"), as the servers name them
        members = {key[key.index("//") + 1:] if "//" in key else key: st for key, st in status.gtm.members.items()}
        for wip in config.wideips:
            for c in clients:
                ldns = c.interfaces[0].address.split("/")[0]
                got = dig(lab, c.name, listener, wip.rsplit("/", 1)[-1])
                scores = config.scores(ldns, sorted(members))
                chosen = [config.vs.get(a) for a in got]
                why = ["topology score " + ", ".join(
                    f"{config.member_dc.get(m, '?').rsplit('/', 1)[-1]} {s}" for m, s in
                    sorted(scores.items(), key=lambda kv: -kv[1]))]
                why += [f"{m.rsplit('/', 1)[-1]}: {st.state} ({st.reason})" for m, st in sorted(members.items())]
                out.append({"gtm": gtm, "listener": listener, "wideip": wip, "client": c.name, "network": ldns,
                            "answer": got, "why": why,
                            "dc": ", ".join(x[2].rsplit("/", 1)[-1] for x in chosen if x) or "-"})
    return out
