"""A tenant's declaration -> the objects it means, in the config schema's types and tmsh values.

Tenant T is partition /T, application A is folder /T/A, an object N of A is /T/A/N. Virtual
addresses and nodes live in the tenant (/T/10.0.1.10), or in /Common with shareNodes, as AS3
puts them. Values not declared take AS3's defaults (classes.py), which are not always the
BIG-IP's (a pool's minimumMembersActive is 1).
"""
from __future__ import annotations

from dataclasses import dataclass

from . import classes as C
from .refs import Resolver, apps_of, objects_of, service_port

BUILTIN_MONITORS = {"http": "/Common/http", "https": "/Common/https", "tcp": "/Common/tcp", "udp": "/Common/udp",
                    "icmp": "/Common/gateway_icmp", "gateway_icmp": "/Common/gateway_icmp",
                    "tcp_half_open": "/Common/tcp_half_open"}
MONITOR_TYPES = {"icmp": "gateway-icmp"}     # AS3's icmp monitor is a BIG-IP gateway-icmp one
KEYWORD_PROFILES = {"basic": None, "normal": None}   # the class's own built-in profile
ED = {True: "enabled", False: "disabled"}
YN = {True: "yes", False: "no"}
WORDS = {"enable": "enabled", "disable": "disabled"}   # AS3 says enable, tmsh enabled


@dataclass(frozen=True)
class Obj:
    type: str
    path: str
    values: dict          # field -> value, tmsh form


def containers(t: str, apps) -> list[Obj]:
    """The partition of a tenant (which makes its folder /T) and the folders of its applications."""
    return [Obj("auth partition", f"/Common/{t}", {}), *[Obj("sys folder", f"/{t}/{a}", {}) for a in apps]]


def default(cls: str, prop: str):
    return C.CLASSES[cls]["properties"][prop].get("default")


def get(item: dict, prop: str):
    return item.get(prop, default(item["class"], prop))


def described(item: dict, values: dict) -> dict:
    return {**values, "description": item["remark"]} if "remark" in item else values


