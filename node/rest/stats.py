"""iControl REST statistics: F5's `entries` / `nestedStats` shapes, filled from the live LTM and CM."""
from __future__ import annotations

from ..config.access import may_read
from ..config.fqdn_checks import is_template
from ..config.schema import ANY6, LOCAL_ONLY, base_name, full_path
from ..errors import NotFound
from . import resources as res
from .errors import answer
from .nic import mac_of
from .parts import Parts
from .resources import kind, link, tilde


def entries(values: dict) -> dict:
    """{name: value} -> F5's {name: {"value": n}} or {name: {"description": text}}."""
    out = {}
    for k, v in values.items():
        if isinstance(v, dict):
            out[k] = v
        elif isinstance(v, int) and not isinstance(v, bool):
            out[k] = {"value": v}
        else:
            out[k] = {"description": str(v)}
    return out


def nested(values: dict, **extra) -> dict:
    return {"nestedStats": {**extra, "entries": entries(values)}}


def version(module: str, values: dict) -> dict:
    return {"kind": f"tm:{module}:version:versionstats", "selfLink": link(f"/mgmt/tm/{module}/version"),
            "entries": {f"https://localhost/mgmt/tm/{module}/version/0": nested(values)}}


def sync_status(s: dict) -> dict:
    details = {f"https://localhost/mgmt/tm/cm/syncStatus/0/details/{n}": nested({"details": text})
               for n, text in enumerate(s.get("details") or ())}
    body = {"color": s["color"], "mode": "high-availability" if s["groups"] else "standalone",
            "status": s["status"], "summary": s.get("summary") or s["status"],
            "https://localhost/mgmt/tm/cm/syncStatus/0/details": {"nestedStats": {"entries": details}}}
    return {"kind": "tm:cm:sync-status:sync-statusstats", "selfLink": link("/mgmt/tm/cm/sync-status"),
            "entries": {"https://localhost/mgmt/tm/cm/sync-status/0": nested(body)}}


def failover_status(f: dict) -> dict:
    details = {}
    for n, (tg, st) in enumerate(sorted(f["traffic_groups"].items())):
        details[f"https://localhost/mgmt/tm/cm/failoverStatus/0/details/{n}"] = nested(
            {"details": f"{st} for /Common/{tg}"})
    active = sum(1 for st in f["traffic_groups"].values() if st == "active")
    body = {"color": "green" if f["state"] == "active" else "gray", "status": f["state"].upper(),
            "summary": f"{active}/{len(f['traffic_groups'])} active",
            "https://localhost/mgmt/tm/cm/failoverStatus/0/details": {"nestedStats": {"entries": details}}}
    for tg, warning in f["split_brain"].items():
        body[f"warning {tg}"] = warning
    return {"kind": "tm:cm:failover-status:failover-statusstats", "selfLink": link("/mgmt/tm/cm/failover-status"),
            "entries": {"https://localhost/mgmt/tm/cm/failover-status/0": nested(body)}}


# -- object statistics ----------------------------------------------------------------------------
def _traffic(s: dict, side: str) -> dict:
    return {f"{side}.curConns": s["cur_conns"], f"{side}.totConns": s["tot_conns"],
            f"{side}.bitsIn": s["bytes_in"] * 8, f"{side}.bitsOut": s["bytes_out"] * 8,
            f"{side}.pktsIn": 0, f"{side}.pktsOut": 0, f"{side}.maxConns": s["cur_conns"]}


def _status(avail: str, enabled: str, reason: str) -> dict:
    return {"status.availabilityState": avail, "status.enabledState": enabled, "status.statusReason": reason}


def _template_stats(parts: Parts, pool: str, member: str) -> dict | None:
    """An FQDN template member: no traffic of its own (its ephemeral members carry it); its node's
    state as its monitor status. None if the pool has no such member."""
    values = next((m for m in parts.store.get("ltm pool", pool)["members"] if m["name"] == member), None)
    if values is None or not is_template(values):
        return None
    node, port = member.rsplit(":", 1)
    idle = {"cur_conns": 0, "tot_conns": 0, "bytes_in": 0, "bytes_out": 0}
    session = "user-disabled" if values.get("session") == "user-disabled" else "enabled"
    return {"addr": ANY6, "nodeName": node, "poolName": pool, "port": int(port), **_traffic(idle, "serverside"),
            "curSessions": 0, "totRequests": 0, "sessionStatus": session,
            "monitorStatus": parts.ltm.fqdn_state(node),
            **_status("unknown", session, "The FQDN template's ephemeral members carry its traffic")}


