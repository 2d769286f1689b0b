"""Every configurable object type, declared once: its F5 names, fields, defaults and checks.

tmsh text, the sync messages and the saved config are all views of these declarations (and
iControl REST will be too). Values are kept in tmsh form: words ("enabled", "round-robin"),
ints, lists of words, and for pool members a list of member records.

Scope says what config sync does with an object:
  synced  - part of the device group's configuration (ltm objects, floating self IPs)
  trust   - shared with every device of the trust domain at once (device groups, traffic groups)
  local   - never leaves the device (VLANs, non-floating self IPs, the device's own HA settings)
  gtm     - shared by the GTM sync group (wide IPs, pools, servers, regions, topology, zones)
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
import shlex
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Callable

from ..errors import ConfigError, Invalid, NotFound  # noqa: F401  (ConfigError: store.py and others import it here)
from . import policy_words
from .sealed import seal
from .services import port_number
from .roles import ROLES

PARTITION = "/Common"
NAME = re.compile(r"^[A-Za-z0-9_.:%-][A-Za-z0-9_.:%-]*$")
WILD_NAME = re.compile(r"^[A-Za-z0-9_.:%*?-]+$")   # wide IP names and aliases take * and ?
LOCAL_ONLY = "/Common/traffic-group-local-only"


@dataclass(frozen=True)
class Field:
    name: str                   # tmsh name, e.g. "auto-sync"
    kind: str = "str"           # str int enum ref list ip cidr network dest members items record secret sealed raw clauses
    #                             switch (a bare word in tmsh, true in REST: a virtual's ip-forward)
    default: Any = None
    choices: tuple = ()
    ref: str | None = None      # for ref: the referenced object type
    minimum: int | None = None
    maximum: int | None = None
    required: bool = False
    sub: tuple = ()             # for items: the fields of each item (server addresses, pool members);
    #                             for record: the keys of the one block (source-address-translation { type automap })
    rest_as: str | None = None  # REST's name where it is not the camel case of tmsh's (`default` -> `tmDefault`)

    @cached_property             # REST renames every field of every object it shows: once a field
    def rest(self) -> str:
        if self.rest_as:
            return self.rest_as
        head, *rest = self.name.split("-")
        return head + "".join(w.capitalize() for w in rest)


@dataclass(frozen=True)
class ObjType:
    path: str                   # "ltm pool"
    label: str                  # "Pool", as F5's messages name it
    fields: tuple[Field, ...]
    scope: str | Callable[[dict], str] = "synced"
    flags: tuple[str, ...] = ()  # bare words that set a field: ("enabled", "disabled")
    flag_field: str | None = None

    def field(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def scope_of(self, values: dict) -> str:
        return self.scope(values) if callable(self.scope) else self.scope

    def defaults(self) -> dict:
        return {f.name: _copy(f.default) for f in self.fields if f.default is not None}


def _copy(v):
    return list(v) if isinstance(v, (list, tuple)) else dict(v) if isinstance(v, dict) else v


ED = ("enabled", "disabled")
TF = ("true", "false")
MEMBER_FIELDS = (
    Field("address", "ip"),
    Field("session", "enum", "user-enabled", ("user-enabled", "user-disabled")),
    Field("state", "enum", "user-up", ("user-up", "user-down")),
    Field("ratio", "int", 1, minimum=1, maximum=65535),
    Field("priority-group", "int", 0, minimum=0, maximum=65535),
    Field("description", "str"),
    # the member's own monitor rule, which replaces its pool's for it; unset is F5's "default" (the pool's)
    Field("monitor", "str"),
    # stored only (docs/design.md): the proxy does not limit a member's connections or rate
    Field("connection-limit", "int", 0, minimum=0, maximum=2147483647),
    Field("dynamic-ratio", "int", 1, minimum=0, maximum=100),
    Field("rate-limit", "str", "disabled"),
    # an FQDN member (`www.example.com:80 { fqdn { autopopulate enabled } }`): a template; the
    # device's own resolver (node/ltm/fqdn.py) makes its ephemeral members `_auto_ADDRESS:PORT`
    Field("fqdn", "record", sub=(Field("autopopulate", "enum", "disabled", ED),
                                 Field("name", "str", rest_as="tmName"))),
)


# -- BIG-IP DNS (GTM) ---------------------------------------------------------------------------
PREFERRED = ("round-robin", "return-to-dns", "ratio", "topology", "static-persistence", "global-availability",
             "virtual-server-capacity", "least-connections", "lowest-round-trip-time", "fewest-hops",
             "packet-rate", "cpu", "completion-rate", "quality-of-service", "kilobytes-per-second",
             "drop-packet", "fallback-ip", "virtual-server-score")
ALTERNATE = ("round-robin", "return-to-dns", "none", "ratio", "topology", "static-persistence",
             "global-availability", "virtual-server-capacity", "packet-rate", "drop-packet", "fallback-ip",
             "virtual-server-score")
FALLBACK = PREFERRED + ("none",)
YN = ("yes", "no")
TERM_KINDS = ("subnet", "region", "datacenter", "pool", "country", "continent", "state", "isp", "geoip-isp")
QUOTED_TERMS = ("state", "geoip-isp")   # F5 lists their values quoted: state "US/New Hampshire"
GTM_RECORD_TYPES = ("a", "aaaa", "cname")   # answered by the lab's GTM
GTM_NAMED_TYPES = ("mx", "naptr", "srv")     # stored, synced and listed; their members are wide IP names
GTM_ALL_TYPES = GTM_RECORD_TYPES + GTM_NAMED_TYPES
GTM_SETTINGS = "/Common/global-settings"
# an HA group's pools (13.x names): below minimum-threshold members up a pool scores 0; from
# sufficient-threshold up ("all": every member) it scores its whole weight
HA_POOL_FIELDS = (Field("weight", "int", 10, minimum=10, maximum=100),
                  Field("minimum-threshold", "int", 0, minimum=0, maximum=65535),
                  Field("sufficient-threshold", "str", "all"),
                  Field("attribute", "enum", "percent-up-members", ("percent-up-members",)))
PASSWORD_POLICY = "/Common/password-policy"
# Objects a device has exactly one of, named by their type alone (`modify auth password-policy ...`).
SINGLETONS = {"gtm global-settings": GTM_SETTINGS, "auth password-policy": PASSWORD_POLICY,
              "sys dns": "/Common/dns", "sys ntp": "/Common/ntp", "sys syslog": "/Common/syslog"}
DAEMON_HA_ACTIONS = ("failover", "failover-restart", "failover-restart-tm", "go-offline", "go-offline-restart",
                     "go-offline-downlinks", "go-offline-downlinks-restart", "reboot", "restart", "restart-all",
                     "none")
_ORDER_RATIO = (Field("order", "int", 0, minimum=0, maximum=65535), Field("ratio", "int", 1, minimum=0, maximum=100))


def _limits(*names: str) -> tuple[Field, ...]:
    """F5's per-object limits: `limit-max-bps 0` and `limit-max-bps-status disabled`, stored only."""
    return tuple(f for n in names for f in (Field(f"limit-{n}", "int", 0, minimum=0, maximum=4294967295),
                                            Field(f"limit-{n}-status", "enum", "disabled", ED)))


LIMITS = _limits("max-bps", "max-connections", "max-pps")
QOS = tuple(Field(f"qos-{n}", "int", d, minimum=0, maximum=65535) for n, d in (
    ("hit-ratio", 5), ("hops", 0), ("kilobytes-second", 3), ("lcs", 30), ("packet-rate", 1), ("rtt", 50),
    ("topology", 0), ("vs-capacity", 0), ("vs-score", 0)))
GTM_MEMBER_FIELDS = (Field("member-order", "int", 0, minimum=0, maximum=65535),
                     Field("ratio", "int", 1, minimum=0, maximum=100), Field("status", "enum", "enabled", ED),
                     Field("monitor", "str", "default"), *LIMITS, Field("description", "str"))
PROBER = ("inherit", "pool", "outside-datacenter", "inside-datacenter", "none")
_PRIO = Field("priority", "int", 10, minimum=0, maximum=65535)
GTM_NAMED_MEMBER_FIELDS = {   # what a member of an MX, SRV or NAPTR pool carries into its record
    "mx": (_PRIO,),
    "srv": (Field("port", "int", 0, minimum=0, maximum=65535), _PRIO, Field("weight", "int", 10, minimum=0, maximum=65535)),
    # a CNAME member: static-target yes answers with its name as is, no names a wide IP (the lab: both as is)
    "cname": (Field("static-target", "enum", "no", YN),),
    "naptr": (Field("flags", "str", "a"), Field("order", "int", 10, minimum=0, maximum=65535),
              Field("preference", "int", 10, minimum=0, maximum=65535), Field("service", "str")),
}


def _gtm_monitor(m: str, *own: Field) -> tuple[Field, ...]:
    """A gtm monitor's properties: F5's common set, then its own. A user monitor inherits from
    the built-in of its type (defaults-from /Common/http); the built-in itself shows none."""
    return (Field("defaults-from", "str", f"/Common/{m.replace('-', '_')}"), Field("destination", "str", "*:*"),
            Field("interval", "int", 30, minimum=1, maximum=86400),
            Field("timeout", "int", 120, minimum=1, maximum=86400),
            Field("probe-timeout", "int", 5, minimum=0, maximum=86400),
            Field("ignore-down-response", "enum", "disabled", ED),
            Field("up-interval", "int", 0, minimum=0, maximum=86400),
            Field("time-until-up", "int", 0, minimum=0, maximum=86400), *own, Field("description", "str"))


def _send_recv(send: str | None) -> tuple[Field, ...]:
    return (Field("send", "str", send), Field("recv", "str"), Field("reverse", "enum", "disabled", ED),
            Field("transparent", "enum", "disabled", ED))


MONITOR_AUTH = (Field("username", "str"), Field("password", "sealed"))   # encrypted, as F5 keeps it ($M$...)
MONITOR_TLS = (Field("cipherlist", "str", "DEFAULT"), Field("cert", "str"), Field("key", "str"),
               Field("ssl-profile", "str"))   # stored: the lab's probe presents no client certificate
MONITOR_DB = (*MONITOR_AUTH, Field("count", "int", 0, minimum=0, maximum=2147483647), Field("database", "str"),
              Field("send", "str"), Field("recv", "str"), Field("recv-column", "int", minimum=1, maximum=4096),
              Field("recv-row", "int", minimum=1, maximum=65535))
PROBES = (Field("transparent", "enum", "disabled", ED), Field("probe-interval", "int", 1, minimum=1, maximum=86400),
          Field("probe-attempts", "int", 3, minimum=1, maximum=86400))