class Builder:
    """Builds one tenant's objects; `resolver` knows every tenant of the declaration."""

    def __init__(self, t: str, tenant: dict, resolver: Resolver):
        self.t, self.tenant, self.resolver = t, tenant, resolver
        self.out: dict[tuple[str, str], Obj] = {}

    def build(self) -> list[Obj]:
        apps = apps_of(self.tenant)
        for o in (containers(self.t, apps) if self.t != "Common" else [Obj("sys folder", "/Common/Shared", {})]):
            self.add(o)
        order = ("Monitor", "HTTP_Profile", "TCP_Profile", "L4_Profile", "SNAT_Pool", "Service_Address", "Pool")
        items = [(a, n, item) for a, app in apps.items() for n, item in objects_of(app).items()]
        items.sort(key=lambda x: order.index(x[2]["class"]) if x[2]["class"] in order else len(order))
        for a, n, item in items:
            getattr(self, item["class"].lower(), self.service)(a, n, item)
        return list(self.out.values())

    def add(self, o: Obj) -> None:
        self.out.setdefault((o.type, o.path), o)

    def ref(self, value, a: str) -> str:
        return self.resolver.path(value, self.t, a)

    # -- the classes ------------------------------------------------------------------------------
    def monitor(self, a: str, n: str, item: dict) -> None:
        mt = MONITOR_TYPES.get(item["monitorType"], item["monitorType"])
        values = {"interval": get(item, "interval"), "timeout": get(item, "timeout"),
                  "defaults-from": f"/Common/{mt.replace('-', '_')}"}
        for prop, field in (("send", "send"), ("receive", "recv")):
            if prop in item:
                values[field] = item[prop]
        if "targetAddress" in item or "targetPort" in item:
            values["destination"] = f"{item.get('targetAddress', '*')}:{item.get('targetPort') or '*'}"
        for prop, field in (("upInterval", "up-interval"), ("timeUntilUp", "time-until-up")):
            if prop in item:
                values[field] = item[prop]
        for prop, field in (("adaptive", "adaptive"), ("reverse", "reverse"), ("transparent", "transparent")):
            if prop in item:
                values[field] = ED[item[prop]]
        self.add(Obj(f"ltm monitor {mt}", f"/{self.t}/{a}/{n}", described(item, values)))

    def http_profile(self, a: str, n: str, item: dict) -> None:
        values = {"defaults-from": "/Common/http", "insert-xforwarded-for": ED[get(item, "xForwardedFor")],
                  "server-agent-name": get(item, "serverHeaderValue"), "proxy-type": get(item, "proxyType"),
                  "via-request": get(item, "viaRequest"), "via-response": get(item, "viaResponse"),
                  "request-chunking": get(item, "requestChunking"),
                  "response-chunking": get(item, "responseChunking")}
        if "fallbackRedirect" in item:
            values["fallback-host"] = item["fallbackRedirect"]
        if "insertHeader" in item:
            values["header-insert"] = f"{item['insertHeader'].get('name')}: {item['insertHeader'].get('value')}"
        self.add(Obj("ltm profile http", f"/{self.t}/{a}/{n}", described(item, values)))

    def tcp_profile(self, a: str, n: str, item: dict) -> None:
        self.add(Obj("ltm profile tcp", f"/{self.t}/{a}/{n}", described(item, {"defaults-from": "/Common/tcp"})))

    def l4_profile(self, a: str, n: str, item: dict) -> None:
        self.add(Obj("ltm profile fastl4", f"/{self.t}/{a}/{n}",
                     described(item, {"defaults-from": "/Common/fastL4"})))

    def snat_pool(self, a: str, n: str, item: dict) -> None:
        members = [f"/{self.t}/{addr.split('%')[0]}" for addr in item["snatAddresses"]]
        for path in members:
            self.add(Obj("ltm snat-translation", path, {"address": path.rsplit("/", 1)[1]}))
        self.add(Obj("ltm snatpool", f"/{self.t}/{a}/{n}", described(item, {"members": members})))

    def service_address(self, a: str, n: str, item: dict) -> None:
        tg = get(item, "trafficGroup")
        values = {"address": item["virtualAddress"].split("/")[0].split("%")[0],
                  "arp": ED[get(item, "arpEnabled")], "icmp-echo": WORDS.get(get(item, "icmpEcho"), "selective"),
                  "route-advertisement": WORDS.get(get(item, "routeAdvertisement"), get(item, "routeAdvertisement")),
                  "spanning": ED[get(item, "spanningEnabled")],
                  "traffic-group": "/Common/traffic-group-1" if tg == "default" else tg}
        self.add(Obj("ltm virtual-address", f"/{self.t}/{a}/{n}", described(item, values)))

    def pool(self, a: str, n: str, item: dict) -> None:
        members = {}
        for m in item.get("members") or []:
            state = m.get("adminState", "enable")
            enabled = m.get("enable", True) and state == "enable"
            for addr in m.get("serverAddresses") or []:
                addr = addr.split("%")[0]
                folder = "/Common" if m.get("shareNodes") else f"/{self.t}"
                self.add(Obj("ltm node", f"{folder}/{addr}", {"address": addr}))
                props = {"ratio": m.get("ratio", 1), "priority-group": m.get("priorityGroup", 0),
                         "session": "user-enabled" if enabled else "user-disabled",
                         "state": "user-down" if state == "offline" else "user-up"}
                if "remark" in m:
                    props["description"] = m["remark"]
                members[f"{folder}/{addr}:{m['servicePort']}"] = props
        values = {"load-balancing-mode": get(item, "loadBalancingMode"),
                  "min-active-members": get(item, "minimumMembersActive"),
                  "reselect-tries": get(item, "reselectTries"), "service-down-action": get(item, "serviceDownAction"),
                  "slow-ramp-time": get(item, "slowRampTime"), "members": members}
        monitors = item.get("monitors") or []
        if monitors:
            m = monitors[0]
            values["monitor"] = BUILTIN_MONITORS[m] if isinstance(m, str) else self.ref(m, a)
        self.add(Obj("ltm pool", f"/{self.t}/{a}/{n}", described(item, values)))

    def service(self, a: str, n: str, item: dict) -> None:
        cls = item["class"]
        port = service_port(item)
        udp = cls == "Service_UDP" or item.get("layer4") == "udp"
        values = {"ip-protocol": "udp" if udp else "tcp", "profiles": self.profiles(item, a),
                  "status": ED[get(item, "enable")],
                  "translate-address": ED[get(item, "translateServerAddress")],
                  "translate-port": ED[get(item, "translateServerPort")],
                  "connection-limit": get(item, "maxConnections"), "address-status": YN[get(item, "addressStatus")],
                  "mirror": "enabled" if get(item, "mirroring") == "L4" else "disabled",
                  "source-address-translation": self.snat(item, a)}
        if "pool" in item:
            values["pool"] = self.ref(item["pool"], a)
        for i, addr in enumerate(item["virtualAddresses"]):
            source = addr[1] if isinstance(addr, list) and len(addr) > 1 else "0.0.0.0/0"
            addr = addr[0] if isinstance(addr, list) else addr
            if isinstance(addr, dict):
                va_path = self.ref(addr, a)
                ip = self.resolver.addresses({"virtualAddresses": [addr]}, self.t, a)[0]
            else:
                ip = addr.split("/")[0].split("%")[0]
                va_path = f"/{self.t}/{ip}"
                self.add(Obj("ltm virtual-address", va_path, {"address": ip}))
            sep = "." if ":" in ip else ":"
            name = n if i == 0 else f"{n}-{i}-"
            self.add(Obj("ltm virtual", f"/{self.t}/{a}/{name}", described(item, {
                **values, "destination": f"{va_path.rsplit('/', 1)[0]}/{ip}{sep}{port}", "source": source})))

    def profiles(self, item: dict, a: str) -> list[str]:
        cls = item["class"]
        builtin = {"profileHTTP": "/Common/http", "profileTCP": "/Common/tcp", "profileUDP": "/Common/udp",
                   "profileL4": "/Common/fastL4"}
        props = {"Service_HTTP": ("profileHTTP", "profileTCP"), "Service_TCP": ("profileTCP",),
                 "Service_UDP": ("profileUDP",), "Service_L4": ("profileL4",),
                 "Service_Generic": () if item.get("layer4") == "udp" else ("profileTCP",)}[cls]
        out = []
        for prop in props:
            v = item.get(prop, "basic")
            out.append(builtin[prop] if isinstance(v, str) else self.ref(v, a))
        return out

    def snat(self, item: dict, a: str) -> dict:
        v = item.get("snat", "auto")
        if isinstance(v, dict):
            return {"type": "snat", "pool": self.ref(v, a)}
        return {"type": {"auto": "automap", "self": "automap", "none": "none"}[v]}


def tenant_objects(t: str, tenant: dict, resolver: Resolver) -> list[Obj]:
    return Builder(t, tenant, resolver).build()
