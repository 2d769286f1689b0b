"""The DO classes the lab supports, as JSON schemas of our own with F5's names and defaults."""
from __future__ import annotations

SCHEMA_VERSION = "1.45.0"
SCHEMA_MINIMUM = "1.0.0"
STR = {"type": "string"}
BOOL = {"type": "boolean"}


def obj(required: tuple = (), **props) -> dict:
    return {"type": "object", "required": ["class", *required], "additionalProperties": False,
            "properties": {"class": STR, "label": STR, "remark": STR, **props}}


def intrange(lo: int, hi: int) -> dict:
    return {"type": "integer", "minimum": lo, "maximum": hi}


LEVELS = {"enum": ["none", "minimum", "nominal", "dedicated", "custom"]}
STRS = {"type": "array", "items": STR}
CLASSES: dict[str, dict] = {
    "System": obj(hostname=STR),
    "DNS": obj(nameServers=STRS, search=STRS),
    "NTP": obj(servers=STRS, timezone=STR),
    "Provision": {"type": "object", "required": ["class"], "additionalProperties": False, "properties": {
        "class": STR, **{m: LEVELS for m in ("afm", "am", "apm", "asm", "avr", "cgnat", "dos", "fps", "gtm", "ilx",
                                             "lc", "ltm", "pem", "sslo", "swg", "urldb")}}},
    "VLAN": obj(tag=intrange(1, 4094), mtu=intrange(576, 9198), interfaces={"type": "array", "items": {
        "type": "object", "required": ["name"], "additionalProperties": False,
        "properties": {"name": STR, "tagged": BOOL}}}),
    "SelfIp": obj(("address", "vlan"), address=STR, vlan=STR,
                  trafficGroup={"enum": ["traffic-group-local-only", "traffic-group-1"]},
                  allowService={"anyOf": [{"enum": ["all", "none", "default"]}, {"type": "array", "items": STR}]}),
    "Route": obj(("gw",), gw=STR, network=STR, mtu=intrange(0, 9198)),
    "RouteDomain": obj(("id",), id=intrange(0, 65534), parent=STR, connectionLimit=intrange(0, 4294967295),
                       bandWidthControllerPolicy=STR, flowEvictionPolicy=STR, ipIntelligencePolicy=STR,
                       enforcedFirewallPolicy=STR, stagedFirewallPolicy=STR, servicePolicy=STR, strict=BOOL,
                       routingProtocols={"type": "array", "items": {
                           "enum": ["BFD", "BGP", "IS-IS", "OSPFv2", "OSPFv3", "PIM", "RIP", "RIPng"]}},
                       vlans=STRS),
    "User": obj(("userType",), userType={"enum": ["regular", "root"]}, password=STR, oldPassword=STR,
                shell={"enum": ["bash", "tmsh", "none"]},
                partitionAccess={"type": "object", "additionalProperties": {
                    "type": "object", "required": ["role"], "properties": {"role": STR}}}),
    "ConfigSync": obj(("configsyncIp",), configsyncIp=STR),
    "FailoverUnicast": obj(("address",), address=STR, port=intrange(1, 65535),
                           addressPorts={"type": "array", "items": {"type": "object", "properties": {
                               "address": STR, "port": intrange(1, 65535)}}}),
    "DeviceGroup": obj(("type", "members", "owner"), type={"enum": ["sync-failover", "sync-only"]},
                       members={"type": "array", "items": STR, "minItems": 1}, owner=STR,
                       autoSync=BOOL, saveOnAutoSync=BOOL, networkFailover=BOOL, fullLoadOnSync=BOOL,
                       asmSync=BOOL),
    "DeviceTrust": obj(("localUsername", "localPassword", "remoteHost", "remoteUsername", "remotePassword"),
                       localUsername=STR, localPassword=STR, remoteHost=STR, remoteUsername=STR,
                       remotePassword=STR),
}
TENANT_WORDS = ("class", "hostname")     # a Common tenant's own properties
DEVICE = {"type": "object", "required": ["class", "schemaVersion", "Common"], "properties": {
    "class": {"enum": ["Device"]}, "schemaVersion": {"type": "string", "pattern": r"^1\.[0-9]+\.[0-9]+$"},
    "async": BOOL, "label": STR, "Common": {"type": "object"}, "controls": {"type": "object"}},
    "additionalProperties": False}
WRAPPER = {"type": "object", "required": ["class", "declaration"], "additionalProperties": False, "properties": {
    "class": {"enum": ["DO"]}, "declaration": {"type": "object"}, "targetHost": STR, "targetUsername": STR,
    "targetPassword": STR, "targetPort": {"type": "integer"}, "targetTimeout": {"type": "integer"}}}
