"""Bridges, veth pairs, addresses and link state, through pyroute2 (netlink; no `ip` commands).

A lab's bridges live in a network namespace of the lab's own, its fabric (`bl-<lab>-fabric`), with
the bridge ends of the nodes' veths: a BIG-IP's network has no host, and the host must not filter
it. In the host's namespace, br_netfilter (dockerd loads it) would send every bridged frame through
the host's iptables and conntrack (and dockerd's FORWARD policy DROP); the bridge-nf-call sysctls
are per namespace, and 0 in the fabric. The host reaches a VLAN it has an address on (management)
through a veth of its own into the fabric, so host <-> node traffic is the host's local traffic,
never forwarded by it.

No route is added on the host: the host reaches only the management subnet (through its address on
its veth into the fabric), so no lab address can leave through the host's default route. Routes a
topology declares go inside nodes only, through gateways on the lab's own VLANs.
"""
from __future__ import annotations

import fcntl
import socket
import struct
from pathlib import Path

from node.netlink import IPRoute, netns, NetlinkError

from ..model.plan import PREFIX, Bridge, Interface, Plan
from ..model.names import FABRIC
from . import namespaces
from .processes import processes_in, stop_processes

BRIDGE_NETFILTER = ("iptables", "ip6tables", "arptables")   # net.bridge.bridge-nf-call-*


def _index(ipr: IPRoute, ifname: str) -> int:
    found = ipr.link_lookup(ifname=ifname)
    if not found:
        raise LookupError(f"no interface {ifname}")
    return found[0]


def make_fabric(plan: Plan) -> dict[str, int]:
    """The lab's fabric namespace with its bridges (br_netfilter off there), and the host's veth
    into each VLAN it has an address on, addressed on the host; returns bridge name -> index."""
    namespaces.share_rundir()
    namespaces.create(plan.fabric)
    with namespaces.inside(plan.fabric):
        for table in BRIDGE_NETFILTER:
            sysctl = Path(f"/proc/sys/net/bridge/bridge-nf-call-{table}")
            if sysctl.exists():   # only while br_netfilter is loaded
                sysctl.write_text("0")
        with IPRoute() as fab:
            bridges = {bridge.name: create_bridge(fab, bridge) for bridge in plan.bridges}
    with IPRoute() as ipr:
        for bridge in plan.bridges:
            if bridge.host_address:
                host_end, port = bridge.host_link()
                ipr.link("add", ifname=host_end, kind="veth", state="up",
                         peer={"ifname": port, "net_ns_fd": plan.fabric})
                idx = _index(ipr, host_end)
                ipr.link("set", index=idx, ifalias=f"{bridge.alias} (the host)")
                addr, plen = bridge.host_address.split("/")
                ipr.addr("add", index=idx, address=addr, prefixlen=int(plen))
    with namespaces.inside(plan.fabric), IPRoute() as fab:
        for bridge in plan.bridges:
            if bridge.host_address:
                _, port = bridge.host_link()
                fab.link("set", index=_index(fab, port), master=bridges[bridge.name], state="up",
                         ifalias=f"{bridge.alias} (the host)")
    return bridges


def create_bridge(ipr: IPRoute, bridge: Bridge) -> int:
    """The VLAN's bridge, up; its index."""
    ipr.link("add", ifname=bridge.name, kind="bridge", br_stp_state=0, br_forward_delay=0,
             br_mcast_snooping=0, state="up")
    idx = _index(ipr, bridge.name)
    ipr.link("set", index=idx, ifalias=bridge.alias)
    return idx


def wire_node(ns_ref: str, node, bridges: dict[str, int] | None = None) -> None:
    """A node's wiring, in a few netlink requests (a thread of its own may call this): in the lab's
    fabric, per interface, a veth pair made enslaved to its VLAN's bridge and up in one request
    (the node end named after the VLAN, in the node), and its alias; in the node, on one socket,
    loopback up, each interface addressed and up, and the node's routes. `bridges` maps bridge
    names to indices (looked up if not given)."""
    with namespaces.inside(node.fabric), IPRoute() as ipr:
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


def set_link(fabric: str, iface: Interface, up: bool) -> None:
    """Pull or plug the cable: the bridge end goes down, the node sees NO-CARRIER."""
    with namespaces.inside(fabric), IPRoute() as ipr:
        ipr.link("set", index=_index(ipr, iface.host_end), state="up" if up else "down")


SIOCGIFFLAGS = 0x8913


def link_states(fabric: str, names) -> dict[str, str]:
    """Each link's state in a lab's fabric, "up", "down" or "missing" ("unknown" to a user who may
    not enter it), by one ioctl each on a socket made there: a netlink request and pyroute2's
    parsing of its answer cost milliseconds per link (a lab's status hundreds), and /sys shows the
    host's links only."""
    try:
        with namespaces.inside(fabric):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    except PermissionError:
        return {name: "unknown" for name in names}
    except OSError:   # no fabric: the lab is gone
        return {name: "missing" for name in names}
    states = {}
    with sock:
        for name in names:
            try:
                ifreq = fcntl.ioctl(sock, SIOCGIFFLAGS, struct.pack("16sH14x", name.encode(), 0))
            except OSError:
                states[name] = "missing"
                continue
            states[name] = "up" if struct.unpack_from("H", ifreq, 16)[0] & 1 else "down"   # IFF_UP
    return states


def lab_links(ipr: IPRoute, lab_prefix: str = PREFIX) -> list[tuple[int, str, str]]:
    """(index, name, kind) of the links whose names carry the prefix (in the namespace `ipr`
    speaks for), bridges last."""
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


def remove_fabric(fabric: str) -> list[str]:
    """A lab's fabric: what runs there ended (a capture's tcpdump), its links deleted at once (the
    host's and the nodes' veth ends with them), then the namespace."""
    path = namespaces.path_of(fabric)
    if not path.exists():
        return []
    stop_processes(processes_in(path))
    with namespaces.inside(fabric), IPRoute() as ipr:
        removed = remove_links(ipr, PREFIX)
    netns.remove(fabric)
    return removed + [fabric]


def is_fabric(name: str) -> bool:
    return name.startswith(PREFIX) and name.endswith("-" + FABRIC)
