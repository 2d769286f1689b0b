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

from ..netlink import IPRoute, NetlinkError
from scapy.data import ETH_P_ARP
from scapy.layers.l2 import ARP, Ether

LIFETIME = 2          # seconds a floating address outlives its daemon
REFRESH = 0.5


def garp_frame(mac: str, ip: str) -> Ether:
    """A gratuitous ARP request: who-has `ip` tell `ip`, from `mac`, broadcast."""
    return Ether(dst="ff:ff:ff:ff:ff:ff", src=mac) / ARP(op="who-has", hwsrc=mac, psrc=ip,
                                                          hwdst="00:00:00:00:00:00", pdst=ip)


def plan(held: dict, want: dict) -> tuple[list, dict]:
    """What to change to hold exactly `want` (key -> traffic group) when holding `held`: the keys
    to remove, and the keys to add (or now of another group: announced for it) with their group."""
    return [k for k in held if k not in want], {k: tg for k, tg in want.items() if held.get(k) != tg}


class Interfaces:
    """The node's own interfaces (it runs inside its namespace): addresses and MACs. Interface
    indexes and MACs are looked up once (a lookup dumps every link) and forgotten when a call
    finds the interface gone. One instance per thread: a netlink socket is not shared."""

    def __init__(self):
        self.ipr = IPRoute()
        self._links: dict[str, tuple[int, str | None]] = {}   # name -> (index, MAC)
        # One packet socket for every GARP, of protocol 0: it receives nothing, and is never bound.
        # Opening one per frame cost 12 to 25 ms each (its close, and a bind with a protocol, wait
        # for the kernel's RCU grace period), on the daemon's event loop.
        self._packets: socket.socket | None = None

    def close(self) -> None:
        self.ipr.close()
        if self._packets is not None:
            self._packets.close()

    def _link(self, ifname: str) -> tuple[int, str | None] | None:
        if ifname not in self._links:
            found = self.ipr.link_lookup(ifname=ifname)
            if not found:
                return None
            self._links[ifname] = (found[0], self.ipr.get_links(found[0])[0].get("IFLA_ADDRESS"))
        return self._links[ifname]

    def forget(self, ifname: str) -> None:
        self._links.pop(ifname, None)

    def index(self, ifname: str) -> int | None:
        link = self._link(ifname)
        return link[0] if link else None

    def mac(self, ifname: str) -> str | None:
        link = self._link(ifname)
        return link[1] if link else None

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
        for _attempt in range(2):   # a cached index may be stale (the interface was re-made)
            idx = self.index(ifname)
            if idx is None:
                return False
            try:
                self.ipr.addr("replace", index=idx, address=address, prefixlen=prefixlen,
                              IFA_CACHEINFO={"ifa_preferred": 0, "ifa_valid": lifetime})
                return True
            except NetlinkError as exc:
                if exc.code != 19:   # ENODEV
                    raise
                self.forget(ifname)
        return False

    def remove(self, ifname: str, address: str, prefixlen: int) -> None:
        idx = self.index(ifname)
        if idx is None:
            return
        try:
            self.ipr.addr("del", index=idx, address=address, prefixlen=prefixlen)
        except NetlinkError as exc:
            if exc.code == 19:
                self.forget(ifname)
            if exc.code not in (99, 19):  # EADDRNOTAVAIL, ENODEV: already gone
                raise

    def send_garp(self, ifname: str, address: str) -> bool:
        mac = self.mac(ifname)
        if mac is None:
            return False
        # scapy's own sockets select() on their descriptor when opened, which fails past fd 1024
        # (a daemon holding 1,000 REST sessions): the frame goes out on a plain AF_PACKET socket
        if self._packets is None:
            self._packets = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        try:
            self._packets.sendto(bytes(garp_frame(mac, address)), (ifname, ETH_P_ARP))
        except OSError:
            self.forget(ifname)
            return False    # the interface went away meanwhile
        return True