GTM_MONITOR_AUTH = (Field("username", "str"), Field("password", "secret"))   # kept hashed, never shown in clear
GTM_MONITORS = {   # the lab stores these (GTM health comes from the BIG-IPs' iQuery reports) and runs external ones
    "http": _gtm_monitor("http", *_send_recv("GET /"), *GTM_MONITOR_AUTH),
    "https": _gtm_monitor("https", *_send_recv("GET /"), *GTM_MONITOR_AUTH, Field("sni-server-name", "str"),
                          Field("recv-status-code", "str"),
                          Field("cipherlist", "str", "DEFAULT:+SHA:+3DES:+kEDH"),
                          Field("compatibility", "enum", "enabled", ED), Field("cert", "str"), Field("key", "str")),
    "tcp": _gtm_monitor("tcp", *_send_recv(None)),
    "gateway-icmp": _gtm_monitor("gateway-icmp", *PROBES),
    "tcp-half-open": _gtm_monitor("tcp-half-open", *PROBES),
    "bigip": _gtm_monitor("bigip", Field("aggregate-dynamic-ratios", "enum", "none", (
        "none", "average-members", "average-nodes", "sum-members", "sum-nodes"))),
    "udp": _gtm_monitor("udp", *_send_recv("default send string"), *PROBES[1:], Field("debug", "enum", "no", YN)),
    "mysql": _gtm_monitor("mysql", *MONITOR_DB, Field("debug", "enum", "no", YN)),
    "ldap": _gtm_monitor("ldap", *MONITOR_AUTH, Field("base", "str"), Field("filter", "str"),
                         Field("security", "enum", "none", ("none", "ssl", "tls")),
                         Field("mandatory-attributes", "enum", "no", YN), Field("chase-referrals", "enum", "yes", YN),
                         Field("debug", "enum", "no", YN)),
    "sip": _gtm_monitor("sip", Field("mode", "enum", "udp", ("udp", "tcp", "tls", "sips")), Field("request", "str"),
                        Field("headers", "str"), Field("filter", "str"), Field("filter-neg", "str"),
                        Field("cert", "str"), Field("key", "str"), Field("cipherlist", "str", "DEFAULT"),
                        Field("debug", "enum", "no", YN)),
    "smtp": _gtm_monitor("smtp", Field("domain", "str"), Field("debug", "enum", "no", YN)),
    # the GTM's prober runs its script (a sys file external-monitor) against each virtual server it monitors
    "external": _gtm_monitor("external", Field("run", "str"), Field("args", "str"), Field("user-defined", "record")),
}


def _settings(*fields: tuple) -> tuple[Field, ...]:
    return tuple(Field(n, "int", d, minimum=0, maximum=4294967295) if isinstance(d, int)
                 else Field(n, "enum", d, YN) if d in YN else Field(n, "str", d) for n, d in fields)


# gtm global-settings as F5 groups it (REST /gtm/global-settings/<group>); tmsh flattens the groups.
# The lab acts on topology-longest-match and the synchronization keys; the rest are stored only.
GTM_SETTINGS_GROUPS = {
    "general": _settings(
        ("auto-discovery", "yes"), ("auto-discovery-interval", 30), ("automatic-configuration-save-timeout", 15),
        ("cache-ldns-servers", "yes"), ("domain-name-check", "allow-underscore"),
        ("drain-persistent-requests", "yes"), ("forward-status", "disabled"), ("gtm-sets-recursion", "no"),
        ("heartbeat-interval", 10), ("monitor-disabled-objects", "no"), ("nethsm-timeout", 20),
        ("send-wildcard-rrs", "disabled"), ("static-persist-cidr-ipv4", 32), ("static-persist-cidr-ipv6", 128),
        ("synchronization", "no"), ("synchronization-group-name", "default"),
        ("synchronization-time-tolerance", 10), ("synchronization-timeout", 180),
        ("synchronize-zone-files", "no"), ("synchronize-zone-files-timeout", 300),
        ("virtuals-depend-on-server-state", "yes")),
    "load-balancing": _settings(
        ("failure-rcode", "noerror"), ("failure-rcode-response", "no"), ("failure-rcode-ttl", 0),
        ("ignore-path-ttl", "no"), ("respect-fallback-dependency", "no"), ("topology-allow-zero-scores", "no"),
        ("topology-longest-match", "yes"), ("verify-vs-availability", "yes")),
    "metrics": _settings(
        ("default-probe-limit", 12), ("hops-packet-length", 64), ("hops-sample-count", 3), ("hops-timeout", 5),
        ("hops-ttl", 64), ("inactive-ldns-ttl", 2419200), ("inactive-paths-ttl", 604800),
        ("ldns-update-interval", 30), ("max-synchronous-monitor-requests", 20), ("metrics-caching", 3600),
        ("metrics-collection-protocols", "icmp"), ("path-ttl", 2400), ("paths-retry", 3)),
}
GTM_TYPES = (
    ObjType("gtm datacenter", "Datacenter", (
        Field("location", "str"), Field("contact", "str"), Field("status", "enum", "enabled", ED),
        Field("description", "str")), scope="gtm", flags=ED, flag_field="status"),
    ObjType("gtm server", "Server", (
        Field("datacenter", "ref", ref="gtm datacenter", required=True),
        Field("product", "enum", "bigip", ("bigip", "generic-host")),
        Field("addresses", "items", (), sub=(Field("device-name", "str"), Field("translation", "str", "none"))),
        Field("virtual-servers", "items", (), sub=(
            Field("destination", "dest"), Field("translation-address", "str", "none"),
            Field("translation-port", "int", 0, minimum=0, maximum=65535),
            Field("status", "enum", "enabled", ED), *LIMITS, Field("monitor", "str"),
            Field("explicit-link-name", "str"), Field("description", "str"))),
        Field("virtual-server-discovery", "enum", "disabled", ("disabled", "enabled", "enabled-no-delete")),
        Field("link-discovery", "enum", "disabled", ("disabled", "enabled", "enabled-no-delete")),
        Field("expose-route-domains", "enum", "no", YN),
        Field("iq-allow-path", "enum", "yes", YN), Field("iq-allow-service-check", "enum", "yes", YN),
        Field("iq-allow-snmp", "enum", "yes", YN), *_limits("cpu-usage"), *LIMITS, *_limits("mem-avail"),
        Field("prober-fallback", "enum", "inherit", PROBER + ("any-available",)), Field("prober-preference", "enum", "inherit", PROBER),
        Field("prober-pool", "ref", ref="gtm prober-pool"),
        Field("monitor", "str", "bigip"), Field("status", "enum", "enabled", ED), Field("description", "str")),
        scope="gtm", flags=ED, flag_field="status"),
    *[ObjType(f"gtm pool {rt}", "Pool", (
        Field("load-balancing-mode", "enum", "round-robin", PREFERRED),
        Field("alternate-mode", "enum", "round-robin", ALTERNATE),
        Field("fallback-mode", "enum", "return-to-dns", FALLBACK),
        Field("fallback-ip", "str", "any"), Field("ttl", "int", 30, minimum=0, maximum=4294967295),
        Field("max-answers-returned", "int", 1, minimum=1, maximum=500),
        Field("verify-member-availability", "enum", "enabled", ED),
        Field("dynamic-ratio", "enum", "disabled", ED), *LIMITS, Field("manual-resume", "enum", "disabled", ED),
        Field("monitor", "str", "default"), *QOS,
        Field("members", "items", (), sub=GTM_MEMBER_FIELDS + GTM_NAMED_MEMBER_FIELDS.get(rt, ())),
        Field("status", "enum", "enabled", ED), Field("description", "str")),
        scope="gtm", flags=ED, flag_field="status") for rt in GTM_ALL_TYPES],
    *[ObjType(f"gtm wideip {rt}", "Wide IP", (
        Field("pool-lb-mode", "enum", "round-robin", ("round-robin", "ratio", "topology", "global-availability")),
        Field("pools", "items", (), sub=_ORDER_RATIO), Field("aliases", "list", ()),
        # CNAME pools on a wide IP of another type: picked, they answer with a CNAME (F5's pools-cname)
        *((Field("pools-cname", "items", (), sub=_ORDER_RATIO),) if rt != "cname" else ()),
        Field("last-resort-pool", "str", "none"), Field("rules", "list", (), ref="gtm rule"),   # stored only
        Field("load-balancing-decision-log-verbosity", "list", ()),   # stored: the lab logs no decisions
        Field("persistence", "enum", "disabled", ED), Field("ttl-persistence", "int", 3600, minimum=0, maximum=4294967295),
        Field("persist-cidr-ipv4", "int", 32, minimum=0, maximum=32),
        Field("persist-cidr-ipv6", "int", 128, minimum=0, maximum=128),
        Field("topology-prefer-edns0-client-subnet", "enum", "disabled", ED),
        Field("status", "enum", "enabled", ED), Field("description", "str")),
        scope="gtm", flags=ED, flag_field="status") for rt in GTM_ALL_TYPES],
    # the servers that probe for a server (prober-preference pool): stored, the lab's GTMs probe themselves
    ObjType("gtm prober-pool", "Prober Pool", (
        Field("load-balancing-mode", "enum", "global-availability", ("global-availability", "round-robin")),
        Field("members", "items", (), sub=(Field("order", "int", 0, minimum=0, maximum=65535),
                                            Field("status", "enum", "enabled", ED), Field("description", "str"))),
        Field("status", "enum", "enabled", ED), Field("description", "str")),
        scope="gtm", flags=ED, flag_field="status"),
    # a GTM iRule (DNS_REQUEST...): its Tcl is checked and stored, never run (docs/design.md)
    ObjType("gtm rule", "Rule", (Field("api-anonymous", "str", ""), Field("description", "str")), scope="gtm"),
    ObjType("gtm region", "Region", (Field("region-members", "terms", ()), Field("description", "str")), scope="gtm"),
    ObjType("gtm topology", "Topology", (
        Field("score", "int", 1, minimum=0, maximum=4294967295), Field("order", "int", minimum=1, maximum=4294967295),
        Field("description", "str")), scope="gtm"),
    ObjType("gtm global-settings", "Global Settings", tuple(f for g in GTM_SETTINGS_GROUPS.values() for f in g),
            scope="gtm"),
    ObjType("gtm listener", "Listener", (
        Field("address", "ip", required=True), Field("port", "int", 53, minimum=1, maximum=65535),
        Field("status", "enum", "enabled", ED), Field("description", "str")),
        scope="local", flags=ED, flag_field="status"),
    ObjType("gtm zone", "Zone", (Field("records", "list", ()), Field("description", "str")), scope="gtm"),
    *[ObjType(f"gtm monitor {m}", "Monitor", fields, scope="gtm") for m, fields in GTM_MONITORS.items()],
)


