"""The GTM configuration and health compiled into what the answerer reads (sans-IO).

Compiled again on every configuration change and every health change; the DNS hot path only
reads the result. Member status follows F5's colours: available (green), offline (red), unknown
(blue). An LTM's own "unknown" (no health checks) is blue and still load balanced to, as on a
BIG-IP; a member whose LTM is out of reach (channel down, data stale) is unknown and is not.
"""
from __future__ import annotations

import fnmatch
import ipaddress
import re
from dataclasses import dataclass, field

import dns.name

from ..config.schema import GTM_RECORD_TYPES, GTM_SETTINGS, PARTITION, base_name, split_destination
from . import lb
from ..config import zones
from .health import HealthTable
from .topology import Record, Regions, Topology


@dataclass
class MemberStatus:
    state: str        # available offline unknown
    reason: str
    usable: bool      # a candidate for load balancing


@dataclass
class View:
    pools: dict = field(default_factory=dict)        # (rtype, path) -> lb.Pool
    wideips: dict = field(default_factory=dict)      # (name, rtype) -> lb.WideIP (names and aliases)
    wildcards: list = field(default_factory=list)    # (regex, rtype, lb.WideIP)
    topology: Topology | None = None
    zones: dict = field(default_factory=dict)        # dns.name.Name -> zones.Zone
    members: dict = field(default_factory=dict)      # (pool path, member) -> MemberStatus
    servers: dict = field(default_factory=dict)      # server path -> health.ServerView
    probed: dict = field(default_factory=dict)       # (server, virtual server) -> the prober's verdict

    def pools_of(self, rtype: str) -> dict:
        return {p: v for (t, p), v in self.pools.items() if t == rtype}

    def wideip(self, qname: str, rtype: str):
        wip = self.wideips.get((qname, rtype))
        if wip is not None:
            return wip
        for rx, t, w in self.wildcards:
            if t == rtype and rx.match(qname):
                return w
        return None

    def names(self, qname: str) -> bool:
        """Is this a wide IP name of any type?"""
        return any(self.wideip(qname, t) is not None for t in GTM_RECORD_TYPES)


def reported(sv, vs_name: str) -> dict | None:
    """What the LTM reports of a virtual server: it keys them by full path (`/Common/vs`); a GTM
    virtual server named `vs` is /Common's."""
    return sv.virtuals.get(vs_name) or sv.virtuals.get(f"{PARTITION}/{vs_name}")


def vs_status(server: dict, vs_name: str, sv, probed: tuple[str, str] | None = None) -> tuple[str | None, MemberStatus]:
    """A server's virtual server: its address and status as the GTM sees it; `probed`: what the
    GTM's own prober found (probes.verdicts), which a down or checking result decides, an up one
    for a generic host."""
    declared = {i["name"]: i for i in server.get("virtual-servers") or []}
    vs = declared.get(vs_name)
    address = None
    if vs is not None:
        address, port = split_destination(vs["destination"])
        if vs.get("status") == "disabled":
            return address, MemberStatus("offline", "The virtual server is disabled", False)
    if probed is not None and probed[0] == "down":
        return address, MemberStatus("offline", probed[1], False)
    if probed is not None and probed[0] == "checking":
        return address, MemberStatus("unknown", probed[1], False)
    if server.get("product") == "generic-host":
        if probed is not None:
            return address, MemberStatus("available", "Monitor: up", True)
        return address, MemberStatus("unknown", "No monitor: checking disabled", True)
    if sv.state != "connected":
        return address, MemberStatus("unknown", sv.reason, False)
    info = reported(sv, vs_name)
    if info is None and vs is not None:
        want = f"{address}:{port}"
        info = next((v for v in sv.virtuals.values() if v.get("destination") == want), None)
    if info is None:
        return address, MemberStatus("unknown", f"{sv.device} reports no virtual server {vs_name}", False)
    if address is None:
        address = str(info.get("destination", "")).rsplit(":", 1)[0] or None
    avail = info.get("availability", "unknown")
    reason = f"{sv.device}: {info.get('reason', '')}"
    return address, MemberStatus(avail, reason, avail in ("available", "unknown"))


def _family_ok(address: str | None, rtype: str) -> bool:
    try:
        return ipaddress.ip_address(address).version == (6 if rtype == "aaaa" else 4)
    except (TypeError, ValueError):
        return False