def object_stats(parts: Parts, type_: str, path: str, member: str | None = None) -> dict | None:
    """The stats entries of one object, or None if it does not exist (or the user may not see it)."""
    ltm, store = parts.ltm, parts.store
    if not may_read(type_, path):
        return None
    if type_ == "ltm pool":
        p = ltm.pool_report().get(path)
        if p is None or store.get(type_, path) is None:
            return None
        if member is not None:
            m = p["members"].get(member)
            addr, port = member.rsplit(":", 1)
            if m is None:
                return _template_stats(parts, path, member)
            mv = next(x for x in (store.get(type_, path)["members"]) if x["name"] == member)
            return {"addr": mv["address"], "nodeName": addr, "poolName": path, "port": int(port),
                    **_traffic(m["stats"], "serverside"), "curSessions": m["stats"]["cur_conns"],
                    "totRequests": m["stats"]["tot_conns"],
                    "sessionStatus": "user-disabled" if m["session"] == "user-disabled" else "enabled",
                    "monitorStatus": "user-down" if m["state"] == "user-down" else m["monitor"],
                    **_status(m["availability"], "disabled" if m["session"] == "user-disabled" else "enabled",
                              m["reason"])}
        members = p["members"].values()
        return {"tmName": path, "activeMemberCnt": sum(1 for m in members if m["availability"] == "available"),
                "availableMemberCnt": sum(1 for m in members if m["availability"] in ("available", "unknown")),
                "memberCnt": len(p["members"]), "curSessions": p["stats"]["cur_conns"],
                **_traffic(p["stats"], "serverside"), **_status(p["availability"], "enabled", p["reason"])}
    if type_ == "ltm virtual":
        v = ltm.virtual_health().get(path)
        if v is None:
            return None
        return {"tmName": path, "destination": v["destination"], **_traffic(v["stats"], "clientside"),
                "totRequests": v["stats"]["tot_conns"],
                **_status(v["availability"], "disabled" if v["availability"] == "offline" and
                          v["reason"].endswith("disabled") else "enabled", v["reason"])}
    if type_ == "gtm server" and member is not None:
        return _gtm_virtual(parts, path, base_name(member))
    values = store.get(type_, path)
    if values is None:
        return None
    if type_ == "ltm node":
        members = [m for p in ltm.pool_report().values() for name, m in p["members"].items()
                   if name.rsplit(":", 1)[0] == path]     # a member /P/10.1.20.21:80 is of node /P/10.1.20.21
        cur = sum(m["stats"]["cur_conns"] for m in members)
        avail = "available" if any(m["availability"] == "available" for m in members) else (
            "offline" if members else "unknown")
        return {"tmName": path, "addr": values["address"], "curSessions": cur, "serverside.curConns": cur,
                "sessionStatus": "user-disabled" if values.get("session") == "user-disabled" else "enabled",
                "monitorStatus": "unchecked",
                "monitorRule": "none" if values.get("monitor", "none") == "none" else (
                    values["monitor"] if " " in values["monitor"].strip() else full_path(values["monitor"])),
                **_status(avail, "disabled" if values.get("session") == "user-disabled" else "enabled",
                          "Node address is " + avail)}
    if type_ == "net vlan":   # the VLAN is the node's interface of that name
        return {"tmName": path, "id": values.get("tag", 4094), "macTrue": mac_of(ifname=base_name(path))}
    return {"tmName": path}


def _gtm_virtual(parts: Parts, server: str, vs: str) -> dict | None:
    """A GTM server's virtual server as BIG-IP DNS sees it (the metrics the lab does not gather are 0)."""
    st = parts.gtm.virtual_status(server, vs) if parts.gtm else None
    if st is None:
        return None
    item = next(i for i in parts.store.get("gtm server", server)["virtual-servers"] if i["name"] == vs)
    metrics = {f"metrics.{k}": 0 for k in ("bitsPerSecIn", "bitsPerSecOut", "pktsPerSecIn", "pktsPerSecOut",
                                            "connections", "connectionsRate", "vsScore")}
    return {"serverName": server, "vsName": vs, "tmName": f"{server}:{vs}", "picks": 0, "preferred": 0,
            "alternate": 0, "fallback": 0, "uptime": 0, **metrics,
            **_status(st.state, item.get("status", "enabled"), st.reason)}


def _rule(parts: Parts, path: str, url: str) -> dict:
    """An iRule's statistics: one entry per event, as F5 keys them (`~Common~r:HTTP_REQUEST`)."""
    if parts.store.get("ltm rule", path) is None or not may_read("ltm rule", path):
        raise answer(NotFound("Rule", path))
    out = {}
    for event, s in sorted(parts.ltm.rule_report().get(path, {}).items()):
        out[f"https://localhost{url}:{event}/stats"] = nested({
            "aborts": s["aborts"], "eventType": event, "failures": s["failures"], "priority": s["priority"],
            "tmName": path, "totalExecutions": s["executions"]})
    return {"kind": "tm:ltm:rule:rulestats", "selfLink": link(url + "/stats"), "entries": out}