def normalize_term(words: list[str], where: str) -> str:
    """`not subnet 10.0.1.5/24` -> `not subnet 10.0.1.0/24`; `region R` -> `region /Common/R`."""
    words = list(words)
    neg = bool(words) and words[0] == "not"
    if neg:
        words = words[1:]
    if len(words) != 2 or words[0] not in TERM_KINDS:
        raise Invalid(f'{where}: "{" ".join(words)}" is not a term '
                      f"(give it as [not] {'|'.join(TERM_KINDS)} VALUE)")
    kind, value = words
    if kind == "subnet":
        try:
            value = str(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise Invalid(f'{where}: "{value}" is not a subnet') from None
    elif kind in ("region", "datacenter", "pool", "isp"):   # an ISP is a /Common object: isp /Common/Comcast
        value = full_path(value)
    elif kind in QUOTED_TERMS:
        value = '"' + value.strip('"') + '"'
    return f"{'not ' if neg else ''}{kind} {value}"


def term_words(text: str, where: str) -> list[str]:
    """A term or record name's words, a quoted value one word (`state "US/New Hampshire"`)."""
    try:
        return shlex.split(text)
    except ValueError:
        raise Invalid(f'{where}: "{text}" is not a term (an unclosed quote)') from None


def split_terms(words: list[str], where: str) -> list[str]:
    """A flat list of words (`subnet X not subnet Y region R`) -> one normalized term a member."""
    terms, cur = [], []
    for w in words:
        cur.append(w)
        if w not in ("not",) and len(cur) >= 2 and cur[-2] in TERM_KINDS:
            terms.append(normalize_term(cur, where))
            cur = []
    if cur:
        raise Invalid(f'{where}: "{" ".join(cur)}" is incomplete')
    return terms


def topology_name(words: list[str]) -> str:
    """`ldns: subnet 10.0.0.0/24 server: pool P1` -> F5's record name with full paths."""
    if not words or words[0] != "ldns:" or "server:" not in words:
        raise Invalid("a topology record is ldns: [not] SOURCE VALUE server: [not] DESTINATION VALUE")
    i = words.index("server:")
    src = normalize_term(words[1:i], "topology ldns")
    dst = normalize_term(words[i + 1:], "topology server")
    return f"ldns: {src} server: {dst}"


# Properties a BIG-IP has that the lab stores, syncs and shows with F5's defaults but does not act on
# (docs/design.md: "object type | behaves | stored only"): automation sends them all and compares.
NY = ("no", "yes")
TF = ("false", "true")
PASS = "pass-through"
# an FQDN node's `fqdn { ... }` (F5's defaults; REST names `name` tmName, shows interval as a string);
# a node has either an address or an FQDN (node/ltm/fqdn.py resolves it on each device)
FQDN_FIELDS = (
    Field("name", "str", rest_as="tmName"),
    Field("address-family", "enum", "ipv4", ("ipv4", "ipv6")),
    Field("autopopulate", "enum", "disabled", ED),
    Field("interval", "str", "3600"),                       # seconds (1-...), or "ttl": the answer's TTL
    Field("down-interval", "int", 5, minimum=1, maximum=2147483647))
ANY6 = "any6"        # what a BIG-IP shows as the address of an FQDN node or template member
EPHEMERAL_PREFIX = "_auto_"
STORED_NODE = (
    Field("connection-limit", "int", 0, minimum=0, maximum=4294967295),
    Field("dynamic-ratio", "int", 1, minimum=1, maximum=65535), Field("logging", "enum", "disabled", ED),
    Field("rate-limit", "str", "disabled"), Field("ratio", "int", 1, minimum=1, maximum=65535))
STORED_POOL = (
    Field("allow-nat", "enum", "yes", NY), Field("allow-snat", "enum", "yes", NY),
    Field("ignore-persisted-weight", "enum", "disabled", ED), Field("ip-tos-to-client", "str", PASS),
    Field("ip-tos-to-server", "str", PASS), Field("link-qos-to-client", "str", PASS),
    Field("link-qos-to-server", "str", PASS), Field("min-up-members", "int", 0, minimum=0, maximum=65535),
    Field("min-up-members-action", "enum", "failover", ("failover", "reboot", "restart-all")),
    Field("min-up-members-checking", "enum", "disabled", ED),
    Field("queue-depth-limit", "int", 0, minimum=0, maximum=4294967295),
    Field("queue-on-connection-limit", "enum", "disabled", ED),
    Field("queue-time-limit", "int", 0, minimum=0, maximum=4294967295),
    Field("reselect-tries", "int", 0, minimum=0, maximum=65535),
    Field("service-down-action", "enum", "none", ("none", "reset", "drop", "reselect")),
    Field("slow-ramp-time", "int", 10, minimum=0, maximum=65535),
    Field("metadata", "items", (), sub=(Field("value", "str"), Field("persist", "enum", "true", TF))))
STORED_MONITOR = (
    Field("adaptive", "enum", "disabled", ED),
    Field("adaptive-divergence-type", "enum", "relative", ("relative", "absolute")),
    Field("adaptive-divergence-value", "int", 25, minimum=1, maximum=4294967295),
    Field("adaptive-limit", "int", 200, minimum=1, maximum=4294967295),
    Field("adaptive-sampling-timespan", "int", 300, minimum=1, maximum=4294967295),
    Field("destination", "str", "*:*"), Field("ip-dscp", "int", 0, minimum=0, maximum=63),
    Field("manual-resume", "enum", "disabled", ED), Field("reverse", "enum", "disabled", ED),
    Field("time-until-up", "int", 0, minimum=0, maximum=4294967295),
    Field("transparent", "enum", "disabled", ED), Field("up-interval", "int", 0, minimum=0, maximum=4294967295))
# F5's other monitor types, stored with their settings (docs/design.md): dns asks a real query; the
# rest are probed by a TCP connect (radius by a UDP datagram, http2 as https); inband, which judges
# by the traffic on a BIG-IP, as a TCP connect too
STORED_MONITOR_TYPES = (
    ("dns", (Field("qname", "str"), Field("qtype", "enum", "a", ("a", "aaaa")),
             Field("accept-rcode", "enum", "no-error", ("no-error", "anything")),
             Field("answer-contains", "enum", "query-type", ("query-type", "any-type", "anything")),
             Field("recv", "str"))),
    ("ftp", (*MONITOR_AUTH, Field("filename", "str"), Field("mode", "enum", "passive", ("passive", "port")))),
    ("http2", (Field("send", "str", "GET /\\r\\n"), Field("recv", "str"), Field("recv-disable", "str"),
               *MONITOR_TLS)),
    ("inband", (Field("failure-interval", "int", 30, minimum=2, maximum=1000),
                Field("failures", "int", 3, minimum=0, maximum=1000),
                Field("response-time", "int", 10, minimum=0, maximum=5000),
                Field("retry-time", "int", 300, minimum=0, maximum=5000))),
    ("ldap", (*MONITOR_AUTH, Field("base", "str"), Field("filter", "str"),
              Field("security", "enum", "none", ("none", "ssl", "tls")),
              Field("mandatory-attributes", "enum", "no", NY), Field("chase-referrals", "enum", "yes", NY))),
    ("mysql", MONITOR_DB), ("postgresql", MONITOR_DB),
    ("radius", (*MONITOR_AUTH, Field("secret", "sealed"), Field("nas-ip-address", "str"))),
    ("sip", (Field("mode", "enum", "udp", ("udp", "tcp", "tls", "sips")), Field("request", "str"),
             Field("headers", "str"), Field("filter", "str"), Field("filter-neg", "str"), Field("cert", "str"),
             Field("key", "str"))),
    ("smtp", (Field("domain", "str"),)))
STORED_VIRTUAL_ADDRESS = (
    Field("auto-delete", "enum", "true", TF), Field("connection-limit", "int", 0, minimum=0, maximum=4294967295),
    Field("floating", "enum", "enabled", ED), Field("icmp-echo", "enum", "enabled", ED + ("selective",)),
    Field("inherited-traffic-group", "enum", "false", TF), Field("mask", "str", "255.255.255.255"),
    Field("route-advertisement", "enum", "disabled", ED + ("selective", "always", "any", "all")),
    Field("server-scope", "enum", "any", ("any", "all", "none")), Field("spanning", "enum", "disabled", ED))

STORED_VIRTUAL = (
    Field("address-status", "enum", "yes", NY), Field("auto-lasthop", "enum", "default", ("default",) + ED),
    Field("cmp-enabled", "enum", "yes", NY), Field("connection-limit", "int", 0, minimum=0, maximum=4294967295),
    Field("gtm-score", "int", 0, minimum=0, maximum=4294967295),
    Field("metadata", "items", (), sub=(Field("value", "str"), Field("persist", "enum", "true", TF))),
    Field("mirror", "enum", "disabled", ED), Field("mobile-app-tunnel", "enum", "disabled", ED),
    Field("nat64", "enum", "disabled", ED), Field("rate-limit", "str", "disabled"),
    Field("rate-limit-dst-mask", "int", 0, minimum=0, maximum=128),
    Field("rate-limit-mode", "enum", "object", ("object", "object-source", "object-destination",
                                                "object-source-destination", "destination", "source",
                                                "source-destination")),
    Field("rate-limit-src-mask", "int", 0, minimum=0, maximum=128),
    Field("service-down-immediate-action", "enum", "none", ("none", "reset", "drop")),
    Field("serverssl-use-sni", "enum", "disabled", ED),
    Field("source", "str", "0.0.0.0/0"),
    Field("source-address-translation", "record", {"type": "none"}, sub=(
        Field("type", "enum", "none", ("none", "automap", "snat", "lsn")), Field("pool", "str"))),
    Field("source-port", "enum", "preserve", ("preserve", "preserve-strict", "change")),
    Field("translate-address", "enum", "enabled", ED), Field("translate-port", "enum", "enabled", ED))
IP_PROTOCOLS = {0: "any", 6: "tcp", 17: "udp"}   # REST takes the number too and shows the name

# Profiles: every built-in F5 ships, so virtual servers and automation find them; the lab's proxy
# acts on none of their settings (stored only).
PROFILE_BUILTINS = {"client-ssl": "clientssl", "dhcpv4": "dhcpv4", "dhcpv6": "dhcpv6", "diameter": "diameter",
                    "fasthttp": "fasthttp", "fastl4": "fastL4", "http": "http", "http-compression": "httpcompression",
                    "one-connect": "oneconnect", "server-ssl": "serverssl", "sip": "sip", "tcp": "tcp", "udp": "udp",
                    # STARTTLS on SMTP (stored only) and LDAP (node/ltm/ldap.py: TLS after StartTLS)
                    "smtps": "smtps", "client-ldap": "clientldap", "server-ldap": "serverldap",
                    # content adaptation (node/ltm/adapt.py): an HTTP virtual's request-adapt and
                    # response-adapt profiles send its messages to an internal virtual's ICAP servers
                    "icap": "icap", "request-adapt": "requestadapt", "response-adapt": "responseadapt",
                    # HTTP/2 (node/ltm/h2gate.py: the client side speaks it) and MRF's HTTP router (stored only)
                    "http2": "http2", "httprouter": "httprouter",
                    # an explicit HTTP proxy's CONNECT handling (stored only)
                    "http-proxy-connect": "http-proxy-connect",
                    # PPTP (node/ltm/fastl4.py: the kernel's pptp conntrack helper on the control
                    # connection, so the GRE calls it sets up follow it to its member)
                    "pptp": "pptp",
                    # FTP (node/ltm/fastl4.py: the kernel's ftp conntrack helper on the control
                    # connection, so its passive and active data connections follow it to its member)
                    "ftp": "ftp",
                    # MQTT (node/ltm/mqtt.py: the full proxy reads each packet, for the iRules' MQTT events)
                    "mqtt": "mqtt"}

def record(name: str, *subs: Field) -> Field:
    """A block property with F5's defaults for each key (`hsts { mode disabled ... }`)."""
    return Field(name, "record", {sf.name: _copy(sf.default) for sf in subs}, sub=subs)


REJECT = ("reject", "truncate", "pass-through")
SFLOW = record("sflow", Field("poll-interval", "int", 0, minimum=0), Field("poll-interval-global", "enum", "yes", YN),
               Field("sampling-rate", "int", 0, minimum=0), Field("sampling-rate-global", "enum", "yes", YN))
STORED_VLAN = (   # F5's VLAN properties the lab keeps and shows (a VLAN here is a bridge port, untagged)
    Field("auto-lasthop", "enum", "default", ("default",) + ED), Field("cmp-hash", "enum", "default",
                                                                         ("default", "dst-ip", "src-ip")),
    Field("dag-round-robin", "enum", "disabled", ED), Field("dag-tunnel", "enum", "outer", ("outer", "inner")),
    Field("learning", "enum", "enable-forward", ("enable-forward", "enable-drop", "disable-forward", "disable-drop")),
    Field("source-checking", "enum", "disabled", ED), SFLOW)
PROFILE_HTTP = (
    Field("accept-xff", "enum", "disabled", ED), Field("basic-auth-realm", "str", "none"),
    Field("encrypt-cookies", "list", ()),
    record("enforcement", Field("excess-client-headers", "enum", "reject", REJECT),
           Field("excess-server-headers", "enum", "reject", REJECT),
           Field("max-header-count", "int", 64, minimum=16, maximum=4096),
           Field("max-header-size", "int", 32768, minimum=0, maximum=4294967295),
           Field("max-requests", "int", 0, minimum=0, maximum=4294967295),
           Field("oversize-client-headers", "enum", "reject", REJECT),
           Field("oversize-server-headers", "enum", "reject", REJECT),
           Field("pipeline", "enum", "allow", ("allow", "reject", "pass-through")),
           Field("known-methods", "list", ("CONNECT", "DELETE", "GET", "HEAD", "LOCK", "OPTIONS", "POST", "PROPFIND",
                                           "PUT", "TRACE", "UNLOCK")),
           Field("truncated-redirects", "enum", "disabled", ED), Field("allow-ws-header-name", "enum", "disabled", ED),
           Field("rfc-compliance", "enum", "disabled", ED),
           Field("unknown-method", "enum", "allow", ("allow", "reject", "pass-through"))),
    record("explicit-proxy", Field("default-connect-handling", "enum", "deny", ("deny", "allow")),
           Field("dns-resolver", "str", "none"), Field("ipv6", "enum", "no", NY),
           Field("route-domain", "str", "none"), Field("tunnel-name", "str", "none")),
    Field("fallback-status-codes", "list", ()), Field("response-headers-permitted", "list", ()), SFLOW,
    Field("xff-alternative-names", "list", ()),
    Field("fallback-host", "str", "none"), Field("header-erase", "str", "none"), Field("header-insert", "str", "none"),
    record("hsts", Field("include-subdomains", "enum", "enabled", ED), Field("maximum-age", "int", 16070400, minimum=0),
           Field("mode", "enum", "disabled", ED), Field("preload", "enum", "disabled", ED)),
    Field("insert-xforwarded-for", "enum", "disabled", ED), Field("lws-width", "int", 80, minimum=0, maximum=4096),
    Field("oneconnect-transformations", "enum", "enabled", ED),
    Field("oneconnect-status-reuse", "str", "200 206"),
    Field("proxy-type", "enum", "reverse", ("reverse", "explicit", "transparent")),
    Field("redirect-rewrite", "enum", "none", ("none", "all", "matching", "nodes")),
    Field("request-chunking", "enum", "preserve", ("preserve", "selective", "rechunk", "sustain")),
    Field("response-chunking", "enum", "selective", ("preserve", "selective", "unchunk", "rechunk", "sustain")),
    Field("server-agent-name", "str", "BigIP"), Field("via-host-name", "str", "none"),
    Field("via-request", "enum", "preserve", ("preserve", "remove", "append")),
    Field("via-response", "enum", "preserve", ("preserve", "remove", "append")))
# client-ssl and server-ssl act (node/ltm/tls.py): the certificate and key, the rest stored
SSL_FILES = (Field("cert", "ref", None, ref="sys file ssl-cert"), Field("key", "ref", None, ref="sys file ssl-key"),
             Field("chain", "ref", "none", ref="sys file ssl-cert"))
# a cert-key-chain entry: a certificate the profile serves (usage SERVER, the default), or the CA
# an SSL forward proxy signs the certificates it forges with (usage CA, node/ltm/forge.py)
CHAIN_ENTRY = (*SSL_FILES, Field("usage", "enum", None, ("SERVER", "CA")))
PROFILE_SSL = (
    Field("cert-key-chain", "items", (), sub=CHAIN_ENTRY), Field("ciphers", "str", "DEFAULT"),
    Field("server-name", "str", "none"), Field("sni-default", "enum", "false", TF),
    Field("options", "list", ("dont-insert-empty-fragments", "no-tlsv1.3")),
    Field("peer-cert-mode", "enum", "ignore", ("ignore", "require", "request", "auto")),
    Field("ca-file", "str", "none"), Field("passphrase", "secret"),
    # the TLS versions in `options`, handshake-timeout, renegotiation and sni-require act (node/ltm/tls.py)
    Field("handshake-timeout", "str", "10"), Field("renegotiation", "enum", "enabled", ED),
    Field("sni-require", "enum", "false", ("false", "true")),
    Field("alert-timeout", "str", "indefinite"), Field("allow-expired-crl", "enum", "disabled", ED),
    Field("authenticate", "enum", "once", ("once", "always")), Field("authenticate-depth", "int", 9, minimum=0),
    Field("cache-timeout", "int", 3600, minimum=0, maximum=86400), Field("cipher-group", "str", "none"),
    Field("crl-file", "str", "none"), Field("proxy-ssl", "enum", "disabled", ED),
    Field("proxy-ssl-passthrough", "enum", "disabled", ED), Field("renegotiate-period", "str", "indefinite"),
    Field("renegotiate-size", "str", "indefinite"), Field("retain-certificate", "enum", "true", ("true", "false")),
    Field("ssl-c3d", "enum", "disabled", ED), Field("ssl-forward-proxy", "enum", "disabled", ED),
    Field("ssl-forward-proxy-bypass", "enum", "disabled", ED),
    Field("ssl-sign-hash", "enum", "any", ("any", "sha1", "sha256", "sha384")),
    Field("unclean-shutdown", "enum", "enabled", ED))
RENEGOTIATION = ("request", "require", "require-strict")
TCP_TUNED = ("f5-tcp-lan", "f5-tcp-mobile", "f5-tcp-progressive", "f5-tcp-wan", "mptcp-mobile-optimized",
             "tcp-lan-optimized", "tcp-legacy", "tcp-mobile-optimized", "tcp-wan-optimized")
def _ed(*names_defaults: tuple[str, str]) -> tuple[Field, ...]:
    return tuple(Field(n, "enum", d, ED) for n, d in names_defaults)


# stored only: the lab's TCP and fastL4 handling follows the kernel's, whatever these say (F5's defaults)
PROFILE_TCP = (
    *_ed(("ack-on-push", "enabled"), ("auto-proxy-buffer-size", "disabled"), ("auto-receive-window-size", "disabled"),
         ("auto-send-buffer-size", "disabled"), ("delayed-acks", "enabled"), ("enhanced-loss-recovery", "disabled"),
         ("fast-open", "enabled"), ("proxy-options", "disabled"), ("reset-on-timeout", "enabled"),
         ("selective-acks", "enabled"), ("syn-cookie-enable", "enabled"), ("timestamps", "enabled"),
         ("verified-accept", "disabled")),
    Field("congestion-control", "enum", "high-speed", ("bbr", "cdg", "chd", "cubic", "high-speed", "illinois",
                                                       "new-reno", "none", "reno", "scalable", "vegas", "westwood",
                                                       "woodside")),
    Field("idle-timeout", "int", 300, minimum=0, maximum=4294967295),
    Field("init-cwnd", "int", 10, minimum=0, maximum=64), Field("init-rwnd", "int", 10, minimum=0, maximum=64),
    Field("keep-alive-interval", "int", 1800, minimum=1, maximum=4294967295),
    Field("minimum-rto", "int", 1000, minimum=1, maximum=5000),
    Field("nagle", "enum", "enabled", ED + ("auto",)),
    Field("proxy-buffer-high", "int", 49152, minimum=64, maximum=33554432),
    Field("proxy-buffer-low", "int", 32768, minimum=64, maximum=33554432),
    Field("receive-window-size", "int", 65535, minimum=64, maximum=33554432),
    Field("send-buffer-size", "int", 65535, minimum=64, maximum=33554432),
    Field("tcp-options", "str", "none"), Field("zero-window-timeout", "int", 20000, minimum=0, maximum=4294967295))
PROFILE_FASTL4 = (
    Field("client-timeout", "int", 30, minimum=0, maximum=86400), Field("idle-timeout", "str", "300"),
    Field("keep-alive-interval", "str", "disabled"), Field("mss-override", "int", 0, minimum=0, maximum=9162),
    *_ed(("loose-close", "disabled"), ("loose-initialization", "disabled"), ("reset-on-timeout", "enabled"),
         ("syn-cookie-enable", "enabled"), ("syn-cookie-whitelist", "disabled")),
    Field("pva-acceleration", "enum", "full", ("full", "partial", "none", "dedicated")),
    Field("tcp-close-timeout", "str", "5"), Field("tcp-handshake-timeout", "str", "5"))
STARTTLS = (Field("activation-mode", "enum", "allow", ("allow", "none", "require")),)
HTTP2_MODES = ("alpn", "always", "npn")
# ltm profile http2: activation-modes alpn (TLS with ALPN h2) or always (h2 from the first byte, h2c
# on a clear virtual) and concurrent-streams-per-connection act (node/ltm/h2gate.py); the rest is stored
PROFILE_HTTP2 = (
    Field("activation-modes", "list", ("alpn",), choices=HTTP2_MODES),
    Field("concurrent-streams-per-connection", "int", 10, minimum=1, maximum=256),
    Field("connection-idle-timeout", "int", 300, minimum=1, maximum=4294967295),
    *_ed(("enforce-tls-requirements", "enabled"), ("include-content-length", "disabled"),
         ("insert-header", "disabled")),
    Field("frame-size", "int", 2048, minimum=1024, maximum=16384),
    Field("header-table-size", "int", 4096, minimum=0, maximum=65535),
    Field("insert-header-name", "str", "X-HTTP2"),
    Field("receive-window", "int", 32, minimum=16, maximum=128),
    Field("write-size", "int", 16384, minimum=2048, maximum=32768))
# F5's adapt profile (request-adapt and response-adapt alike): which internal virtual, how much
# preview, how long to wait, what to do when the ICAP service is down
PROFILE_ADAPT = (Field("internal-virtual", "ref", "none", ref="ltm virtual"),
                 Field("preview-size", "int", 1024, minimum=0, maximum=4294967295),
                 Field("timeout", "int", 0, minimum=0, maximum=4294967295),
                 Field("service-down-action", "enum", "ignore", ("ignore", "reset", "drop")),
                 Field("allow-http-10", "enum", "no", YN), Field("enabled", "enum", "yes", YN))
# the ICAP profile of an internal virtual: the ICAP request's URI and headers (F5's macros
# ${SERVER_IP} and ${SERVER_PORT} name the ICAP server picked), how much of a body to preview
PROFILE_ICAP = (Field("uri", "str", "none"), Field("header-from", "str", "none"), Field("host", "str", "none"),
                Field("referer", "str", "none"), Field("user-agent", "str", "none"),
                Field("preview-length", "int", 0, minimum=0, maximum=4294967295))
# ltm profile sip, F5's properties and defaults (a 14.1 device's /Common/sip). A virtual with one
# parses SIP (node/ltm/sip.py): max-size, insert-via-header, secure-via-header, user-via-header and
# community act (Call-ID persistence, a Via inserted; insert-record-route-header stored only); the rest is stored
PROFILE_SIP = (
    Field("alg-enable", "enum", "disabled", ED), Field("community", "str", "none"),
    *_ed(("dialog-aware", "disabled"), ("insert-record-route-header", "disabled"), ("insert-via-header", "disabled"),
         ("secure-via-header", "disabled"), ("security", "disabled"), ("terminate-on-bye", "enabled")),
    Field("dialog-establishment-timeout", "int", 10, minimum=0, maximum=4294967295),
    Field("enable-sip-firewall", "enum", "no", NY), Field("log-profile", "str", "none"),
    Field("log-publisher", "str", "none"), Field("max-media-sessions", "int", 6, minimum=0, maximum=4294967295),
    Field("max-registrations", "int", 100, minimum=0, maximum=4294967295),
    Field("max-sessions-per-registration", "int", 50, minimum=0, maximum=4294967295),
    Field("max-size", "int", 65535, minimum=0, maximum=4294967295),
    Field("registration-timeout", "int", 3600, minimum=0, maximum=4294967295),
    Field("rtp-proxy-style", "enum", "symmetric", ("symmetric", "restricted-by-ip-address", "any-location")),
    Field("sip-session-timeout", "int", 300, minimum=0, maximum=4294967295),
    Field("user-via-header", "str", "none"))
# F5's PPTP profile: its call logging (a log publisher, CSV or not, with the destination or not)
PROFILE_PPTP = (Field("csv-format", "enum", "disabled", ED), Field("include-destination-ip", "enum", "disabled", ED),
                Field("publisher-name", "str", "none"))
# F5's FTP profile (a 14.1 device's /Common/ftp): the data channel's port, FTPS, active mode,
# RFC 2428 EPSV/EPRT translation, ASM security, the data channel's TCP profile, ALG logging
PROFILE_FTP = (*_ed(("allow-active-mode", "enabled"), ("allow-ftps", "disabled"), ("enforce-tls-session-reuse", "disabled"),
                    ("inherit-parent-profile", "disabled"), ("inherit-vlan-list", "disabled"), ("security", "disabled"),
                    ("translate-extended", "enabled")),
               Field("ftps-mode", "enum", "disallow", ("disallow", "allow", "require")),
               Field("log-profile", "str", "none"), Field("log-publisher", "str", "none"),
               Field("port", "int", 20, minimum=0, maximum=65535))
PROFILE_EXTRA = {
    "pptp": PROFILE_PPTP, "ftp": PROFILE_FTP, "sip": PROFILE_SIP,
    "icap": PROFILE_ICAP, "request-adapt": PROFILE_ADAPT, "response-adapt": PROFILE_ADAPT,
    "smtps": STARTTLS, "client-ldap": STARTTLS, "server-ldap": STARTTLS,
    "http": PROFILE_HTTP, "http2": PROFILE_HTTP2,
    "http-proxy-connect": (Field("default-state", "enum", "disabled", ED),),
    "tcp": PROFILE_TCP,
    "fastl4": PROFILE_FASTL4,
    "client-ssl": (*PROFILE_SSL, replace(SSL_FILES[0], default="/Common/default.crt"),
                   replace(SSL_FILES[1], default="/Common/default.key"), SSL_FILES[2],
                   Field("secure-renegotiation", "enum", "require", RENEGOTIATION),
                   Field("allow-dynamic-record-sizing", "enum", "disabled", ED),
                   Field("allow-non-ssl", "enum", "disabled", ED), Field("client-cert-ca", "str", "none"),
                   Field("cert-lookup-by-ipaddr-port", "enum", "disabled", ED),
                   Field("cert-extension-includes", "list", ()), Field("mode", "enum", "enabled", ED),
                   Field("ocsp-stapling", "enum", "disabled", ED),
                   Field("notify-cert-status-to-virtual-server", "enum", "disabled", ED),
                   Field("renegotiate-max-record-delay", "str", "indefinite"),
                   # SSL forward proxy (node/ltm/forge.py): the CA that signs forged certificates (before
                   # 14.0 as these; since, a cert-key-chain entry with usage CA), how long they live, and
                   # the bypass lists (data groups: *-whitelist bypass, *-blacklist intercept)
                   Field("proxy-ca-cert", "ref", "none", ref="sys file ssl-cert"),
                   Field("proxy-ca-key", "ref", "none", ref="sys file ssl-key"),
                   Field("proxy-ca-passphrase", "secret"), Field("cert-lifespan", "int", 30, minimum=1, maximum=3650),
                   Field("forward-proxy-bypass-default-action", "enum", "intercept", ("intercept", "bypass")),
                   Field("hostname-whitelist", "str", "none"), Field("hostname-blacklist", "str", "none"),
                   Field("source-ip-whitelist", "str", "none"), Field("source-ip-blacklist", "str", "none"),
                   Field("dest-ip-whitelist", "str", "none"), Field("dest-ip-blacklist", "str", "none"),
                   Field("bypass-on-handshake-alert", "enum", "disabled", ED),
                   Field("bypass-on-client-cert-fail", "enum", "disabled", ED),
                   Field("c3d-drop-unknown-ocsp-status", "enum", "drop", ("drop", "ignore")),
                   Field("c3d-ocsp", "str", "none"),
                   Field("data-0rtt", "enum", "disabled", ("disabled", "enabled-with-anti-replay",
                                                           "enabled-no-anti-replay"))),
    "server-ssl": (*PROFILE_SSL, replace(SSL_FILES[0], default="none"), replace(SSL_FILES[1], default="none"),
                   SSL_FILES[2], Field("secure-renegotiation", "enum", "require-strict", RENEGOTIATION),
                   Field("authenticate-name", "str", "none"),
                   Field("expire-cert-response-control", "enum", "drop", ("drop", "ignore")),
                   Field("untrusted-cert-response-control", "enum", "drop", ("drop", "ignore")),
                   Field("session-ticket", "enum", "disabled", ED), Field("data-0rtt", "enum", "disabled", ED),
                   Field("c3d-ca-cert", "str", "none"), Field("c3d-ca-key", "str", "none"),
                   Field("c3d-cert-lifespan", "int", 24, minimum=0),
                   Field("c3d-cert-extension-includes", "list", ()))}
PROFILE_TYPES = tuple(
    ObjType(f"ltm profile {p}", "Profile", (
        Field("defaults-from", "str", f"/Common/{b}"), Field("description", "str"),
        *PROFILE_EXTRA.get(p, ()))) for p, b in PROFILE_BUILTINS.items())
# sys file ssl-cert / ssl-key (node/config/ssl_files.py): installed from a file on the device
# (source-path); the rest is what the device read from it. A device's own default.crt/.key
# (under /config/ssl/) stays on it; installed files are synced.
SSL_OWN = "file:///config/ssl/"


def _ssl_scope(values: dict) -> str:
    return "local" if str(values.get("source-path", "")).startswith(SSL_OWN) else "synced"


SSL_FILE_COMMON = (Field("source-path", "str", required=True), Field("checksum", "str"), Field("size", "int"),
                   Field("key-type", "str"), Field("description", "str"),
                   # the file's record as a BIG-IP keeps it (ssl_files.stamp): when, by whom, how often
                   Field("create-time", "str"), Field("created-by", "str"), Field("last-update-time", "str"),
                   Field("updated-by", "str"), Field("mode", "int"), Field("revision", "int"))
SSL_FILE_TYPES = (
    ObjType("sys file ssl-cert", "Certificate File", (
        *SSL_FILE_COMMON, Field("subject", "str"), Field("issuer", "str"), Field("expiration-date", "int"),
        Field("expiration-string", "str"), Field("serial-number", "str"), Field("version", "int"),
        Field("is-bundle", "enum", "false", TF), Field("fingerprint", "str"),
        Field("certificate-key-size", "int"), Field("certificate-key-curve-name", "str")), scope=_ssl_scope),
    ObjType("sys file ssl-key", "Certificate Key File", (
        *SSL_FILE_COMMON, Field("key-size", "int"), Field("curve-name", "str"),
        Field("security-type", "enum", "normal", ("normal", "password", "fips")),
        Field("passphrase", "sealed")), scope=_ssl_scope))   # the data plane decrypts the key with it
# Persistence profiles: source-addr and cookie act (node/ltm/persist.py); the rest of their settings are stored.
PERSIST_BUILTINS = {"source-addr": "source_addr", "cookie": "cookie", "dest-addr": "dest_addr", "msrdp": "msrdp",
                    "universal": "universal", "hash": "hash"}
PERSIST_COMMON = (Field("description", "str"), Field("match-across-pools", "enum", "disabled", ED),
                  Field("match-across-services", "enum", "disabled", ED),
                  Field("match-across-virtuals", "enum", "disabled", ED), Field("mirror", "enum", "disabled", ED),
                  Field("override-connection-limit", "enum", "disabled", ED))
PERSIST_TYPES = (
    ObjType("ltm persistence source-addr", "Persistence Profile", (
        Field("defaults-from", "str", "/Common/source_addr"), Field("timeout", "str", "180"),
        Field("mask", "str", "none"), Field("hash-algorithm", "enum", "default", ("default", "carp")),
        Field("map-proxies", "enum", "enabled", ED), *PERSIST_COMMON)),
    ObjType("ltm persistence cookie", "Persistence Profile", (
        Field("defaults-from", "str", "/Common/cookie"),
        Field("method", "enum", "insert", ("insert", "rewrite", "passive", "hash")),
        Field("cookie-name", "str", "none"), Field("expiration", "str", "0"),
        Field("always-send", "enum", "disabled", ED), Field("httponly", "enum", "enabled", ED),
        Field("secure", "enum", "enabled", ED), Field("timeout", "str", "180"),
        Field("cookie-encryption", "enum", "disabled", ("disabled", "preferred", "required")),
        Field("cookie-encryption-passphrase", "sealed"), *PERSIST_COMMON)),
    # stored only: the lab's proxy persists by source address and cookie alone
    ObjType("ltm persistence dest-addr", "Persistence Profile", (
        Field("defaults-from", "str", "/Common/dest_addr"), Field("timeout", "str", "180"),
        Field("mask", "str", "none"), Field("hash-algorithm", "enum", "default", ("default", "carp")),
        *PERSIST_COMMON)),
    ObjType("ltm persistence msrdp", "Persistence Profile", (
        Field("defaults-from", "str", "/Common/msrdp"), Field("has-session-dir", "enum", "no", NY),
        Field("timeout", "str", "300"), *PERSIST_COMMON)),
    ObjType("ltm persistence universal", "Persistence Profile", (
        Field("defaults-from", "str", "/Common/universal"), Field("rule", "ref", "none", ref="ltm rule"),
        Field("timeout", "str", "180"), *PERSIST_COMMON)),
    ObjType("ltm persistence hash", "Persistence Profile", (
        Field("defaults-from", "str", "/Common/hash"), Field("hash-algorithm", "enum", "default", ("default", "carp")),
        Field("hash-offset", "int", 0, minimum=0, maximum=65535), Field("hash-length", "int", 0, minimum=0, maximum=65535),
        Field("hash-start-pattern", "str"), Field("hash-end-pattern", "str"),
        Field("hash-buffer-limit", "int", 0, minimum=0, maximum=65535), Field("rule", "ref", "none", ref="ltm rule"),
        Field("timeout", "str", "180"), *PERSIST_COMMON)))
PROFILE_TYPES += (ObjType("ltm message-routing sip profile session", "Profile", (
    Field("defaults-from", "str", "/Common/sipsession"), Field("description", "str"))),)
TUNNEL_TYPES = tuple(ObjType(f"net tunnels {t}", "Tunnel Profile", (
    Field("defaults-from", "str", f"/Common/{t}"), Field("description", "str"))) for t in ("gre", "ipip"))

# sys db variables automation reads or sets: key, default, value on a lab node, range
SYS_DB = (("setup.run", "true", "false", "true false"),        # the setup utility has run (onboarded)
          ("ui.advisory.enabled", "false", "false", "true false"),
          ("ui.advisory.color", "green", "green", "blue green orange red yellow"),
          ("ui.advisory.text", "", "", ""),
          ("config.allow.rfc3927", "enable", "enable", "enable disable"),
          ("failover.nettimeoutsec", "3", "3", "integer min:0 max:4294967295"))   # heartbeat timeout

SYSLOG_LEVELS = ("debug", "info", "notice", "warning", "err", "crit", "alert", "emerg")
# sys syslog as a BIG-IP ships it: facility from/to levels, and remote servers (stored only: nothing is sent)
SYSLOG = tuple(Field(f"{facility}-{end}", "enum", level, SYSLOG_LEVELS) for facility, low in (
    ("auth-priv", "notice"), ("cron", "warning"), ("daemon", "notice"), ("kern", "debug"), ("local6", "notice"),
    ("mail", "notice"), ("messages", "notice"), ("user-log", "notice"))
    for end, level in (("from", low), ("to", "warning" if facility == "messages" else "emerg"))) + (
    Field("clustered-host-slot", "enum", "enabled", ED), Field("clustered-message-slot", "enum", "disabled", ED),
    Field("console-log", "enum", "enabled", ED), Field("iso-date", "enum", "disabled", ED),
    Field("remote-servers", "items", (), sub=(Field("host", "str"), Field("local-ip", "str", "none"),
                                              Field("remote-port", "int", 514, minimum=0, maximum=65535))),
    Field("include", "str"), Field("description", "str"))

PROVISION_MODULES = ("afm", "am", "apm", "asm", "avr", "cgnat", "dos", "fps", "gtm", "ilx", "lc", "ltm", "pem",
                     "sslo", "swg", "urldb")   # every module `sys provision` lists on a BIG-IP 17.1
UNPARTITIONED = ("sys provision", "auth partition", "sys db", "sys ha-group", "sys daemon-ha", "net interface",
                 "net trunk")
OWNER = Field("app-service", "str")   # the iApp (or AS3 application) that owns an object: kept and shown on every type
FOLDER_FIELDS = (
    Field("device-group", "str", "none"), Field("hidden", "enum", "false", TF),
    Field("inherited-devicegroup", "enum", "true", TF), Field("inherited-traffic-group", "enum", "true", TF),
    Field("no-ref-check", "enum", "false", TF), Field("traffic-group", "str", "/Common/traffic-group-1"),
    Field("description", "str"))   # named without a folder: fullPath "ltm", not "/Common/ltm"

TYPES: dict[str, ObjType] = {t.path: replace(t, fields=t.fields + (OWNER,)) for t in (
    ObjType("sys provision", "Provision", (
        Field("cpu-ratio", "int", 0, minimum=0, maximum=255), Field("disk-ratio", "int", 0, minimum=0, maximum=255),
        Field("level", "enum", "none", ("custom", "dedicated", "minimum", "nominal", "none")),
        Field("memory-ratio", "int", 0, minimum=0, maximum=255)), scope="local"),
    # one per data interface, named as the lab names them (the VLAN's name, not 1.1): stored only
    ObjType("net interface", "Interface", (
        Field("bundle", "str", "not-supported"), Field("bundle-speed", "str", "not-supported"),
        Field("description", "str"), Field("flow-control", "enum", "tx-rx", ("none", "rx", "tx", "tx-rx")),
        Field("force-gigabit-fiber", "enum", "disabled", ED), Field("if-index", "int", 0, minimum=0),
        Field("lldp-admin", "enum", "txonly", ("disable", "txonly", "rxonly", "txrx")),
        Field("lldp-tlvmap", "int", 130943, minimum=0), Field("mac-address", "str"),
        Field("media-fixed", "str", "auto"), Field("media-max", "str", "auto"), Field("media-sfp", "str", "auto"),
        Field("mtu", "int", 1500, minimum=576, maximum=9198), Field("port-fwd-mode", "enum", "l3", ("l2", "l3")),
        Field("prefer-port", "enum", "sfp", ("fixed", "sfp")), Field("qinq-ethertype", "str", "0x8100"),
        Field("stp", "enum", "enabled", ED), Field("stp-auto-edge-port", "enum", "enabled", ED),
        Field("stp-edge-port", "enum", "true", TF), Field("stp-link-type", "enum", "auto", ("auto", "p2p", "shared"))),
        scope="local"),
    ObjType("net vlan", "VLAN", (
        Field("interfaces", "list", ()), Field("tag", "int", 4094, minimum=1, maximum=4094),
        Field("mtu", "int", 1500, minimum=576, maximum=9198),
        Field("failsafe", "enum", "disabled", ED), Field("failsafe-timeout", "int", 90, minimum=0, maximum=4294967295),
        Field("failsafe-action", "enum", "failover-restart-tm", ("failover", "failover-restart-tm", "reboot",
                                                                 "restart-all")),
        Field("description", "str"), *STORED_VLAN), scope="local"),
    # stored only: the lab's interfaces are not bonded
    ObjType("net trunk", "Trunk", (
        Field("interfaces", "list", ()), Field("lacp", "enum", "disabled", ED),
        Field("lacp-mode", "enum", "active", ("active", "passive")),
        Field("lacp-timeout", "enum", "long", ("long", "short")),
        Field("link-select-policy", "enum", "auto", ("auto", "maximum-bandwidth")),
        Field("distribution-hash", "enum", "src-dst-ipport", ("dst-mac", "src-dst-ipport", "src-dst-mac", "index")),
        Field("qinq-ethertype", "str", "0x8100"), Field("stp", "enum", "enabled", ED),
        Field("description", "str")), scope="local"),
    # a route domain other than 0 is a VRF device of the node (node/routes.py); route domain 0,
    # which every BIG-IP has, lists every VLAN no other route domain holds (node/config/route_domains.py)
    ObjType("net route-domain", "Route Domain", (
        Field("id", "int", required=True, minimum=0, maximum=65534), Field("description", "str"),
        Field("parent", "str", "none"), Field("strict", "enum", "enabled", ED),
        Field("connection-limit", "int", 0, minimum=0, maximum=4294967295),
        Field("throughput-capacity", "int", 0, minimum=0, maximum=4294967295),
        Field("vlans", "list", (), ref="net vlan"), Field("routing-protocol", "list", ()), Field("bwc-policy", "str"),
        Field("flow-eviction-policy", "str"), Field("fw-enforced-policy", "str"), Field("fw-staged-policy", "str"),
        Field("ip-intelligence-policy", "str"), Field("service-policy", "str"))),
    # stored only: the management network is the lab's, routed by no node
    ObjType("sys management-route", "Management Route", (
        Field("network", "str", required=True), Field("gateway", "ip", required=True),
        Field("mtu", "int", 0, minimum=0, maximum=9198), Field("description", "str")), scope="local"),
    ObjType("sys syslog", "Syslog", SYSLOG, scope="local"),
    ObjType("net self", "Self IP", (
        Field("address", "cidr", required=True), Field("vlan", "ref", ref="net vlan", required=True),
        Field("traffic-group", "ref", LOCAL_ONLY, ref="cm traffic-group"),
        Field("allow-service", "str", "none"), Field("description", "str")),
        scope=lambda v: "local" if v.get("traffic-group", LOCAL_ONLY) == LOCAL_ONLY else "synced"),
    ObjType("cm device", "Device", (
        Field("configsync-ip", "str", "none"), Field("unicast-address", "list", ()),
        Field("mirror-ip", "str", "any6"), Field("mirror-secondary-ip", "str", "any6"), Field("management-ip", "str"),
        # the optional multicast failover path (off while multicast-ip is any6 or the port 0)
        Field("multicast-interface", "str"), Field("multicast-ip", "str", "any6"),
        Field("multicast-port", "int", 0, minimum=0, maximum=65535),
        Field("ha-capacity", "int", 0, minimum=0, maximum=100000), Field("comment", "str")), scope="local"),
    ObjType("cm device-group", "Device Group", (
        Field("type", "enum", "sync-only", ("sync-only", "sync-failover")),
        Field("devices", "list", ()),   # device names; REST serves them as the devices subcollection
        Field("auto-sync", "enum", "disabled", ED), Field("full-load-on-sync", "enum", "false", TF),
        Field("asm-sync", "enum", "disabled", ED),
        Field("save-on-auto-sync", "enum", "false", TF),
        Field("network-failover", "enum", "enabled", ED),
        Field("incremental-config-sync-size-max", "int", 1024, minimum=128, maximum=10240),
        Field("description", "str")), scope="trust"),
    ObjType("sys daemon-ha", "Daemon HA", (
        Field("heartbeat", "enum", "enabled", ED), Field("heartbeat-action", "enum", "restart", DAEMON_HA_ACTIONS),
        Field("running", "enum", "enabled", ED), Field("running-timeout", "int", 2, minimum=0, maximum=4294967295),
        Field("not-running-action", "enum", "go-offline-downlinks", DAEMON_HA_ACTIONS),
        Field("description", "str")), scope="local"),
    ObjType("sys ha-group", "HA Group", (
        Field("active-bonus", "int", 10, minimum=0, maximum=100), Field("pools", "items", (), sub=HA_POOL_FIELDS),
        Field("status", "enum", "enabled", ED), Field("description", "str")),
        scope="local", flags=ED, flag_field="status"),
    ObjType("cm traffic-group", "Traffic Group", (
        Field("ha-order", "list", (), ref="cm device"), Field("auto-failback-enabled", "enum", "false", TF),
        Field("ha-group", "str", "none"),
        Field("auto-failback-time", "int", 60, minimum=0, maximum=300),
        Field("failover-method", "enum", "ha-order", ("ha-order", "ha-score", "load-aware")),
        Field("ha-load-factor", "int", 1, minimum=1, maximum=1000), Field("is-floating", "enum", "true", TF),
        Field("mac", "str", "none"), Field("unit-id", "int", minimum=0, maximum=255),
        Field("description", "str")), scope="trust"),
    ObjType("ltm node", "Node", (
        Field("address", "ip"), Field("fqdn", "record", sub=FQDN_FIELDS), Field("description", "str"),
        Field("session", "enum", "user-enabled", ("user-enabled", "user-disabled")),
        Field("state", "enum", "user-up", ("user-up", "user-down")), Field("monitor", "str", "none"),
        *STORED_NODE)),
    ObjType("ltm pool", "Pool", (
        Field("load-balancing-mode", "enum", "round-robin",
              ("round-robin", "ratio-member", "least-connections-member")),
        Field("monitor", "str", "none"), Field("min-active-members", "int", 0, minimum=0, maximum=65535),
        Field("members", "members", ()), Field("description", "str"), *STORED_POOL)),
    ObjType("ltm virtual-address", "Virtual Address", (
        Field("address", "ip", required=True), Field("traffic-group", "ref", "/Common/traffic-group-1",
                                                       ref="cm traffic-group"),
        Field("arp", "enum", "enabled", ED), Field("enabled", "enum", "yes", ("yes", "no")),
        *STORED_VIRTUAL_ADDRESS)),
    ObjType("ltm virtual", "Virtual Server", (
        Field("destination", "dest", required=True), Field("mask", "str", "255.255.255.255"),
        # ip-forward: F5's "Forwarding (IP)" type (REST ipForward: true): no pool, routes what it takes
        Field("ip-forward", "switch"),
        # stateless: F5's "Stateless" type (REST stateless: true): UDP, a pool, no connection table
        Field("stateless", "switch"),
        # internal: F5's "Internal" type (REST internal: true): never listens; an adapt profile sends
        # it messages, which it passes to its pool's ICAP servers
        Field("internal", "switch"),
        Field("ip-protocol", "enum", "tcp", ("tcp", "udp", "any")), Field("pool", "ref", ref="ltm pool"),
        Field("profiles", "list", ("tcp",)), Field("rules", "list", (), ref="ltm rule"),
        Field("policies", "list", (), ref="ltm policy"), Field("status", "enum", "enabled", ED),
        Field("persist", "items", (), sub=(Field("default", "enum", "yes", NY, rest_as="tmDefault"),)),
        Field("fallback-persistence", "str", "none"),
        # clone pools: each copies the virtual's client-side or server-side packets to its members
        Field("clone-pools", "items", (), sub=(Field("context", "enum", "clientside", ("clientside", "serverside")),)),
        # the VLANs it listens on (vlans-enabled) or not (vlans-disabled), each an existing VLAN;
        # virtual_checks.vlan_switch keeps one of the two set
        Field("vlans", "list", (), ref="net vlan"), Field("vlans-enabled", "switch"), Field("vlans-disabled", "switch"),
        Field("description", "str"), *STORED_VIRTUAL), flags=ED, flag_field="status"),
    # F5's policy model (node/config/policy.py): drafts in a Drafts folder, published to act; a
    # published policy on an HTTP virtual acts in the proxy (node/ltm/policies.py)
    ObjType("ltm policy", "Policy", (
        Field("controls", "list", ()), Field("requires", "list", ()),
        Field("strategy", "str", "/Common/first-match"),
        Field("status", "enum", "published", ("published", "draft", "legacy")),
        Field("rules", "items", (), sub=(Field("ordinal", "int", 0, minimum=0, maximum=4294967295),
                                         Field("conditions", "clauses"), Field("actions", "clauses"),
                                         Field("description", "str"))),
        Field("description", "str"))),
    ObjType("ltm rule", "Rule", (Field("api-anonymous", "str", ""), Field("description", "str"))),
    # a Tcl script of procs (F5 ships iApp helpers as these): `tmsh::include` and `tmsh::run cli script` use it
    ObjType("cli script", "Script", (Field("api-anonymous", "str", ""), Field("description", "str"))),
    ObjType("ltm data-group internal", "Data Group", (
        Field("type", "enum", None, ("string", "ip", "integer"), required=True),
        Field("records", "items", (), sub=(Field("data", "str"),)), Field("description", "str"))),
    ObjType("auth user", "User", (
        Field("password", "secret", required=True), Field("role", "enum", "guest", ROLES),
        Field("partition-access", "str", "all-partitions"),   # where the role applies (config/access.py)
        Field("description", "str"))),
    *[ObjType(f"ltm monitor {m}", "Monitor", (
        Field("interval", "int", 5, minimum=1, maximum=86400), Field("timeout", "int", 16, minimum=1, maximum=86400),
        *extra, Field("description", "str"), Field("defaults-from", "str", f"/Common/{m.replace('-', '_')}"),
        *STORED_MONITOR)) for m, extra in (
            ("http", (Field("send", "str", "GET /\\r\\n"), Field("recv", "str"))),
            ("https", (Field("send", "str", "GET /\\r\\n"), Field("recv", "str"), *MONITOR_TLS)),
            ("tcp", (Field("send", "str"), Field("recv", "str"))),
            ("udp", (Field("send", "str", "default send string"), Field("recv", "str"))),
            ("gateway-icmp", ()),
            # stored only (docs/design.md): icmp is probed as gateway-icmp, tcp-half-open by a TCP
            # connect; external runs its script (`run`, a sys file external-monitor) as F5's bigd does
            ("icmp", ()), ("tcp-half-open", ()),
            ("external", (Field("run", "str"), Field("args", "str"),
                          # the script's environment variables (tmsh `user-defined NAME VALUE`)
                          Field("user-defined", "record"))), *STORED_MONITOR_TYPES)],
    # an external monitor's script: its text is kept with the object (`content`, as a
    # certificate's pem), so it syncs; read from source-path (an upload) when installed
    ObjType("sys file external-monitor", "External Monitor File", (
        Field("source-path", "str", required=True), Field("checksum", "str"), Field("size", "int"),
        Field("description", "str"))),
    ObjType("ltm snat-translation", "SNAT Translation", (
        Field("address", "ip", required=True), Field("arp", "enum", "enabled", ED),
        Field("connection-limit", "int", 0, minimum=0, maximum=4294967295), Field("description", "str"),
        Field("enabled", "enum", "yes", ("yes", "no")), Field("inherited-traffic-group", "enum", "false", TF),
        Field("ip-idle-timeout", "str", "indefinite"), Field("tcp-idle-timeout", "str", "indefinite"),
        Field("traffic-group", "ref", "/Common/traffic-group-1", ref="cm traffic-group"),
        Field("udp-idle-timeout", "str", "indefinite"), Field("unit", "int", 1, minimum=0))),
    ObjType("ltm snatpool", "SNAT Pool", (
        Field("members", "list", (), ref="ltm snat-translation"), Field("description", "str"))),
    # an explicit HTTP proxy's resolver (ltm profile http explicit-proxy dns-resolver): each forward
    # zone's name servers as address:port (stored only)
    ObjType("net dns-resolver", "DNS Resolver", (
        Field("answer-default-zones", "enum", "no", YN), Field("cache-size", "int", 5767168, minimum=0),
        Field("forward-zones", "items", (), sub=(Field("nameservers", "list", ()),)),
        Field("randomize-query-name-case", "enum", "yes", YN), Field("route-domain", "str", "0"),
        Field("use-ipv4", "enum", "yes", YN), Field("use-ipv6", "enum", "yes", YN), Field("use-tcp", "enum", "yes", YN),
        Field("use-udp", "enum", "yes", YN), Field("description", "str"))),
    ObjType("net route", "Route", (
        Field("network", "network", required=True), Field("gw", "ip", required=True),
        Field("mtu", "int", 0, minimum=0, maximum=9198), Field("description", "str")), scope="local"),
    ObjType("sys db", "db variable", (
        Field("default-value", "str"), Field("scf-config", "enum", "false", TF), Field("value", "str"),
        Field("value-range", "str")), scope="local"),
    # F5's defaults; max-login-failures 0 locks no one out (node/logins.py keeps the count)
    ObjType("auth password-policy", "Password Policy", (
        Field("expiration-warning", "int", 7, minimum=1, maximum=255),
        Field("max-duration", "int", 99999, minimum=1, maximum=99999),
        Field("max-login-failures", "int", 0, minimum=0, maximum=65535),
        Field("min-duration", "int", 0, minimum=0, maximum=255),
        Field("minimum-length", "int", 6, minimum=6, maximum=255),
        Field("password-memory", "int", 0, minimum=0, maximum=127),
        Field("policy-enforcement", "enum", "disabled", ED),
        *(Field(f"required-{k}", "int", 0, minimum=0, maximum=127)
          for k in ("lowercase", "numeric", "special", "uppercase")))),
    # resolver and time settings: kept per device (bigip_base.conf), stored only (docs/design.md)
    ObjType("sys dns", "DNS", (
        Field("name-servers", "list", ()), Field("search", "list", ()), Field("include", "str"),
        Field("description", "str")), scope="local"),
    ObjType("sys ntp", "NTP", (
        Field("servers", "list", ()), Field("timezone", "str", "America/Los_Angeles"), Field("include", "str"),
        Field("description", "str")), scope="local"),
    ObjType("auth partition", "Partition", (
        Field("default-route-domain", "int", 0, minimum=0, maximum=65534), Field("description", "str"))),
    ObjType("sys folder", "folder", FOLDER_FIELDS),
    # iApps (node/config/iapp.py runs a service's template; its text is node/config/iapp_text.py)
    ObjType("sys application template", "Application Template", (
        Field("implementation", "str", ""), Field("presentation", "str", ""), Field("html-help", "str", ""),
        Field("role-acl", "list", ()), Field("run-as", "str", "none"), Field("requires-modules", "list", ()),
        Field("ignore-verification", "enum", "false", TF), Field("tmpl-checksum", "str"), Field("description", "str"))),
    ObjType("sys application service", "Application Service", (
        Field("template", "ref", ref="sys application template", required=True),
        Field("variables", "raw", ()), Field("tables", "raw", ()), Field("lists", "raw", ()), Field("metadata", "raw", ()),
        Field("strict-updates", "enum", "enabled", ED), Field("traffic-group", "str", "/Common/traffic-group-1"),
        Field("device-group", "str", "none"), Field("inherited-devicegroup", "enum", "true", TF),
        Field("inherited-traffic-group", "enum", "true", TF), Field("execute-action", "str"),
        Field("description", "str"))),
    *PROFILE_TYPES, *PERSIST_TYPES, *SSL_FILE_TYPES,
    *TUNNEL_TYPES,
    *GTM_TYPES,
)}

BUILTIN = {  # objects every device has from the start, as on a BIG-IP
    **{(t, path): {} for t, path in SINGLETONS.items()},
    ("cm traffic-group", "/Common/traffic-group-1"): {"unit-id": 1},
    ("sys daemon-ha", "/Common/tmm"): {"heartbeat-action": "go-offline-downlinks-restart"},
    ("sys daemon-ha", "/Common/bigd"): {"heartbeat-action": "restart"},
    ("sys daemon-ha", "/Common/gtmd"): {"heartbeat-action": "restart"},
    ("cm traffic-group", "/Common/traffic-group-local-only"): {"unit-id": 0, "is-floating": "false"},
    ("net route-domain", "/Common/0"): {"id": 0},
    ("ltm monitor http", "/Common/http"): {},
    ("ltm monitor https", "/Common/https"): {},
    ("ltm monitor tcp", "/Common/tcp"): {},
    ("ltm monitor udp", "/Common/udp"): {},
    ("ltm monitor gateway-icmp", "/Common/gateway_icmp"): {},
    **{(f"ltm monitor {m}", f"/Common/{m.replace('-', '_')}"): {} for m in ("icmp", "tcp-half-open", "external",
                                                                              *dict(STORED_MONITOR_TYPES))},
    **{(f"gtm monitor {m}", f"/Common/{m.replace('-', '_')}"): {"defaults-from": "none"} for m in GTM_MONITORS},
    **{("sys db", f"/Common/{key}"): {"default-value": default, "value": value, "value-range": vrange,
                                       "scf-config": "true"} for key, default, value, vrange in SYS_DB},
    ("auth partition", "/Common/Common"): {"description": "Repository for system objects and shared objects."},
    ("sys folder", PARTITION): {},
    **{(f"ltm profile {p}", f"/Common/{b}"): {"defaults-from": "none"} for p, b in PROFILE_BUILTINS.items()},
    ("ltm message-routing sip profile session", "/Common/sipsession"): {"defaults-from": "none"},
    # F5's HTTP-to-HTTPS redirect (its text takes the host without a port by getfield; the lab's iRules lack it)
    ("ltm rule", "/Common/_sys_https_redirect"): {
        "api-anonymous": "when HTTP_REQUEST {\n    HTTP::redirect https://[HTTP::host][HTTP::uri]\n}"},
    **{(f"ltm persistence {p}", f"/Common/{b}"): {"defaults-from": "none"} for p, b in PERSIST_BUILTINS.items()},
    # every BIG-IP's own pair; the daemon makes the files at its first start (node/config/ssl_files.py)
    ("sys file ssl-cert", "/Common/default.crt"): {"source-path": f"{SSL_OWN}ssl.crt/default.crt"},
    ("sys file ssl-key", "/Common/default.key"): {"source-path": f"{SSL_OWN}ssl.key/default.key"},
    ("sys file ssl-cert", "/Common/ca-bundle.crt"): {"source-path": f"{SSL_OWN}ssl.crt/ca-bundle.crt"},
    # the tuned TCP profiles every BIG-IP has (their tuning stored only: the lab's TCP is the kernel's)
    **{("ltm profile tcp", f"/Common/{n}"): {"defaults-from": "/Common/tcp"} for n in TCP_TUNED},
    ("ltm profile http", "/Common/http-explicit"): {"defaults-from": "/Common/http", "proxy-type": "explicit"},
    ("ltm profile http", "/Common/http-transparent"): {"defaults-from": "/Common/http", "proxy-type": "transparent"},
    **{(f"net tunnels {t}", f"/Common/{t}"): {"defaults-from": "none"} for t in ("gre", "ipip")},
}


def check_trusted(type_: str, values: dict, members: Callable[[], set]) -> None:
    """A device group takes only devices of the trust domain (`members`: their names), and a
    traffic group's ha-order names only such devices."""
    if type_ == "cm traffic-group":
        verb, names = values.get("ha-order", ("delete", ()))
        unknown = [n for n in ([names] if isinstance(names, str) else names)
                   if isinstance(n, str) and n != "none" and base_name(n) not in members()] if verb != "delete" else []
        if unknown:
            raise NotFound("Device", full_path(unknown[0]))
        return
    verb, names = values.get("devices", ("delete", ())) if type_ == "cm device-group" else ("delete", ())
    unknown = [n for n in names if n not in members()] if verb != "delete" else []
    if unknown:
        raise Invalid(f"device {unknown[0]} is not in the trust domain (add it to the trust first)")


def full_path(name: str, wild: bool = False, folder: str = PARTITION) -> str:
    """`pool1` -> `FOLDER/pool1` (/Common unless given); `/P/pool1` or `/P/F/pool1` stays as it is
    once its words are checked (whether the folder exists is the store's question). `wild` lets
    * and ? in (wide IP names)."""
    if name.startswith("/"):
        *dirs, name = name[1:].split("/")
        if not dirs or not all(NAME.match(d) and "~" not in d for d in dirs):
            raise NotFound("folder", "/" + "/".join(dirs))
        folder = "/" + "/".join(dirs)
    if not (WILD_NAME if wild else NAME).match(name) or "~" in name:
        raise Invalid(f'invalid name "{name}": names may use letters, digits and . _ - : % only')
    return f"{folder}/{name}"


def folder_path(name: str, folder: str = PARTITION) -> str:
    """A folder's own path from its name: `/P`, `/P/F`, or `F` inside `folder`."""
    if name.startswith("/") and name.count("/") == 1:
        return full_path(name[1:], folder="")
    return full_path(name, folder="" if folder == "/" else folder)


def folder_of(path: str) -> str:
    """/P/F/name -> /P/F; /P -> /"""
    return path.rsplit("/", 1)[0] or "/"


def partition_of(path: str) -> str:
    """/P/F/name -> P"""
    return path.split("/")[1]


def in_folder(path: str, folder: str) -> bool:
    """Whether `path` lies inside `folder`, at any depth."""
    return path.startswith(folder.rstrip("/") + "/") and path != folder


def object_path(type_: str, name: str, folder: str = PARTITION) -> str:
    """An object's path from the name a user gives (tmsh or REST), a relative name inside
    `folder`: `/P/name` or `/P/F/name` for most, a folder's own path, a topology record's
    normalised `ldns: ... server: ...`, the one global-settings object. Unpartitioned objects
    (sys db, auth partition, sys provision) are keyed under /Common."""
    if type_ == "gtm topology":
        return topology_name(term_words(name, "topology"))
    if type_ in SINGLETONS:
        return SINGLETONS[type_]
    if type_ == "sys folder":
        return folder_path(name, folder)
    if type_ in UNPARTITIONED:
        return full_path(name)
    if type_ == "ltm policy" and name.startswith("Drafts/"):    # a draft, in the folder's Drafts
        return full_path(name.split("/", 1)[1], folder=f"{folder.rstrip('/')}/Drafts")
    if type_ == "sys application service" and not name.startswith("/"):   # `web` -> /P/web.app/web, its own folder
        head, _, name = name.rpartition("/")                              # (`web.app/web` names it too)
        return full_path(name, folder=full_path(head or f"{name}.app", folder=folder))
    return full_path(name, wild=type_.startswith("gtm wideip"), folder=folder)


def base_name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def coerce(t: ObjType, f: Field, value, folder: str = PARTITION) -> Any:
    """A value given in tmsh (or sync) form, checked and normalised, or ConfigError. Names are
    made full paths in `folder` (the store then looks in /Common for one not found there)."""
    where = f'{t.path} {f.name}'
    if f.kind == "int":
        try:
            n = int(value)
        except (TypeError, ValueError):
            raise Invalid(f'{where}: "{value}" is not an integer') from None
        if (f.minimum is not None and n < f.minimum) or (f.maximum is not None and n > f.maximum):
            raise Invalid(f"{where}: {n} is out of range ({f.minimum}-{f.maximum})")
        return n
    if f.kind == "list":
        if isinstance(value, str):
            value = [] if value == "none" else [value]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise Invalid(f"{where} takes a list of names")
        if f.choices and (bad := [v for v in value if v not in f.choices]):
            raise Invalid(f'{where}: "{bad[0]}" is not one of ' + ", ".join(f.choices))
        return list(dict.fromkeys(full_path(v) if f.ref else v for v in value))   # a list of objects: full paths
    if f.kind == "clauses":   # a forward's pool or virtual by its full path
        return [{k: full_path(v, folder=folder) if k in ("pool", "virtual") else v for k, v in c.items()}
                for c in policy_words.clauses(where, f.name, value)]
    if f.kind in ("members", "items", "raw"):
        return value  # checked by the store (raw: an iApp's variables, tables, lists: node/config/iapp_text.py), which knows the object
    if f.kind == "record":
        if not isinstance(value, dict):
            raise Invalid(f"{where} takes {{ KEY VALUE ... }}")
        subs = {sf.name: sf for sf in f.sub}
        unknown = [k for k in value if k not in subs]
        if unknown:
            raise Invalid(f'{where}: "{unknown[0]}" unknown property')
        return {k: coerce(t, subs[k], v, folder) for k, v in value.items()}
    if f.kind == "terms":
        if isinstance(value, str):
            value = [] if value == "none" else [value]
        return list(dict.fromkeys(normalize_term(term_words(str(v), where), where) for v in value))
    if f.kind == "switch":   # set (True) or not (None, not stored)
        if value in (True, "true", "enabled"):
            return True
        if value in (False, None, "false", "disabled"):
            return None
        raise Invalid(f'{where}: "{value}" is not true or false')
    if not isinstance(value, str):
        raise Invalid(f"{where} takes a single value")
    if f.kind == "enum":
        if value not in f.choices:
            raise Invalid(f'{where}: "{value}" is not one of ' + ", ".join(f.choices))
        return value
    if f.kind == "ref":
        return "none" if value == "none" else full_path(value, folder=folder)
    if f.kind == "secret":
        return value if value.startswith(HASH_PREFIX) else hash_secret(value)
    if f.kind == "sealed":
        return seal(value)
    rd = 0
    if f.kind in ("ip", "cidr", "network"):
        value, rd = split_rd(value)
    try:
        if f.kind == "ip":
            return with_rd(str(ipaddress.ip_address(value)), rd)
        if f.kind == "cidr":
            return with_rd(str(ipaddress.ip_interface(value)), rd) if "/" in value else _fail()
        if f.kind == "dest":
            return destination(value, folder)
        if f.kind == "network":
            return with_rd("default" if value in ("default", "0.0.0.0/0") else str(ipaddress.ip_network(value)), rd)
    except ValueError:
        raise Invalid(f'{where}: "{value}" is not a valid '
                      + {"ip": "IP address", "cidr": "address/prefix", "dest": "address:port",
                         "network": "network/prefix"}[f.kind]) from None
    return value


def split_rd(value: str) -> tuple[str, int]:
    """`10.1.1.1%2/24` -> (`10.1.1.1/24`, 2); no suffix is route domain 0 (the partition's default
    is added by the store before this)."""
    if "%" not in value:
        return value, 0
    addr, _, rest = value.partition("%")
    rd, slash, plen = rest.partition("/")
    if not rd.isdigit() or int(rd) > 65534:
        raise Invalid(f'"{value}": the route domain after % is a number 0 to 65534')
    return f"{addr}{slash}{plen}", int(rd)


def with_rd(value: str, rd: int) -> str:
    """An address (maybe with /prefix) with route domain `rd`'s suffix; 0 has none."""
    if not rd:
        return value
    addr, slash, plen = value.partition("/")
    return f"{addr}%{rd}{slash}{plen}"


def is_address(word: str) -> bool:
    """An IPv4 or IPv6 address literal (not a name, not a network)."""
    try:
        ipaddress.ip_address(word)
    except ValueError:
        return False
    return True


def plain(value: str) -> str:
    """An address (maybe with %route domain and /prefix) without its route domain."""
    return split_rd(value)[0] if "%" in value else value


def rd_of(value: str | None) -> int:
    """The route domain of a stored address, destination (/P/10.1.1.1%2:80) or member name."""
    if not value or "%" not in value:
        return 0
    digits = value.split("%", 1)[1]
    n = len(digits) - len(digits.lstrip("0123456789"))
    return int(digits[:n] or 0)


HASH_PREFIX = "$pbkdf2-sha256$"


def hash_secret(password: str, salt: bytes | None = None, rounds: int = 20000) -> str:
    """Passwords are kept hashed (as F5 keeps `encrypted-password`), never in clear."""
    salt = salt or os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, rounds)
    return f"{HASH_PREFIX}{rounds}${salt.hex()}${digest.hex()}"