def compile_view(objects: dict, health: HealthTable, now: float, connected, probed: dict | None = None) -> View:
    """objects: {(type, path): values} (the store's), health as of `now`; `probed`: the prober's
    verdicts by (server, virtual server)."""
    view = View(probed=probed or {})
    of = lambda t: {p: v for (tt, p), v in objects.items() if tt == t}  # noqa: E731
    datacenters = of("gtm datacenter")
    servers = of("gtm server")
    for path, s in servers.items():
        view.servers[path] = health.server([a["name"] for a in s.get("addresses") or []], now, connected)
    settings = objects.get(("gtm global-settings", GTM_SETTINGS)) or {}
    static_cidr = (settings.get("static-persist-cidr-ipv4", 32), settings.get("static-persist-cidr-ipv6", 128))
    for rtype in GTM_RECORD_TYPES:
        for path, p in of(f"gtm pool {rtype}").items():
            members = [_member(view, rtype, path, m, servers, datacenters) for m in p.get("members") or []]
            view.pools[(rtype, path)] = lb.Pool(
                path, tuple(members), p["load-balancing-mode"], p["alternate-mode"], p["fallback-mode"],
                p.get("fallback-ip", "any"), p["ttl"], p["max-answers-returned"],
                p["verify-member-availability"] == "enabled", p.get("status", "enabled") == "enabled", static_cidr,
                rtype == "cname")
        for path, w in of(f"gtm wideip {rtype}").items():
            _add_wideip(view, rtype, path, w)
    regions = Regions({p: v.get("region-members") or [] for p, v in of("gtm region").items()})
    records = [Record.parse(p, v.get("score", 1), v.get("order") or 0) for p, v in of("gtm topology").items()]
    view.topology = Topology(records, regions, settings.get("topology-longest-match", "yes") == "yes")
    for path, z in of("gtm zone").items():
        try:
            zone = zones.load(path.removeprefix("/Common/"), z.get("records") or [])
        except zones.ZoneError:
            continue   # cannot happen for committed zones: the store validated them
        view.zones[zone.origin] = zone
    return view


def _member(view: View, rtype: str, pool: str, m: dict, servers: dict, datacenters: dict) -> lb.Member:
    """One pool member as the balancer sees it; its status goes in view.members."""
    enabled = m.get("status", "enabled") == "enabled"
    if rtype == "cname":
        view.members[(pool, m["name"])] = MemberStatus("available", "static target", True)
        return lb.Member(m["name"], m["name"], None, True, enabled, m.get("member-order", 0), m.get("ratio", 1))
    server_path, vs_name = m["name"].rsplit(":", 1)
    server = servers.get(server_path) or {}
    dc = server.get("datacenter")
    sv = view.servers.get(server_path)
    address, status = vs_status(server, vs_name, sv, view.probed.get((server_path, vs_name)))
    if server.get("status") == "disabled" or (datacenters.get(dc) or {}).get("status") == "disabled":
        status = MemberStatus("offline", "The server or its datacenter is disabled", False)
    elif status.usable and not _family_ok(address, rtype):
        status = MemberStatus("offline", f"{address} is not an {rtype.upper()} address", False)
    conns = 0
    if sv is not None and reported(sv, vs_name) is not None:
        conns = int((reported(sv, vs_name).get("stats") or {}).get("cur_conns", 0))
    view.members[(pool, m["name"])] = status
    return lb.Member(m["name"], address, dc, status.usable, enabled, m.get("member-order", 0), m.get("ratio", 1), conns)


def _add_wideip(view: View, rtype: str, path: str, w: dict) -> None:
    """An enabled wide IP, under its name and each alias (those with * or ? as patterns)."""
    wip = lb.WideIP(base_name(path),   # its DNS name, in whatever folder (AS3 puts them in /Tenant/App)
                    tuple(lb.PoolRef(r["name"], r.get("order", 0), r.get("ratio", 1), kind == "pools-cname")
                          for kind in ("pools", "pools-cname") for r in w.get(kind) or []),
                    w["pool-lb-mode"], None if w.get("last-resort-pool", "none") == "none" else w["last-resort-pool"],
                    w.get("status", "enabled") == "enabled",
                    w["ttl-persistence"] if w.get("persistence") == "enabled" else 0,
                    (w["persist-cidr-ipv4"], w["persist-cidr-ipv6"]),
                    w.get("topology-prefer-edns0-client-subnet") == "enabled")
    if not wip.enabled:
        return
    for name in [wip.name, *(w.get("aliases") or [])]:
        name = name.lower().rstrip(".")
        if "*" in name or "?" in name:
            view.wildcards.append((re.compile(fnmatch.translate(name)), rtype, wip))
        else:
            view.wideips[(name, rtype)] = wip


def zone_for(view: View, qname: dns.name.Name):
    """The zone with the longest origin that contains qname, or None."""
    best = None
    for origin, zone in view.zones.items():
        if qname.is_subdomain(origin) and (best is None or len(origin) > len(best.origin)):
            best = zone
    return best