def of(parts: Parts, r: res.Route) -> dict:
    """GET .../stats for a collection, an object, a member collection or a member."""
    url = res.object_url(r.type, r.path) if r.path else res.collection_url(r.type)
    if r.type == "ltm rule" and r.path:
        return _rule(parts, r.path, url)
    if r.type == "cm traffic-group":
        return _traffic_groups(parts, r)
    if r.path is None:
        out = {}
        for path in sorted(p for p in parts.store.of_type(r.type) if may_read(r.type, p)):
            one = _one(parts, r.type, path, None, res.object_url(r.type, path))
            out[link(res.object_url(r.type, path) + "/stats").split("?")[0]] = {
                "nestedStats": {"kind": kind(r.type, "stats"), "selfLink": link(res.object_url(r.type, path) + "/stats"),
                                "entries": one["entries"]}}
        return {"kind": kind(r.type, "collectionstats"), "selfLink": link(url + "/stats"), "entries": out}
    if r.sub == "members":
        base = f"{url}/members"
        if r.member is None:
            pool = parts.store.get(r.type, r.path) if may_read(r.type, r.path) else None
            if pool is None:
                raise answer(NotFound("Pool", r.path))
            out = {}
            for m in pool.get("members") or []:
                one = _one(parts, r.type, r.path, m["name"], f"{base}/{tilde(m['name'])}")
                out[f"https://localhost{base}/{tilde(m['name'])}/stats"] = {
                    "nestedStats": {"kind": "tm:ltm:pool:members:membersstats",
                                    "selfLink": link(f"{base}/{tilde(m['name'])}/stats"), "entries": one["entries"]}}
            return {"kind": "tm:ltm:pool:members:memberscollectionstats", "selfLink": link(f"{base}/stats"),
                    "entries": out}
        one = _one(parts, r.type, r.path, r.member, f"{base}/{tilde(r.member)}")
        return {"kind": "tm:ltm:pool:members:membersstats", "selfLink": link(f"{base}/{tilde(r.member)}/stats"),
                **one}
    if r.sub == "virtual-servers" and r.member is not None:
        return {"kind": kind(f"{r.type} {r.sub}", "stats"),
                "selfLink": link(f"{url}/virtual-servers/{base_name(r.member)}/stats"),
                **_one(parts, r.type, r.path, r.member, f"{url}/virtual-servers")}
    return {"kind": kind(r.type, "stats"), "generation": parts.store.generations.get((r.type, r.path), 0),
            "selfLink": link(url + "/stats"), **_one(parts, r.type, r.path, None, url)}


def _one(parts: Parts, type_: str, path: str, member: str | None, url: str) -> dict:
    values = object_stats(parts, type_, path, member)
    if values is None:
        item = "Virtual Server" if type_ == "gtm server" else "Pool Member"
        raise answer(NotFound(item, member) if member else NotFound(res.TYPES[type_].label, path))
    leaf = tilde(member or path)
    return {"entries": {f"https://localhost{url}/{leaf}/stats": nested(values)}}


def _traffic_groups(parts: Parts, r) -> dict:
    """Each traffic group's state on each device. Without network failover a device is active for
    every traffic group; traffic-group-local-only is active on each device, for that device only."""
    peers = parts.cluster.peers()
    states = parts.cluster.traffic_groups()
    out = {}
    for tg_path in sorted(parts.store.of_type("cm traffic-group")):
        tg = base_name(tg_path)
        if r.path is not None and r.path != tg_path:
            continue
        rows = [(parts.device.name, "active" if tg_path == LOCAL_ONLY or not states else states.get(tg, "standby"))]
        if tg_path != LOCAL_ONLY:
            rows += [(name, info.get("failover", {}).get("tgs", {}).get(tg, "unknown"))
                     for name, info in sorted(peers.items())]
        nxt = {r["device"] for r in parts.cluster.failover_status().get("groups", ()) if r["tg"] == tg and r["next_active"]}
        for device, st in rows:
            key = f"https://localhost/mgmt/tm/cm/traffic-group/{tilde(tg_path)}:~Common~{device}/stats"
            out[key] = nested({"deviceName": f"/Common/{device}", "trafficGroup": tg_path, "failoverState": st,
                               "activeReason": "-" if st != "active" else "active",
                               "nextActive": "true" if device in nxt else "false"})
    url = res.object_url(r.type, r.path) if r.path else res.collection_url(r.type)
    return {"kind": kind(r.type, "stats" if r.path else "collectionstats"), "selfLink": link(url + "/stats"),
            "entries": out}
