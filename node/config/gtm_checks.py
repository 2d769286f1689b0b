"""What the store checks for GTM objects: subcollection items, references, what is in use.

Called by store.py on the whole working configuration of a commit, so a refused change leaves
everything as it was. Errors are F5's, from the
catalogue (node/errors.py).
"""
from __future__ import annotations

import ipaddress
import re

from ..errors import Exists, Invalid, NotFound
from .zones import ZoneError, validate
from .monitor_rules import canonical as monitor_rule, names as monitor_names
from .schema import GTM_ALL_TYPES, ObjType, Field, base_name, coerce, full_path

SERVER_MEMBERS = ("a", "aaaa")   # pools whose members are SERVER:VIRTUAL; the others' are names
# a GTM server's virtual-server names take more than an object's: F5's own AS3 example names one
# "testServer(192_0_2_4)"
VS_NAME = re.compile(r"^[A-Za-z0-9_.:%-][A-Za-z0-9_.:%()-]*$")


def vs_name(raw: str) -> str:
    """A GTM server's virtual-server name as F5 keeps it (without a /Common/ folder; a discovered
    virtual of another partition by its full path, /P/A/vs)."""
    name = raw.removeprefix("/Common/")
    if raw.startswith("/") and not raw.startswith("/Common/"):
        return full_path(raw)
    return name if VS_NAME.match(name) else base_name(full_path(raw))

# methods the emulation decides with; the others are F5 names it accepts nowhere (clear refusal)
EMULATED = {"round-robin", "ratio", "topology", "global-availability", "least-connections", "return-to-dns",
            "drop-packet", "fallback-ip", "none", "static-persistence"}
# location terms (no GeoIP or ISP database in the lab: stored, they never match a lab client)
GEO_KINDS = ("isp", "geoip-isp", "state", "country", "continent")
SOURCE_KINDS = ("subnet", "region", *GEO_KINDS)   # F5: an LDNS is never a datacenter or pool
DEST_KINDS = ("subnet", "region", "datacenter", "pool", *GEO_KINDS)


def item_name(t: ObjType, f: Field, raw: str) -> str:
    """Names of subcollection items as F5 keeps them: pools and members with their folder."""
    if f.name in ("pools", "pools-cname", "persist", "clone-pools", "remote-servers"):   # a virtual's persistence profiles, syslog's servers too
        return full_path(raw)
    if f.name == "members" and t.path == "gtm prober-pool":   # its members are servers
        return full_path(raw)
    if f.name == "members" and t.path.split()[-1] in SERVER_MEMBERS:
        server, sep, vs = raw.removeprefix("/Common/").partition(":")
        if not sep or not server or not vs:
            raise Invalid(f'invalid pool member "{raw}": give it as SERVER:VIRTUAL-SERVER')
        return f"{full_path(server)}:{vs_name(vs)}"
    if f.name == "addresses":
        try:
            return str(ipaddress.ip_address(raw))
        except ValueError:
            raise Invalid(f'"{raw}" is not a valid IP address') from None
    return vs_name(raw) if f.name == "virtual-servers" else raw


def items(t: ObjType, f: Field, have: list, verb: str, value) -> list:
    """A subcollection (`addresses`, `virtual-servers`, pool `members`, wide IP `pools`) changed
    with add / delete / modify / set, as tmsh's `members add { P1 { ratio 2 } }`."""
    subs = {s.name: s for s in f.sub}
    by_name = {i["name"]: dict(i) for i in have}
    label = f"{t.label} {f.name}"
    order = order_key(f)
    if verb == "set":
        by_name, verb = {}, "add"
    for raw, props in (value or {}).items():
        name = item_name(t, f, str(raw))
        if verb == "delete":
            if by_name.pop(name, None) is None:
                raise NotFound(f"{label} item", name)
            continue
        if verb == "add":
            if name in by_name:
                raise Exists(f"{label} item", name)
            item = {"name": name, **{s.name: s.default for s in f.sub if s.default is not None}}
            if order and order not in (props or {}):
                item[order] = len(by_name)
        elif verb == "modify":
            if name not in by_name:
                raise NotFound(f"{label} item", name)
            item = by_name[name]
        else:
            raise Invalid(f'"{verb}" does not apply to {f.name}')
        for k, v in (props or {}).items():
            if k not in subs:
                raise Invalid(f'{f.name} item has no property "{k}"')
            item[k] = coerce(t, subs[k], v)
        by_name[name] = item
    return sorted(by_name.values(), key=lambda i: (i.get(order, 0), i["name"]))


def order_key(f: Field) -> str | None:
    """Pool members are ordered by `member-order`, a wide IP's pools by `order`, a policy's rules by
    `ordinal` (F5's names)."""
    return next((k for k in ("member-order", "order", "ordinal") if any(s.name == k for s in f.sub)), None)


