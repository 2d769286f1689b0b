"""Route domain 0 as a BIG-IP lists it: every VLAN that no other route domain holds (the lab's
nodes have the one routing table: docs/design.md). A view of the store, never stored, so a VLAN
made or deleted shows there at once."""
from __future__ import annotations

import ipaddress
from typing import Callable

DEFAULT = "/Common/0"


def shown(of_type: Callable[[str], dict], path: str, values: dict) -> dict:
    """A route domain's values as listed: /Common/0 with its VLANs."""
    if path != DEFAULT:
        return values
    taken = {v for p, rd in of_type("net route-domain").items() if p != path for v in rd.get("vlans") or ()}
    vlans = set(values.get("vlans") or ()) | {p for p in of_type("net vlan") if p not in taken}
    return {**values, "vlans": sorted(vlans)}


# route domain -> [(network, interface)] of its VLANs in this node's namespace, as node/routes.py
# last set them up: where a socket for an address in the route domain is bound (SO_BINDTODEVICE)
INTERFACES: dict[int, list] = {}


def set_interfaces(value: dict[int, list]) -> None:
    INTERFACES.clear()
    INTERFACES.update(value)


def interface_for(rd: int, address: str) -> str | None:
    """The interface of route domain `rd`'s VLAN whose network holds `address`, else its first
    VLAN's (a gateway's route goes out there); None when the route domain has no VLAN here."""
    nets = INTERFACES.get(rd) or []
    ip = ipaddress.ip_address(address)
    return next((i for n, i in nets if n is not None and ip in n), nets[0][1] if nets else None)


def vrfs(of_type: Callable[[str], dict]) -> dict[int, tuple[str, ...]]:
    """Route domains other than 0 -> the interfaces of their VLANs (a VLAN's interface is named as
    its first `interfaces` entry, else as the VLAN): what the node gives each its routing table."""
    vlans = of_type("net vlan")
    out = {}
    for v in of_type("net route-domain").values():
        if v.get("id"):
            out[int(v["id"])] = tuple(sorted(
                ((vlans.get(p) or {}).get("interfaces") or [p.rsplit("/", 1)[-1]])[0] for p in v.get("vlans") or ()))
    return out


def interfaces_rd(of_type: Callable[[str], dict]) -> dict[str, int]:
    """Interface name -> its route domain (0 unless a route domain holds its VLAN)."""
    return {i: rd for rd, ifaces in vrfs(of_type).items() for i in ifaces}
