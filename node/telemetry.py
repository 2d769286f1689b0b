"""F5 Telemetry Streaming on a node: the system poller's JSON and the Prometheus pull consumer.

Sans-IO. `poller(status, now)` turns a node's status record (node/status.py, as the daemon sends
it) into TS's system-poller shape (`system`, `virtualServers`, `pools`, `deviceGroups`,
`sslCerts`...); `families(poller)` turns that into gauges by TS's Prometheus rules:

- under a labelling key (virtualServers, pools, sslCerts...) a number is the gauge named by its
  own key, labelled by the path to it: pools -> P -> members -> M -> `serverside.curConns` is
  `f5_serverside_curConns{pools="P",members="M"}`;
- anywhere else the path joined by `_` is the name: `f5_system_tmmTraffic_bitsIn`;
- names have every run of characters outside [a-zA-Z0-9_:] replaced by `_`, prefixed `f5_`;
- strings that are not numbers are dropped (TS drops `availabilityState`), so the poller carries
  numeric twins of the states Prometheus should see (`failoverActive`, `available`...).
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict

from .status import LinkState

# TS's keys whose entries become labels (its Prometheus consumer's list), and ours: the 4353
# channels and the heartbeat paths, which a BIG-IP's TS does not report
LABELLED = ("virtualServers", "pools", "sslCerts", "aWideIps", "aaaaWideIps", "cnameWideIps",
            "mxWideIps", "srvWideIps", "naptrWideIps", "aPools", "aaaaPools", "cnamePools", "mxPools",
            "srvPools", "naptrPools", "iQueryChannels", "heartbeatPaths", "dnsListeners", "gtmServers")
HOISTED = {"system": ("diskStorage", "diskLatency", "networkInterfaces")}
_NAME = re.compile(r"[^a-zA-Z0-9_:]+")

AVAILABLE = {"available": 1, "unknown": 0, "offline": 0, "unavailable": 0}


def prom_name(name: str) -> str:
    return _NAME.sub("_", name)


def _full(name: str) -> str:
    return name if name.startswith("/") else f"/Common/{name}"


def _traffic(prefix: str, stats: dict) -> dict:
    return {f"{prefix}.curConns": stats["cur_conns"], f"{prefix}.totConns": stats["tot_conns"],
            f"{prefix}.bitsIn": stats["bytes_in"] * 8, f"{prefix}.bitsOut": stats["bytes_out"] * 8}


def _expiry(not_after: str) -> int | None:
    try:
        return int(dt.datetime.fromisoformat(not_after).timestamp())
    except (TypeError, ValueError):
        return None


def poller(status: dict, now: float) -> dict:
    """TS's system poller output for one node's status record; `now` is the device's clock
    (epoch seconds), for the certificates' seconds to expiry."""
    fo, sync, ltm, iq = status["failover"], status["sync"], status["ltm"], status["iquery"]
    state = fo["state"].upper()   # F5 prints ACTIVE, STANDBY, OFFLINE, FORCED OFFLINE
    system = {"hostname": f"{status['name']}.lab", "machineId": status["name"], "version": "",
              "failoverStatus": state, "syncStatus": sync["status"], "syncColor": sync["color"],
              "syncSummary": sync.get("summary", ""), "systemTimestamp": dt.datetime.fromtimestamp(
                  now, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
              "uptime": int(status["uptime"]),
              # numeric twins for Prometheus (it drops the strings above)
              "failoverActive": int(state == "ACTIVE"), "failoverStandby": int(state == "STANDBY"),
              "syncInSync": int(sync["status"] == "In Sync"), "failoverGarpsSent": fo["garps_sent"],
              "failoverBadHeartbeats": fo["bad_heartbeats"],
              "trafficGroupsActive": sum(1 for s in fo["traffic_groups"].values() if s == "active")}
    ntp = status.get("ntp")
    if ntp:
        system["ntpSynchronized"] = int(ntp["synchronized"])
        if ntp.get("offset_ms") is not None:
            system["ntpOffsetMs"] = ntp["offset_ms"]
    system["clockOffset"] = status["clock"]["offset"]
    out = {"system": system,
           "virtualServers": {_full(n): {"name": _full(n), "destination": v["destination"], "pool": _full(v["pool"]),
                                         "availabilityState": v["availability"], "status.statusReason": v["reason"],
                                         "enabledState": "enabled", "available": AVAILABLE.get(v["availability"], 0),
                                         **_traffic("clientside", v["stats"])}
                              for n, v in ltm["virtuals"].items()},
           "pools": {_full(n): _pool(n, p) for n, p in ltm["pools"].items()},
           "deviceGroups": {_full(g): {"name": _full(g), "type": d["type"], "syncStatus": d["status"],
                                       "inSync": int(d["status"] == "In Sync"), "commitIdTime": ""}
                            for g, d in sync["groups"].items()},
           "sslCerts": _certs(iq, now),
           "iQueryChannels": {peer: {"address": link["address"], "state": link["state"],
                                     "reason": link["reason"], "open": int(link["state"] == LinkState.CONNECTED)}
                              for peer, link in iq["peers"].items()},
           "heartbeatPaths": _paths(fo)}
    gtm = status.get("gtm")
    if gtm:
        out["dnsListeners"] = {_full(n): {"udpQueries": l["udp_queries"], "tcpQueries": l["tcp_queries"],
                                          "errors": l["errors"]} for n, l in gtm["listeners"].items()}
        out["gtmServers"] = {_full(n): {"available": int(s["state"] == "available"), "state": s["state"]}
                             for n, s in gtm["servers"].items()}
        system["dnsQueries"] = gtm["answerer"]["queries"]
        for key, stats in (gtm.get("wideips") or {}).items():   # TS's aWideIps, aaaaWideIps, cnameWideIps
            rtype, name = key.split(" ", 1)
            out.setdefault(f"{rtype}WideIps", {})[_full(name)] = {"name": _full(name), **stats}
    return out


def _pool(name: str, p: dict) -> dict:
    members = {_full(m): {"addr": m.rsplit("/", 1)[-1].rsplit(":", 1)[0], "port": int(m.rsplit(":", 1)[1]) if ":" in m else 0,
                          "availabilityState": r["availability"], "monitorStatus": r["monitor"],
                          "enabledState": "enabled" if r["session"] != "user-disabled" else "disabled",
                          "status.statusReason": r["reason"], "poolName": _full(name),
                          "available": AVAILABLE.get(r["availability"], 0), **_traffic("serverside", r["stats"])}
               for m, r in p["members"].items()}
    return {"name": _full(name), "availabilityState": p["availability"], "status.statusReason": p["reason"],
            "enabledState": "enabled", "available": AVAILABLE.get(p["availability"], 0),
            "activeMemberCnt": sum(m["available"] for m in members.values()),
            **_traffic("serverside", p["stats"]), "members": members}


def _certs(iq: dict, now: float) -> dict:
    cert = iq["trust"]["certificate"]
    name = "dtdi.crt"   # the device certificate 4353 presents (F5's /config/ssl/ssl.crt/dtdi.crt)
    expires = _expiry(cert["not_after"])
    entry = {"name": name, "issuer": cert["issuer"], "expirationString": cert["not_after"]}
    if expires is not None:
        entry |= {"expirationDate": expires, "expiresIn": int(expires - now)}
    return {name: entry}


def _paths(fo: dict) -> dict:
    out = {}
    for peer, p in fo["peers"].items():
        ages = p.get("ages") or {}
        for address, state in p["paths"].items():
            entry = {"heartbeatUp": int(state == "up")}
            if ages.get(address) is not None:
                entry["heartbeatAge"] = ages[address]
            out[f"{peer} {address}"] = entry
    return out


# -- TS's Prometheus rules ----------------------------------------------------------------------
def families(data: dict) -> dict[str, list[tuple[dict, float]]]:
    """TS's original metric name (`clientside.curConns`, `system_failoverActive`) -> [(labels, value)],
    by TS's Prometheus consumer's rules; `collect` names the gauges (f5_...)."""
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for top, keys in HOISTED.items():
        for key in keys:
            if key in data.get(top, {}):
                data[key] = data[top].pop(key)
    out: dict[str, list] = defaultdict(list)
    for key in LABELLED:
        if key in data:
            _labelled(data.pop(key), [key], out)
    _flat(data, "", out)
    return dict(out)


def _number(value) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _labelled(value, path: list[str], out: dict) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _labelled(v, path + [k], out)
        return
    number = _number(value)
    if number is not None:
        *where, name = path
        labels = {prom_name(where[i]): where[i + 1] for i in range(0, len(where) - 1, 2)}
        out[name].append((labels, number))


def _flat(value, prefix: str, out: dict) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flat(v, f"{prefix}_{k}" if prefix else k, out)
        return
    number = _number(value)
    if number is not None:
        out[prefix].append(({}, number))


def collect(fams: dict[str, list[tuple[dict, float]]], extra: dict[str, str] | None = None):
    """prometheus_client metric families from `families`: gauges named f5_ + the original name made
    valid, whose help is the original name (as TS writes them); `extra` labels go on every sample
    (`device` for the lab's endpoint)."""
    from prometheus_client.core import GaugeMetricFamily
    extra = extra or {}
    for name, samples in fams.items():
        labelnames = sorted({k for labels, _ in samples for k in labels}) + sorted(extra)
        g = GaugeMetricFamily(f"f5_{prom_name(name)}", name, labels=labelnames)
        for labels, value in samples:
            g.add_metric([labels.get(k, "") for k in labelnames[:len(labelnames) - len(extra)]]
                         + [extra[k] for k in sorted(extra)], value)
        yield g


def prometheus_text(data: dict, extra: dict[str, str] | None = None) -> bytes:
    """The pull consumer's answer: Prometheus text of the poller output `data`."""
    from prometheus_client import CollectorRegistry, generate_latest

    class Once:
        def collect(self):
            return collect(families(data), extra)

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Once())
    return generate_latest(registry)