def check_secret(password: str, stored: str) -> bool:
    try:
        rounds, salt, _ = stored.removeprefix(HASH_PREFIX).split("$")
        return hmac.compare_digest(hash_secret(password, bytes.fromhex(salt), int(rounds)), stored)
    except ValueError:
        return False


def _fail():
    raise ValueError


def destination(value: str, folder: str = PARTITION) -> str:
    """`10.1.10.100:80`, `/Common/10.1.10.100:80` or `10.1.10.100:http` -> `/Common/10.1.10.100:80`
    (a relative one in `folder`)."""
    if value.startswith("/"):
        folder, _, value = value.rpartition("/")
    addr, sep, port = value.rpartition(":") if value.count(":") == 1 else value.rpartition(".")
    if not sep:
        raise ValueError(value)
    number = port_number(port)
    if number is None or not 0 <= number <= 65535:
        raise ValueError(value)
    addr, rd = split_rd(addr)
    ip = ipaddress.ip_address(addr)
    return f"{folder}/{with_rd(str(ip), rd)}:{number}" if ip.version == 4 else f"{folder}/{with_rd(str(ip), rd)}.{number}"


def mask_prefix(mask: str | None) -> int:
    """A virtual's mask as a prefix length: `255.255.255.0` 24, `any` 0, none given 32."""
    if mask in (None, "", "none"):
        return 32
    return ipaddress.ip_network(f"0.0.0.0/{'0.0.0.0' if mask == 'any' else mask}").prefixlen


def split_destination(dest: str) -> tuple[str, int]:
    d = base_name(dest)
    if d.count(":") == 1:
        addr, port = d.split(":")
    else:
        addr, _, port = d.rpartition(".")
    return addr, int(port)


def member_name(value: str, folder: str = PARTITION) -> tuple[str, str | None]:
    """A member is `NODE:PORT` (its node in `folder` unless given a path; the port a number or, as
    tmsh lists it, a name: `10.1.20.11:http`); returns its full name and the address if NODE is one."""
    if value.startswith("/"):
        folder, _, value = value.rpartition("/")
    name, sep, port = value.rpartition(":")
    number = port_number(port) if sep else None
    if number is None or not 0 <= number <= 65535 or not name:
        raise Invalid(f'invalid pool member "{value}": give it as NODE:PORT')
    try:
        bare, rd = split_rd(name)
        addr = with_rd(str(ipaddress.ip_address(bare)), rd)
        name = addr   # 10.1.1.1%0 is 10.1.1.1
    except (ValueError, Invalid):
        addr = None
    return f"{folder}/{name}:{number}", addr
