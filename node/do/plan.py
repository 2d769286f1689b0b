"""A DO declaration, for this device: the errors, or the steps.

Steps, in DO's order: one local commit (provisioning, VLANs, route domains, self IPs, routes, users, this
device's ConfigSync and failover addresses), then trust (a device that is not the remoteHost asks
the remoteHost to add it), then the device group (its owner makes it once every member is in the
trust domain, then pushes its configuration; the others wait to be in it).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import jsoncheck
from ..config.store import Op
from . import classes as C

SCHEMAS = {**C.CLASSES, "Device": C.DEVICE, "DO": C.WRAPPER}


def check(cls: str, value, pointer: str) -> list[str]:
    return jsoncheck.check(f"DO:{cls}", SCHEMAS[cls], value, pointer)


@dataclass(frozen=True)
class Me:
    """This device as a declaration may name it."""
    name: str
    addresses: frozenset          # management, ConfigSync and self IP addresses

    def named(self, word: str) -> bool:
        return word == self.name or word.split(".")[0] == self.name or word in self.addresses


@dataclass
class Steps:
    ops: list[Op] = field(default_factory=list)
    trust: dict | None = None          # {"remoteHost", "remoteUsername", ...} when this device must ask
    group: dict | None = None          # {"name", "members", "owner", "values"}
    owner: bool = False


def declaration_of(body) -> tuple[dict | None, list[str]]:
    """The Device declaration in a request (bare or in a DO wrapper)."""
    if not isinstance(body, dict):
        return None, ["/: should be object"]
    if body.get("class") == "DO":
        errors = check("DO", body, "")
        return (None, errors) if errors else (body["declaration"], [])
    return body, []


def plan(decl: dict, me: Me, objects: dict) -> tuple[Steps | None, list[str]]:
    errors = check("Device", decl, "")
    if errors:
        return None, errors
    common = decl["Common"]
    if common.get("class") != "Tenant":
        return None, ["/Common/class: should be equal to constant ('Tenant')"]
    errors += hostname_errors(common.get("hostname"), "/Common/hostname", me)
    items = {k: v for k, v in common.items() if k not in C.TENANT_WORDS}
    for name, item in items.items():
        where = f"/Common/{name}"
        if not isinstance(item, dict) or "class" not in item:
            errors.append(f"{where}: should have required property 'class'")
        elif item["class"] not in C.CLASSES:
            errors.append(f'{where}/class: class "{item["class"]}" is not supported by this lab '
                          f'(supported: {", ".join(sorted(C.CLASSES))})')
        else:
            errors += check(item["class"], item, where)
            if item["class"] == "System":
                errors += hostname_errors(item.get("hostname"), f"{where}/hostname", me)
    if errors:
        return None, errors
    steps = Steps()
    for name, item in items.items():
        getattr(Builder, item["class"].lower())(Builder(me, objects, steps, decl), name, item)
    return steps, []


def hostname_errors(hostname: str | None, where: str, me: Me) -> list[str]:
    """A hostname must name this device: the lab's device names are the topology's."""
    if hostname is None or me.named(hostname):
        return []
    return [f"{where}: this lab's device is {me.name} (device names are the topology's); "
            f"{hostname} does not name it"]


def pointer(decl: dict, value: str) -> str:
    """DO lets a property point into the declaration: "/Common/failoverGroup/members/0"."""
    if not value.startswith("/Common/"):
        return value
    node = decl
    for word in value.strip("/").split("/"):
        node = node[int(word)] if isinstance(node, list) else node.get(word) if isinstance(node, dict) else None
        if node is None:
            return value
    return node.split("/")[0] if isinstance(node, str) else value


RD_POLICIES = {"parent": "parent", "bandWidthControllerPolicy": "bwc-policy", "flowEvictionPolicy": "flow-eviction-policy",
               "ipIntelligencePolicy": "ip-intelligence-policy", "enforcedFirewallPolicy": "fw-enforced-policy",
               "stagedFirewallPolicy": "fw-staged-policy", "servicePolicy": "service-policy"}


class Builder:
    def __init__(self, me: Me, objects: dict, steps: Steps, decl: dict):
        self.me, self.objects, self.steps, self.decl = me, objects, steps, decl

    def put(self, type_: str, path: str, values: dict) -> None:
        action = "modify" if (type_, path) in self.objects else "create"
        self.steps.ops.append(Op(action, type_, path, {k: ("set", v) for k, v in values.items()}))

    def provision(self, name: str, item: dict) -> None:
        for module, level in item.items():
            if module != "class":
                self.put("sys provision", f"/Common/{module}", {"level": level})

    def system(self, name: str, item: dict) -> None:
        """Only the hostname, which plan() checked names this device: nothing to change."""

    def dns(self, name: str, item: dict) -> None:
        self.put("sys dns", "/Common/dns", {"name-servers": item.get("nameServers", []),
                                            "search": item.get("search", [])})

    def ntp(self, name: str, item: dict) -> None:
        self.put("sys ntp", "/Common/ntp", {"servers": item.get("servers", []),
                                            **({"timezone": item["timezone"]} if "timezone" in item else {})})

    def vlan(self, name: str, item: dict) -> None:
        values = {k: item[p] for p, k in (("tag", "tag"), ("mtu", "mtu")) if p in item}
        if "interfaces" in item:
            values["interfaces"] = [i["name"] for i in item["interfaces"]]
        self.put("net vlan", f"/Common/{name}", values)

    def selfip(self, name: str, item: dict) -> None:
        allow = item.get("allowService", "default")
        self.put("net self", f"/Common/{name}", {
            "address": item["address"], "vlan": item["vlan"],
            "traffic-group": f"/Common/{item.get('trafficGroup', 'traffic-group-local-only')}",
            "allow-service": allow if isinstance(allow, str) else " ".join(allow)})

    def route(self, name: str, item: dict) -> None:
        self.put("net route", f"/Common/{name}", {"gw": item["gw"], "network": item.get("network", "default"),
                                                  **({"mtu": item["mtu"]} if "mtu" in item else {})})

    def routedomain(self, name: str, item: dict) -> None:
        """net route-domain NAME (route domain 0 is /Common/0, which every device has)."""
        values = {"id": item["id"], "strict": "enabled" if item.get("strict", True) else "disabled",
                  "vlans": item.get("vlans", []), "routing-protocol": item.get("routingProtocols", []),
                  "connection-limit": item.get("connectionLimit", 0),
                  **{field: item[prop] for prop, field in RD_POLICIES.items() if prop in item}}
        self.put("net route-domain", "/Common/0" if item["id"] == 0 else f"/Common/{name}", values)

    def user(self, name: str, item: dict) -> None:
        roles = [a["role"] for a in (item.get("partitionAccess") or {}).values()]
        values = {"role": roles[0] if roles else "guest"}
        if "password" in item:
            values["password"] = item["password"]
        self.put("auth user", f"/Common/{name}", values)

    def device(self, values: dict) -> None:
        self.put("cm device", f"/Common/{self.me.name}", values)

    def configsync(self, name: str, item: dict) -> None:
        self.device({"configsync-ip": self.address(item["configsyncIp"])})

    def failoverunicast(self, name: str, item: dict) -> None:
        ports = item.get("addressPorts") or [{"address": item["address"]}]
        self.device({"unicast-address": [self.address(p["address"]) for p in ports]})

    def address(self, value: str) -> str:
        """An address, or DO's pointer to a self IP's (`/Common/external-self/address`)."""
        return pointer(self.decl, value).split("/")[0]

    def devicetrust(self, name: str, item: dict) -> None:
        remote = pointer(self.decl, item["remoteHost"])
        if not self.me.named(remote):
            self.steps.trust = {**item, "remoteHost": remote}

    def devicegroup(self, name: str, item: dict) -> None:
        members = [pointer(self.decl, m) for m in item["members"]]
        owner = pointer(self.decl, item["owner"])
        self.steps.owner = self.me.named(owner)
        ed = {True: "enabled", False: "disabled"}
        tf = {True: "true", False: "false"}
        self.steps.group = {"name": name, "members": members, "owner": owner, "type": item["type"], "values": {
            "type": item["type"], "auto-sync": ed[item.get("autoSync", False)],
            "network-failover": ed[item.get("networkFailover", True)],
            "full-load-on-sync": tf[item.get("fullLoadOnSync", False)],
            "save-on-auto-sync": tf[item.get("saveOnAutoSync", False)], "asm-sync": ed[item.get("asmSync", False)]}}
