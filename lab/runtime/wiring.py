"""Bridges, veth pairs, addresses and link state, through pyroute2 (netlink; no `ip` commands).

No route is added on the host: the host reaches only the management subnet (through its address on
that bridge), so no lab address can leave through the host's default route. Routes a topology
declares go inside nodes only, through gateways on the lab's own VLANs.
"""
from __future__ import annotations

from pathlib import Path

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from ..model.plan import PREFIX, Bridge, Interface
from . import namespaces


def _index(ipr: IPRoute, ifname: str) -> int:
    found = ipr.link_lookup(ifname=ifname)
    if not found:
        raise LookupError(f"no interface {ifname}")
    return found[0]


def create_bridge(ipr: IPRoute, bridge: Bridge) -> int:
    """The VLAN's bridge, up (with the host's address on the management VLAN); its index."""
    ipr.link("add", ifname=bridge.name, kind="bridge", br_stp_state=0, br_forward_delay=0,
             br_mcast_snooping=0, state="up")
    idx = _index(ipr, bridge.name)
    ipr.link("set", index=idx, ifalias=bridge.alias)
    if bridge.host_address:
        addr, plen = bridge.host_address.split("/")
        ipr.addr("add", index=idx, address=addr, prefixlen=int(plen))
    return idx


def wire_node(ns_ref: str, node, bridges: dict[str, int] | None = None) -> None:
    """A node's wiring, in a few netlink requests (a thread of its own may call this): on the
    host, per interface, a veth pair made enslaved to its VLAN's bridge and up in one request
    (the node end named after the VLAN, in the node), and its alias; in the node, on one socket,
    loopback up, each interface addressed and up, and the node's routes. `bridges` maps bridge
    names to indices (looked up if not given)."""
    with IPRoute() as ipr:
        for iface in node.interfaces:
            master = bridges[iface.bridge] if bridges else _index(ipr, iface.bridge)
            ipr.link("add", ifname=iface.host_end, kind="veth", master=master, state="up",
                     peer={"ifname": iface.vlan, "net_ns_fd": ns_ref})
            ipr.link("set", ifname=iface.host_end, ifalias=iface.alias)
    with namespaces.inside(ns_ref), IPRoute() as nsr:
        index = {link.get("ifname"): link["index"] for link in nsr.get_links()}
        nsr.link("set", index=index["lo"], state="up")
        for iface in node.interfaces:
            addr, plen = iface.address.split("/")
            nsr.addr("add", index=index[iface.vlan], address=addr, prefixlen=int(plen))
            nsr.link("set", index=index[iface.vlan], state="up")
        for to, via in node.routes:   # to lab addresses through lab gateways (topology-checked)
            nsr.route("add", dst=to, gateway=via)


def set_link(ipr: IPRoute, iface: Interface, up: bool) -> None:
    """Pull or plug the cable: the host end goes down, the node sees NO-CARRIER."""
    ipr.link("set", index=_index(ipr, iface.host_end), state="up" if up else "down")


def link_state(ifname: str) -> str:
    """A host link's state, "up", "down" or "missing", from sysfs: a netlink request and
    pyroute2's parsing of its answer cost milliseconds per link, a lab's status hundreds."""
    try:
        flags = int(Path(f"/sys/class/net/{ifname}/flags").read_text(), 16)
    except (OSError, ValueError):
        return "missing"
    return "up" if flags & 1 else "down"   # IFF_UP


def lab_links(ipr: IPRoute, lab_prefix: str = PREFIX) -> list[tuple[int, str, str]]:
    """(index, name, kind) of host links whose names carry the prefix, bridges last."""
    found = []
    for link in ipr.get_links():
        name = link.get("ifname") or ""
        if name.startswith(lab_prefix):
            info = link.get(("IFLA_LINKINFO", "IFLA_INFO_KIND")) or ""
            found.append((link["index"], name, info))
    return sorted(found, key=lambda t: t[2] == "bridge")


def remove_links(ipr: IPRoute, lab_prefix: str) -> list[str]:
    removed = []
    for idx, name, _kind in lab_links(ipr, lab_prefix):
        try:
            ipr.link("del", index=idx)
            removed.append(name)
        except NetlinkError as exc:
            if exc.code != 19:  # ENODEV: went with its veth peer
                raise
    return removed