def next_order(work: dict) -> int:
    return 1 + max((v.get("order") or 0 for (t, _), v in work.items() if t == "gtm topology"), default=0)


def _exists(work: dict, kind: str, value: str) -> bool:
    if kind == "region":
        return ("gtm region", value) in work
    if kind == "datacenter":
        return ("gtm datacenter", value) in work
    if kind == "pool":
        return any((f"gtm pool {rt}", value) in work for rt in GTM_ALL_TYPES)
    return True


def _check_term(work: dict, term: str, where: str, kinds: tuple) -> None:
    kind, value = term.removeprefix("not ").split(" ", 1)
    if kind not in kinds:
        raise Invalid(f"{where}: an LDNS is not matched by {kind}; use " + " or ".join(kinds))
    if not _exists(work, kind, value):
        label = {"region": "Region", "datacenter": "Datacenter", "pool": "Pool"}[kind]
        raise NotFound(label, value)


def _region_cycle(work: dict, start: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        r = todo.pop()
        for term in (work.get(("gtm region", r)) or {}).get("region-members") or []:
            kind, value = term.removeprefix("not ").split(" ", 1)
            if kind == "region":
                if value == start:
                    return True
                if value not in seen:
                    seen.add(value)
                    todo.append(value)
    return False


def check(work: dict, touched: dict) -> None:
    """Each GTM object the commit creates or changes, checked against the whole configuration."""
    for (tname, path), verb in touched.items():
        if verb == "del" or not tname.startswith("gtm "):
            continue
        checker = CHECKS.get(" ".join(tname.split()[:2]))   # "gtm pool a" -> "gtm pool"
        if checker:
            checker(work, tname, path, work[(tname, path)])


def _check_pool(work: dict, tname: str, path: str, v: dict) -> None:
    for mode in ("load-balancing-mode", "alternate-mode", "fallback-mode"):
        if v.get(mode) not in EMULATED:
            raise Invalid(f"pool {path}: {mode} {v.get(mode)} is not emulated (use "
                          + ", ".join(sorted(EMULATED)) + ")")
    if v.get("fallback-ip", "any") != "any":
        try:
            ipaddress.ip_address(v["fallback-ip"])
        except ValueError:
            raise Invalid(f'pool {path}: fallback-ip "{v["fallback-ip"]}" is not an IP address') from None
    for where in _monitor_users(tname, v):
        _check_monitors(work, where)
    if tname.split()[-1] not in SERVER_MEMBERS:
        return
    for m in v.get("members") or []:
        server_path, vs = m["name"].rsplit(":", 1)
        server = work.get(("gtm server", server_path))
        if server is None:
            raise NotFound("Server", server_path)
        declared = {i["name"] for i in server.get("virtual-servers") or []}
        discovers = server.get("product") == "bigip" and server.get("virtual-server-discovery", "disabled") != "disabled"
        if vs not in declared and not discovers:   # a discovering BIG-IP server learns its virtuals from iQuery
            raise NotFound("Virtual Server", f"{server_path}:{vs}")


def _check_monitors(work: dict, where: dict) -> None:
    """`where` (an object or an item) names existing gtm monitors; its rule is kept as F5 shows it."""
    if where.get("monitor") is not None and not str(where["monitor"]).strip():
        raise Invalid('monitor "": a monitor rule names a monitor, or is none or default')
    for name in monitor_names(where.get("monitor")):
        if not any(t.startswith("gtm monitor ") and p == name for t, p in work):
            raise NotFound("Monitor", name)
    if where.get("monitor") is not None:
        where["monitor"] = monitor_rule(where["monitor"])


def _monitor_users(tname: str, v: dict) -> list[dict]:
    """A pool and its members, or a server and its virtual servers: what may name a monitor."""
    if tname.startswith("gtm pool ") or tname == "gtm server":
        return [v] + (v.get("members") or []) + (v.get("virtual-servers") or [])
    return []


def _check_monitor(work: dict, tname: str, path: str, v: dict) -> None:
    """A user monitor inherits from a monitor of its own type."""
    parent = v.get("defaults-from", "none")
    if parent != "none" and (tname, full_path(parent)) not in work:
        raise NotFound("Monitor", full_path(parent))


def _check_wideip(work: dict, tname: str, path: str, v: dict) -> None:
    """Its pools exist; the last-resort pool is kept with its folder."""
    rt = tname.rsplit(" ", 1)[1]
    refs = [p["name"] for p in v.get("pools") or []]
    if v.get("last-resort-pool", "none") != "none":
        kind, sep, pool = v["last-resort-pool"].partition(" ")   # F5's REST form: "a /Common/p"
        if sep and kind == rt:
            v["last-resort-pool"] = pool
        v["last-resort-pool"] = full_path(v["last-resort-pool"])
        refs.append(v["last-resort-pool"])
    for p in refs:
        if (f"gtm pool {rt}", p) not in work:
            raise NotFound("Pool", p)
    for p in v.get("pools-cname") or []:
        if ("gtm pool cname", p["name"]) not in work:
            raise NotFound("Pool", p["name"])
    for r in v.get("rules") or []:
        if ("gtm rule", r) not in work:
            raise NotFound("Rule", r)
    for alias in v.get("aliases") or []:
        full_path(alias, wild=True)


def _check_server(work: dict, tname: str, path: str, v: dict) -> None:
    for vs in v.get("virtual-servers") or []:
        if not vs.get("destination"):
            raise Invalid(f"server {path}: virtual server {vs['name']} requires a destination")
    if not v.get("addresses"):
        raise Invalid(f"server {path} requires at least one address")
    for where in _monitor_users(tname, v):
        _check_monitors(work, where)


def _check_region(work: dict, tname: str, path: str, v: dict) -> None:
    for term in v.get("region-members") or []:
        _check_term(work, term, f"region {path}", DEST_KINDS)
    if _region_cycle(work, path):
        raise Invalid(f"region {path} contains itself")


def _check_topology(work: dict, tname: str, path: str, v: dict) -> None:
    src, dst = path.removeprefix("ldns: ").split(" server: ")
    _check_term(work, src, "topology ldns", SOURCE_KINDS)
    _check_term(work, dst, "topology server", DEST_KINDS)


def _check_zone(work: dict, tname: str, path: str, v: dict) -> None:
    try:
        validate(base_name(path), v.get("records") or [])
    except ZoneError as exc:
        raise Invalid(f"zone {base_name(path)}: {exc}") from None


def _check_listener(work: dict, tname: str, path: str, v: dict) -> None:
    for (ot, op), ov in work.items():
        if ot == tname and op != path and (ov.get("address"), ov.get("port")) == (v["address"], v["port"]):
            raise Invalid(f"listeners {path} and {op} have the same address {v['address']}")


def _check_prober_pool(work: dict, tname: str, path: str, v: dict) -> None:
    for m in v.get("members") or []:
        if ("gtm server", m["name"]) not in work:
            raise NotFound("Server", m["name"])


CHECKS = {"gtm pool": _check_pool, "gtm wideip": _check_wideip, "gtm server": _check_server,
          "gtm prober-pool": _check_prober_pool,
          "gtm region": _check_region, "gtm topology": _check_topology, "gtm zone": _check_zone,
          "gtm listener": _check_listener, "gtm monitor": _check_monitor}


def _uses(tname: str, path: str, ot: str, ov: dict, op: str) -> bool:
    if tname.startswith("gtm monitor "):
        return any(path in monitor_names(u.get("monitor")) for u in _monitor_users(ot, ov)) or (
            ot == tname and ov.get("defaults-from") not in (None, "none") and full_path(ov["defaults-from"]) == path)
    if tname == "gtm datacenter" and ot == "gtm server" and ov.get("datacenter") == path:
        return True
    if tname == "gtm server":
        return (ot.startswith("gtm pool ") and ot.split()[-1] in SERVER_MEMBERS and any(
            m["name"].rsplit(":", 1)[0] == path for m in ov.get("members") or [])) or (
            ot == "gtm prober-pool" and path in [m["name"] for m in ov.get("members") or []])
    if tname == "gtm prober-pool":
        return ot == "gtm server" and ov.get("prober-pool") == path
    terms = []
    if ot == "gtm region":
        terms = ov.get("region-members") or []
    elif ot == "gtm topology":
        terms = op.removeprefix("ldns: ").split(" server: ")
    kind = {"gtm region": "region", "gtm datacenter": "datacenter"}.get(tname, "pool")
    if any(t.removeprefix("not ") == f"{kind} {path}" for t in terms):
        return True
    if tname.startswith("gtm pool ") and ot == tname.replace("pool", "wideip"):
        return path in [p["name"] for p in ov.get("pools") or []] or ov.get("last-resort-pool") == path
    if tname == "gtm pool cname" and ot.startswith("gtm wideip "):
        return path in [p["name"] for p in ov.get("pools-cname") or []]
    if tname == "gtm rule" and ot.startswith("gtm wideip "):
        return path in (ov.get("rules") or ())
    return False


def user_of(work: dict, tname: str, path: str):
    """The first object that uses the one being deleted, or None."""
    for (ot, op), ov in work.items():
        if _uses(tname, path, ot, ov, op):
            return ot, op
    return None
