"""Floating addresses and gratuitous ARP.

The active device of a traffic group holds its floating self IPs and virtual addresses on the
VLAN interfaces, and announces each with gratuitous ARP (an ARP request whose sender and target
are the address, broadcast), as keepalived does: a burst of `repeat` frames `interval` apart, a
second burst after `delay`, and optionally one every `refresh` seconds. Linux ignores a GARP for
an entry younger than its 1 s locktime, which is why one frame is not enough.

The frames are built with scapy's L2 layer and sent on an AF_PACKET socket. scapy's pages are
shared: every daemon of a netns lab is forked from one warm interpreter that imported it
(lab/runtime/forkserver.py). Every field of a frame is given, so scapy's view of interfaces and
routes (read where the server imported it, not in the node) is never consulted.
"""
from __future__ import annotations

import socket

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError
from scapy.data import ETH_P_ARP
from scapy.layers.l2 import ARP, Ether

LIFETIME = 2          # seconds a floating address outlives its daemon
REFRESH = 0.5


def garp_frame(mac: str, ip: str) -> Ether:
    """A gratuitous ARP request: who-has `ip` tell `ip`, from `mac`, broadcast."""
    return Ether(dst="ff:ff:ff:ff:ff:ff", src=mac) / ARP(op="who-has", hwsrc=mac, psrc=ip,
                                                          hwdst="00:00:00:00:00:00", pdst=ip)


class Interfaces:
    """The node's own interfaces (it runs inside its namespace): addresses and MACs."""

    def __init__(self):
        self.ipr = IPRoute()

    def close(self) -> None:
        self.ipr.close()

    def index(self, ifname: str) -> int | None:
        found = self.ipr.link_lookup(ifname=ifname)
        return found[0] if found else None

    def mac(self, ifname: str) -> str | None:
        idx = self.index(ifname)
        if idx is None:
            return None
        return self.ipr.get_links(idx)[0].get("IFLA_ADDRESS")

    def rx_packets(self) -> dict[str, int]:
        """Each interface's count of packets received (VLAN failsafe watches it move)."""
        out = {}
        for link in self.ipr.get_links():
            stats = link.get("IFLA_STATS64") or link.get("IFLA_STATS")
            if stats is not None:
                out[link.get("IFLA_IFNAME")] = stats["rx_packets"]
        return out

    def addresses(self) -> list[tuple[str, str, int]]:
        """(interface, address, prefixlen) of every IPv4 address on the node."""
        names = {l["index"]: l.get("IFLA_IFNAME") for l in self.ipr.get_links()}
        return [(names.get(a["index"]), a.get("IFA_ADDRESS"), a["prefixlen"])
                for a in self.ipr.get_addr(family=socket.AF_INET)]

    def add(self, ifname: str, address: str, prefixlen: int, lifetime: int = LIFETIME) -> bool:
        """Add (or refresh) a floating address. It is valid for `lifetime` seconds only, so that a
        device whose daemon dies or hangs loses its floating addresses like a failed appliance
        would; the live daemon refreshes them. Deprecated (preferred 0), so the node's own
        address stays the source of what it sends."""
        idx = self.index(ifname)
        if idx is None:
            return False
        self.ipr.addr("replace", index=idx, address=address, prefixlen=prefixlen,
                      IFA_CACHEINFO={"ifa_preferred": 0, "ifa_valid": lifetime})
        return True

    def remove(self, ifname: str, address: str, prefixlen: int) -> None:
        idx = self.index(ifname)
        if idx is None:
            return
        try:
            self.ipr.addr("del", index=idx, address=address, prefixlen=prefixlen)
        except NetlinkError as exc:
            if exc.code not in (99, 19):  # EADDRNOTAVAIL, ENODEV: already gone
                raise

    def send_garp(self, ifname: str, address: str) -> bool:
        mac = self.mac(ifname)
        if mac is None:
            return False
        # scapy's own sockets select() on their descriptor when opened, which fails past fd 1024
        # (a daemon holding 1,000 REST sessions): the frame goes out on a plain AF_PACKET socket
        try:
            with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP)) as s:
                s.bind((ifname, ETH_P_ARP))
                s.send(bytes(garp_frame(mac, address)))
        except OSError:
            return False    # the interface went away meanwhile
        return True
