"""The soak's view of a lab's GTMs: what their listeners answer (real DNS: dig from each client
node to each listener, for each wide IP) and, apart from the GTMs' own view, which data centers
are available (a data center's LTM devices answer and one of them holds the GTM's virtual server
available: its pool has a member up). The check of the two is invariants.gslb_violations."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ..observe.history import rest_get
from ..runtime.control import ControlError


@dataclass(frozen=True)
class Virtual:
    address: str         # what an A answer holds
    destination: str     # "10.10.1.100:80"
    datacenter: str      # "/Common/nyc"
    devices: tuple       # the lab nodes of its GTM server (an LTM, or each unit of a pair)


@dataclass(frozen=True)
class GslbLayout:
    """What the GTMs are configured with, read once from a GTM's iControl REST."""
    wideips: tuple         # "www.example.com"
    virtuals: tuple        # Virtual
    listeners: tuple       # (gtm node, listener address)
    clients: tuple         # (client node, listener address) pairs that can reach it

    @property
    def datacenters(self) -> dict[str, tuple]:
        """datacenter -> its LTM devices (a whole data center: kill them all)."""
        out: dict[str, set] = {}
        for v in self.virtuals:
            out.setdefault(v.datacenter, set()).update(v.devices)
        return {dc: tuple(sorted(devices)) for dc, devices in sorted(out.items())}


def gtm_nodes(lab) -> list[str]:
    return [n.name for n in lab.plan.nodes if n.runs_daemon and "gtm" in n.modules]


def layout(lab) -> GslbLayout | None:
    """The lab's GSLB as its first answering GTM lists it over REST; None without GTMs."""
    gtms = gtm_nodes(lab)
    if not gtms:
        return None
    by_address = {i.address.split("/")[0]: n.name for n in lab.plan.nodes for i in n.interfaces}
    last = None
    for gtm in gtms:
        try:
            wideips = tuple(w["name"] for w in rest_get(lab.plan, gtm, "gtm/wideip/a"))
            servers = rest_get(lab.plan, gtm, "gtm/server?expandSubcollections=true")
            listeners = tuple((node, item["address"]) for node in gtms
                              for item in rest_get(lab.plan, node, "gtm/listener"))
        except (OSError, ValueError) as exc:
            last = exc
            continue
        virtuals = []
        for s in servers:
            devices = tuple(sorted(by_address[a["name"]] for a in s.get("addresses", []) if a["name"] in by_address))
            for v in s.get("virtualServersReference", {}).get("items", []):
                destination = v.get("destination", "")
                virtuals.append(Virtual(destination.rsplit(":", 1)[0], destination, s.get("datacenter", ""), devices))
        return GslbLayout(wideips, tuple(virtuals), listeners, _clients(lab, [a for _, a in listeners]))
    raise RuntimeError(f"no GTM of the lab lists its configuration over REST: {last}")


def _clients(lab, listeners: list[str]) -> tuple:
    """(client, listener) for each host node with a route to the listener or on its subnet."""
    out = []
    for n in lab.plan.nodes:
        if n.kind != "host":
            continue
        for address in listeners:
            ip = ipaddress.ip_address(address)
            routed = any(ip in ipaddress.ip_network(to, strict=False) for to, _via in n.routes)
            local = any(ip in ipaddress.ip_interface(i.address).network for i in n.interfaces)
            if routed or local:
                out.append((n.name, address))
    return tuple(out)


def available(env, layout: GslbLayout) -> list[str]:
    """The data centers one of whose devices answers and reports the virtual server available."""
    out = set()
    for v in layout.virtuals:
        for device in v.devices:
            try:
                virtuals = env.status(device).ltm.virtuals
            except (ControlError, ConnectionError, RuntimeError):
                continue     # killed, paused or restarting: not up
            if any(h.destination.rsplit("/", 1)[-1] == v.destination and h.availability == "available"
                   for h in virtuals.values()):
                out.add(v.datacenter)
    return sorted(out)


def observe(env, layout: GslbLayout) -> dict:
    """{"answers": [{listener, client, wideip, answer, error}], "virtuals": {address: datacenter},
    "available": [datacenters]}: the input of invariants.gslb_violations."""
    answers = []
    for client, listener in layout.clients:
        for wideip in layout.wideips:
            try:
                got, error = env.dns(client, listener, wideip), None
            except (RuntimeError, OSError) as exc:
                got, error = [], str(exc)
            answers.append({"listener": listener, "client": client, "wideip": wideip, "answer": got, "error": error})
    return {"answers": answers, "virtuals": {v.address: v.datacenter for v in layout.virtuals},
            "available": available(env, layout)}
