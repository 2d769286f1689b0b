"""Lab addresses never leave the host: before the host opens a connection to a lab address, ask the
kernel where it would go.

A lab's management subnet is on the host only while the lab is up (its address on its veth into
the lab's management bridge). With no lab up, the same address follows the host's default route out of the machine.
So every client on the host (the CLI, the web view, benches, tests) asks `lab_route(addr)` first:
the kernel's answer (`ip route get`, through pyroute2) must be a lab's own link (a `bl-` veth, or
an older lab's bridge) or the loopback, else the connection is refused before a packet is sent. No host route is
ever added for this (a route would outlive `down`, or go with it and guard nothing).

`guard_sockets()` (a block) and `guard_process()` (for good) apply the same check to every IP socket
connect or sendto of this process (a Python audit hook), for benches and tests, whose clients
(requests, httpx, f5-sdk, dnspython) open sockets themselves.
"""
from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import sys
import threading
from pathlib import Path

from node.netlink import IPRoute, NetlinkError

from ..model.errors import LabError
from ..model.plan import PREFIX
from .namespaces import NETNS_DIR

LOOPBACK = "lo"


class NotInLab(LabError, OSError):
    """The address would leave the host: no lab that owns it is up. An OSError too, so a client
    that treats an unreachable address as an OSError sees it as one."""


def lab_device(ifname: str | None) -> bool:
    """True for a link a lab owns (the host's veth into a lab, an older lab's bridge) or the loopback."""
    return bool(ifname) and (ifname == LOOPBACK or ifname.startswith(PREFIX))


def refusal(addr: str, ifname: str | None) -> NotInLab | None:
    """The error for sending to `addr` through `ifname` (None: no route at all), or None if the
    route stays in a lab or on the host."""
    if lab_device(ifname):
        return None
    way = f"out through {ifname}, off this machine" if ifname else "nowhere (no route)"
    return NotInLab(f"{addr}: no lab is up on this address (the host would send it {way}); "
                    f"bring its lab up first (biglab up), or check the address")


def route_device(addr: str) -> str | None:
    """The link the kernel would send `addr` out of from this network namespace (None: no route)."""
    with IPRoute() as ipr:
        try:
            route = ipr.route("get", dst=addr)[0]
        except NetlinkError:   # unreachable, or no route at all
            return None
        oif = route.get_attr("RTA_OIF")
        if oif is None:
            return None
        links = ipr.get_links(oif)
        return links[0].get_attr("IFLA_IFNAME") if links else None


_in_node: dict[int, bool] = {}   # network namespace (inode) -> is a lab node's


def in_lab_node() -> bool:
    """True if this thread is inside a lab node's network namespace (one of /run/netns/bl-*):
    traffic sent from there is on the lab's own links already. (Pid 1's namespace, the host's, is
    not readable in every container, so the node's are what is compared.)"""
    me = os.stat("/proc/thread-self/ns/net").st_ino
    if me not in _in_node:
        _in_node[me] = any(_inode(p) == me for p in NETNS_DIR.glob(PREFIX + "*"))
    return _in_node[me]


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:   # removed by a lab's down meanwhile
        return None


def lab_route(addr: str) -> str:
    """`addr` (a host name is left to its resolver) if the host would send it to a lab's own link or
    the loopback; else NotInLab naming the address."""
    try:
        ipaddress.ip_address(addr)
    except ValueError:
        return addr
    if not in_lab_node():
        error = refusal(addr, route_device(addr))
        if error:
            raise error
    return addr


_active = threading.local()
_depth = 0   # guard_sockets() blocks open now


def _hook(event: str, args: tuple) -> None:
    if not _depth or event not in ("socket.connect", "socket.sendto"):
        return
    sock, address = args[0], args[-1]
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
        return
    if getattr(_active, "checking", False):   # pyroute2's own sockets, while we check
        return
    _active.checking = True
    try:
        lab_route(address[0])
    finally:
        _active.checking = False


_installed = False


def guard_process() -> None:
    """From now on, every IP connect and sendto of this process goes through lab_route (an audit
    hook: installed once, as hooks cannot be removed, and idle outside guarded stretches)."""
    global _installed, _depth
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True
    _depth += 1


@contextlib.contextmanager
def guard_sockets():
    """guard_process() for the length of a block."""
    global _depth
    guard_process()
    try:
        yield
    finally:
        _depth -= 1
