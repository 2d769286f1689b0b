"""net route: the device's static routes, installed in its own network namespace.

The daemon runs inside the node's namespace (or container), so the routes it adds go there and
nowhere else: never on the host. A route whose gateway is on the management network is not
installed (a BIG-IP's `net route` is for its data VLANs; management routes are another object),
so lab traffic cannot leave through the host.
"""
from __future__ import annotations

import ipaddress

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from .config.store import ConfigStore
from .events import ConfigCommitted, Hub

PROTO = 4   # RTPROT_STATIC: ours, so a restart finds and replaces them


def wanted(routes: dict[str, dict], mgmt_network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> dict:
    """net route objects -> {(destination, gateway): mtu} the kernel should have (sans-IO)."""
    out = {}
    for values in routes.values():
        gw = ipaddress.ip_address(values["gw"])
        if gw.version != mgmt_network.version or gw in mgmt_network:
            continue
        dst = "0.0.0.0/0" if values["network"] == "default" else values["network"]
        out[(dst, str(gw))] = values.get("mtu", 0)
    return out


class Routes:
    def __init__(self, store: ConfigStore, events: Hub, log, mgmt_network: str):
        self.store, self.log = store, log
        self.mgmt = ipaddress.ip_network(mgmt_network, strict=False)
        self.installed: dict = {}
        events.subscribe(ConfigCommitted, self._on_commit)

    def _on_commit(self, event: ConfigCommitted) -> None:
        if any(c.type == "net route" for c in event.changes):
            self.sync()

    def sync(self) -> None:
        want = wanted(self.store.of_type("net route"), self.mgmt)
        with IPRoute() as ipr:
            for (dst, gw), mtu in list(self.installed.items()):
                if want.get((dst, gw)) != mtu:
                    self._change(ipr, "del", dst, gw, mtu)
            for (dst, gw), mtu in want.items():
                if (dst, gw) not in self.installed:
                    self._change(ipr, "add", dst, gw, mtu)

    def _change(self, ipr, verb: str, dst: str, gw: str, mtu: int) -> None:
        kwargs = {"dst": dst, "gateway": gw, "proto": PROTO}
        if mtu:
            kwargs["metrics"] = {"mtu": mtu}
        try:
            ipr.route(verb, **kwargs)
        except NetlinkError as exc:
            if verb == "add" and exc.code != 17:   # 17: it is there already
                self.log.log("err", "tmm", f"net route {dst} via {gw} not installed: {exc.args[-1]}")
                return
        if verb == "add":
            self.installed[(dst, gw)] = mtu
        else:
            self.installed.pop((dst, gw), None)
