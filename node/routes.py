"""net route: the device's static routes, installed in its own network namespace.

The daemon runs inside the node's namespace (or container), so the routes it adds go there and
nowhere else: never on the host. A route whose gateway is on the management network is not
installed (a BIG-IP's `net route` is for its data VLANs; management routes are another object),
so lab traffic cannot leave through the host.

Route domains other than 0 are routing tables (table ID) in the same namespace: a rule sends
what comes in on, or goes out of, each of the route domain's VLANs to its table, which ends in an
unreachable default (nothing falls through to route domain 0's), and the VLAN's connected network
moves from the main table to it. (Policy routing, not VRF devices: the lab's kernels need not have
VRF support; docs/design.md says what differs.) A route in route domain N
(`10.0.0.0%N/8 gw 10.1.1.1%N`) goes into table N.
"""
from __future__ import annotations

import ipaddress

from .netlink import IPRoute, NetlinkError

from .config import route_domains
from .config.schema import plain, rd_of
from .config.store import ConfigStore
from .events import ConfigCommitted, Hub

PROTO = 4   # RTPROT_STATIC: ours, so a restart finds and replaces them


def wanted(routes: dict[str, dict], mgmt_network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> dict:
    """net route objects -> {(destination, gateway, table): mtu} the kernel should have (sans-IO);
    table 0 is the main one, N route domain N's."""
    out = {}
    for values in routes.values():
        gw = ipaddress.ip_address(plain(values["gw"]))
        if gw.version != mgmt_network.version or gw in mgmt_network and not rd_of(values["gw"]):
            continue
        network = plain(values["network"])
        dst = "0.0.0.0/0" if network == "default" else network
        out[(dst, str(gw), rd_of(values["gw"]))] = values.get("mtu", 0)
    return out


RULE_PRIORITY = 200          # after the transparent proxy's fwmark rule (100), before the main table
UNREACHABLE_METRIC = 4278198272   # the table's last word, as a VRF's


def rd_rules(want: dict[int, tuple[str, ...]]) -> set[tuple[str, str, int]]:
    """(direction iif/oif, interface, table) of every rule the route domains want (sans-IO)."""
    return {(d, i, rd) for rd, ifaces in want.items() for i in ifaces for d in ("iif", "oif")}


class Routes:
    def __init__(self, store: ConfigStore, events: Hub, log, mgmt_network: str):
        self.store, self.log = store, log
        self.mgmt = ipaddress.ip_network(mgmt_network, strict=False)
        self.installed: dict = {}
        events.subscribe(ConfigCommitted, self._on_commit)

    def _on_commit(self, event: ConfigCommitted) -> None:
        if any(c.type in ("net route-domain", "net vlan") for c in event.changes):
            self.sync_route_domains()
            self.installed.clear()   # a route's table may have moved with its VLAN: put them back
        if any(c.type in ("net route", "net route-domain", "net vlan") for c in event.changes):
            self.sync()

    def sync_route_domains(self) -> None:
        """Each route domain other than 0 its table, with its VLANs' rules and connected networks."""
        want = route_domains.vrfs(self.store.of_type)
        try:
            with IPRoute() as ipr:
                self._sync_route_domains(ipr, want)
        except (NetlinkError, OSError) as exc:
            self.log.log("err", "tmm", f"route domains: the routing tables could not be set: {exc}")

    def _sync_route_domains(self, ipr, want: dict[int, tuple[str, ...]]) -> None:
        index = {ln.get_attr("IFLA_IFNAME"): ln["index"] for ln in ipr.get_links()}
        name = {i: n for n, i in index.items()}
        have = set()
        for r in ipr.get_rules(family=2):
            if r.get_attr("FRA_PRIORITY") == RULE_PRIORITY:
                d = "iif" if r.get_attr("FRA_IIFNAME") else "oif"
                have.add((d, r.get_attr("FRA_IIFNAME") or r.get_attr("FRA_OIFNAME"), r.get_attr("FRA_TABLE")))
        wanted_rules = {r for r in rd_rules(want) if r[1] in index}
        for d, iface, table in have - wanted_rules:
            ipr.rule("del", priority=RULE_PRIORITY, table=table, **{f"{d}name": iface})
        for d, iface, table in wanted_rules - have:
            ipr.rule("add", priority=RULE_PRIORITY, table=table, **{f"{d}name": iface})
        in_rd = {i: rd for rd, ifaces in want.items() for i in ifaces if i in index}
        old_tables = {t for _, _, t in have}
        for table in old_tables | set(want):
            ipr.flush_routes(table=table)
        nets: dict[int, list] = {}
        for a in ipr.get_addr(family=2):
            iface, plen = name.get(a["index"]), a["prefixlen"]
            if iface is None or plen == 32 or iface == "lo":
                continue
            addr = a.get_attr("IFA_ADDRESS")
            net = str(ipaddress.ip_interface(f"{addr}/{plen}").network)
            rd = in_rd.get(iface, 0)
            if rd:
                nets.setdefault(rd, []).append((ipaddress.ip_network(net), iface))
                ipr.route("replace", dst=net, oif=a["index"], table=rd, scope="link", prefsrc=addr, proto=PROTO)
                try:
                    ipr.route("del", dst=net, oif=a["index"], table=254, scope=253)   # not route domain 0's any more
                except NetlinkError:
                    pass
            elif iface in {i for _, i, _ in have}:   # out of its route domain: back in the main table
                ipr.route("replace", dst=net, oif=a["index"], table=254, scope="link", prefsrc=addr, proto=2)
        for rd in want:
            ipr.route("replace", dst="0.0.0.0/0", type="unreachable", table=rd, priority=UNREACHABLE_METRIC)
        route_domains.set_interfaces({rd: nets.get(rd, []) or [(None, i) for i in want[rd] if i in index]
                                      for rd in want})

    def sync(self) -> None:
        want = wanted(self.store.of_type("net route"), self.mgmt)
        with IPRoute() as ipr:
            for key, mtu in list(self.installed.items()):
                if want.get(key) != mtu:
                    self._change(ipr, "del", *key, mtu)
            for key, mtu in want.items():
                if key not in self.installed:
                    self._change(ipr, "add", *key, mtu)

    def _change(self, ipr, verb: str, dst: str, gw: str, table: int, mtu: int) -> None:
        kwargs = {"dst": dst, "gateway": gw, "proto": PROTO, **({"table": table} if table else {})}
        if mtu:
            kwargs["metrics"] = {"mtu": mtu}
        try:
            ipr.route(verb, **kwargs)
        except NetlinkError as exc:
            if verb == "add" and exc.code != 17:   # 17: it is there already
                self.log.log("err", "tmm", f"net route {dst} via {gw} not installed: {exc.args[-1]}")
                return
        if verb == "add":
            self.installed[(dst, gw, table)] = mtu
        else:
            self.installed.pop((dst, gw, table), None)
