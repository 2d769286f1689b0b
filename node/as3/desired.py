"""A tenant's declaration -> the objects it means, in the config schema's types and tmsh values.

Tenant T is partition /T, application A is folder /T/A, an object N of A is /T/A/N. Virtual
addresses and nodes live in the tenant (/T/10.0.1.10), or in /Common with shareNodes, as AS3
puts them. Values not declared take AS3's defaults (classes.py), which are not always the
BIG-IP's (a pool's minimumMembersActive is 1).
"""
from __future__ import annotations

import base64
import ipaddress
import re
from dataclasses import dataclass
from typing import Callable

from ..config import ssl_files
from ..config.schema import QUOTED_TERMS, TYPES, topology_name
from . import classes as C
from . import secrets, stored, tls
from .refs import Resolver, apps_of, objects_of, service_port, vs_names

BUILTIN_MONITORS = {"http": "/Common/http", "https": "/Common/https", "tcp": "/Common/tcp", "udp": "/Common/udp",
                    "icmp": "/Common/gateway_icmp", "gateway_icmp": "/Common/gateway_icmp",
                    "tcp_half_open": "/Common/tcp_half_open"}
KEYWORD_PROFILES = {"basic": None, "normal": None}   # the class's own built-in profile
ED = {True: "enabled", False: "disabled"}
def starttls_profiles(item: dict, side: str) -> list[tuple[str, str, str]]:
    """(profile kind, name as AS3 names it, activation mode) of a TLS_Server's (clientside) or
    TLS_Client's (serverside) STARTTLS."""
    ldap = item.get("ldapStartTLS", "none")
    out = [("client-ldap" if side == "clientside" else "server-ldap", side, ldap)] if ldap != "none" else []
    smtps = item.get("smtpsStartTLS")
    out += [("smtps", "smtps", smtps)] if side == "clientside" and isinstance(smtps, str) else []
    return [(kind, f"f5_appsvcs_{infix}_{mode}", mode) for kind, infix, mode in out]


PROXY_CONNECT = "-proxy-connect"   # an HTTP_Profile's http-proxy-connect profile: its name and this (unverified)
OPTIONAL_PROFILES = ("profileHTTPCompression", "serverTLS", "clientTLS", "profileMultiplex", "profileICAP",
                     "profileRequestAdapt", "profileResponseAdapt", "profilePPTP", "profileSIP", "profileFTP")
ADAPT = ("profileRequestAdapt", "profileResponseAdapt", "profileICAP")
REDIRECT = "/Common/_sys_https_redirect"
ENFORCEMENT = {"maxHeaderCount": "max-header-count", "maxHeaderSize": "max-header-size", "knownMethods": "known-methods",
               "pipelineAction": "pipeline", "unknownMethodAction": "unknown-method"}
YN = {True: "yes", False: "no"}
WORDS = {"enable": "enabled", "disable": "disabled"}   # AS3 says enable, tmsh enabled


@dataclass(frozen=True)
class Obj:
    type: str
    path: str
    values: dict          # field -> value, tmsh form


def network_mask(value: str) -> str:
    """AS3's address as a virtual's mask: its prefix's (10.0.0.0/8: 255.0.0.0), any for a bare
    0.0.0.0, else one host."""
    value = value.split("%")[0]
    if "/" in value:
        mask = str(ipaddress.ip_network(f"0.0.0.0/{value.split('/')[1]}").netmask)
        return "any" if mask == "0.0.0.0" else mask
    return "any" if value == "0.0.0.0" else "255.255.255.255"


def address_of(value: str, rd: int = 0) -> str:
    """AS3's address (maybe with %route-domain and /prefix) as the store names it: `10.1.1.1%2`,
    route domain 0's without the suffix; one without a suffix is in `rd` (the tenant's default)."""
    addr, pct, given = value.split("/")[0].partition("%")
    n = int(given) if pct and given.isdigit() else rd
    return f"{addr}%{n}" if n or rd else addr     # %0 said where the tenant's default is another


def monitor_rule(monitors: list[str], minimum) -> str:
    """AS3's monitors and minimumMonitors as a monitor rule: "all" is `a and b`, N is `min N of { a b }`
    (one monitor alone is itself: a BIG-IP shows AS3's `min 1 of { m }`, the same rule)."""
    if len(monitors) == 1 and minimum in (1, "all"):
        return monitors[0]
    if minimum == "all":
        return " and ".join(monitors)
    return f"min {minimum} of {{ {' '.join(monitors)} }}"


def containers(t: str, apps, rd: int = 0) -> list[Obj]:
    """The partition of a tenant (which makes its folder /T; `rd` its default route domain) and
    the folders of its applications."""
    return [Obj("auth partition", f"/Common/{t}", {"default-route-domain": rd} if rd else {}),
            *[Obj("sys folder", f"/{t}/{a}", {}) for a in apps]]


def default(cls: str, prop: str):
    return C.CLASSES[cls]["properties"][prop].get("default")


def get(item: dict, prop: str):
    return item.get(prop, default(item["class"], prop))


def secret_text(secret: dict) -> str:
    """A stored-only secret's text; a SecureVault one the lab cannot open is kept as its ciphertext."""
    clear = secrets.plain(secret, "")[0]
    return clear.decode(errors="replace") if clear is not None else secret["ciphertext"]


def script_text(script) -> str:
    """An external monitor's script as AS3 takes it: text, {text} or {base64} ({url} is refused)."""
    if isinstance(script, str):
        return script
    return script["text"] if "text" in script else base64.b64decode(script["base64"]).decode(errors="replace")


def described(item: dict, values: dict) -> dict:
    return {**values, "description": item["remark"]} if "remark" in item else values


class Builder:
    """Builds one tenant's objects; `resolver` knows every tenant of the declaration."""

    def __init__(self, t: str, tenant: dict, resolver: Resolver, discovered: Callable[[str], list] = lambda _: []):
        """`discovered(pool path)`: the nodes posted for its event-driven member (discovery.py)."""
        self.t, self.tenant, self.resolver, self.discovered = t, tenant, resolver, discovered
        self.rd = int(tenant.get("defaultRouteDomain") or 0)   # addresses without %ID are in it
        self.out: dict[tuple[str, str], Obj] = {}

    def build(self) -> list[Obj]:
        apps = apps_of(self.tenant)
        for o in (containers(self.t, apps, self.rd) if self.t != "Common" else [Obj("sys folder", "/Common/Shared", {})]):
            self.add(o)
        order = ("CA_Bundle", "Certificate", "TLS_Server", "TLS_Client", "iRule", "Data_Group", "Monitor", "Persist", "HTTP_Profile", "HTTP2_Profile", "TCP_Profile", "L4_Profile", "ICAP_Profile", "PPTP_Profile", "FTP_Profile", "SIP_Profile", "SNAT_Pool", "Service_Address", "Pool",
                 "GSLB_Data_Center", "GSLB_Server", "GSLB_Prober_Pool", "GSLB_Monitor", "GSLB_Pool", "GSLB_iRule", "GSLB_Domain",
                 "GSLB_Topology_Region",
                 "GSLB_Topology_Records")
        items = [(a, n, item) for a, app in apps.items() for n, item in objects_of(app).items()]
        items.sort(key=lambda x: order.index(x[2]["class"]) if x[2]["class"] in order else len(order))
        for a, n, item in items:
            getattr(self, item["class"].lower(), self.service)(a, n, item)
        return list(self.out.values())

    def add(self, o: Obj) -> None:
        self.out.setdefault((o.type, o.path), o)

    def ref(self, value, a: str) -> str:
        """The path a pointer names; GSLB objects of /Common/Shared live in /Common itself."""
        path = self.resolver.path(value, self.t, a)
        if path.startswith("/Common/Shared/") and (self.resolver.index.get(path) or {}).get("class") in C.COMMON_ONLY:
            return "/Common/" + path.rsplit("/", 1)[1]
        return path

    def common(self, n: str) -> str:
        return f"/Common/{n}"

    # -- the classes ------------------------------------------------------------------------------
    def monitor(self, a: str, n: str, item: dict) -> None:
        mt = {"icmp": "gateway-icmp"}.get(item["monitorType"], item["monitorType"])   # AS3's icmp is gateway-icmp
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
        for prop, field in (("pathname", "run"), ("arguments", "args")):    # external: its script runs
            if prop in item:
                values[field] = item[prop]
        if mt == "external":
            self.external(a, n, item, values)
        values.update(self.monitor_settings(a, item, TYPES[f"ltm monitor {mt}"]))
        self.add(Obj(f"ltm monitor {mt}", f"/{self.t}/{a}/{n}", described(item, values)))

    def external(self, a: str, n: str, item: dict, values: dict) -> None:
        """An external monitor's script (installed as /T/A/n-script, as AS3 names it) and its
        environment variables (tmsh user-defined)."""
        if "script" in item:
            values["run"] = f"/{self.t}/{a}/{n}-script"
            self.add(Obj("sys file external-monitor", values["run"], {
                "source-path": f"file:/var/config/rest/downloads/_{self.t}_{a}_{n}", "content": script_text(item["script"])}))
        if item.get("environmentVariables"):
            values["user-defined"] = dict(item["environmentVariables"])

    def monitor_settings(self, a: str, item: dict, type_, table: dict = stored.MONITOR) -> dict:
        """The declared settings the monitor's type has (F5's type-specific ones: stored.MONITOR),
        its secrets and its TLS: clientTLS a server-ssl profile, clientCertificate a Certificate's files."""
        out = stored.values(item, table)
        for prop, field in (("passphrase", "password"), ("secret", "secret")):
            if prop in item:
                out[field] = secret_text(item[prop])
        if "clientTLS" in item:
            out["ssl-profile"] = self.ref(item["clientTLS"], a)
        if "clientCertificate" in item:
            files = self.cert_files(item["clientCertificate"], a)
            out.update(cert=files["cert"], key=files["key"])
        divergence = {"relative": "adaptiveDivergencePercentage", "absolute": "adaptiveDivergenceMilliseconds"}.get(
            item.get("adaptiveDivergenceType", "relative"))
        if divergence in item:
            out["adaptive-divergence-value"] = item[divergence]
        return {k: v for k, v in out.items() if type_.field(k) is not None}

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
        values.update(stored.values(item, stored.HTTP))
        values["hsts"] = {**TYPES["ltm profile http"].field("hsts").default, **stored.values(item, stored.HTTP_HSTS)}
        enforcement = {field: item[prop] for prop, field in ENFORCEMENT.items() if prop in item}
        enforcement.update(stored.values(item, stored.HTTP_ENFORCEMENT))
        if "truncatedRedirects" in item:
            enforcement["truncated-redirects"] = ED[item["truncatedRedirects"]]
        if enforcement:
            values["enforcement"] = {**TYPES["ltm profile http"].field("enforcement").default, **enforcement}
        proxy = {**({"dns-resolver": item["resolver"]["bigip"]} if "resolver" in item else {}),
                 **({"route-domain": str(item["routeDomain"])} if "routeDomain" in item else {})}
        if proxy:
            values["explicit-proxy"] = {**TYPES["ltm profile http"].field("explicit-proxy").default, **proxy}
        self.add(Obj("ltm profile http", f"/{self.t}/{a}/{n}", described(item, values)))
        if get(item, "proxyConnectEnabled"):
            self.add(Obj("ltm profile http-proxy-connect", f"/{self.t}/{a}/{n}{PROXY_CONNECT}",
                         {"defaults-from": "/Common/http-proxy-connect", "default-state": "enabled"}))

    def tcp_profile(self, a: str, n: str, item: dict) -> None:
        self.add(Obj("ltm profile tcp", f"/{self.t}/{a}/{n}", described(item, {"defaults-from": "/Common/tcp", **stored.values(item, stored.TCP)})))

    def http2_profile(self, a: str, n: str, item: dict) -> None:
        self.add(Obj("ltm profile http2", f"/{self.t}/{a}/{n}",
                     described(item, {"defaults-from": "/Common/http2", **stored.values(item, stored.HTTP2)})))

    def l4_profile(self, a: str, n: str, item: dict) -> None:
        self.add(Obj("ltm profile fastl4", f"/{self.t}/{a}/{n}",
                     described(item, {"defaults-from": "/Common/fastL4", **stored.values(item, stored.L4)})))

    # -- TLS -----------------------------------------------------------------------------------------
    def certificate(self, a: str, n: str, item: dict) -> None:
        """/T/A/n.crt and /T/A/n.key (and /T/A/n-bundle.crt for chainCA), installed from the PEM
        text, as AS3 names them; a part given as {bigip} is that file, nothing installed. An
        encrypted key is installed as given, with its passphrase."""
        parts = (("certificate", ssl_files.CERT, ".crt"), ("privateKey", ssl_files.KEY, ".key"),
                 ("chainCA", ssl_files.CERT, "-bundle.crt"))
        item = secrets.parts(item)     # a PKCS #12's parts
        for prop, type_, suffix in parts:
            if isinstance(item.get(prop), str):
                path = f"/{self.t}/{a}/{n}{suffix}"
                values = {"source-path": ssl_files.filestore_source(type_, path), "pem": item[prop]}
                if prop == "privateKey" and "passphrase" in item:   # kept encrypted; the store seals the passphrase
                    values["passphrase"] = secrets.plain(item["passphrase"], "")[0].decode(errors="replace")
                self.add(Obj(type_, path, described(item, values)))

    def ca_bundle(self, a: str, n: str, item: dict) -> None:
        """sys file ssl-cert /T/A/n from the PEM text (a {bigip} bundle installs nothing)."""
        if isinstance(item["bundle"], str):
            path = f"/{self.t}/{a}/{n}"
            self.add(Obj(ssl_files.CERT, path, described(item, {
                "source-path": ssl_files.filestore_source(ssl_files.CERT, path), "pem": item["bundle"]})))

    def file_ref(self, value, a: str) -> str:
        """The file a pointer names: a CA_Bundle's own, or the {bigip} file it stands for."""
        target = self.resolver.target(value, self.t, a)[1] or {}
        bundle = target.get("bundle") if target.get("class") == "CA_Bundle" else None
        return self.ref(bundle if isinstance(bundle, dict) else value, a)

    def cert_files(self, value, a: str) -> dict:
        """A Certificate's files, as an SSL profile names them: its own or the {bigip} ones it names."""
        base = self.ref(value, a)
        certificate = secrets.parts(self.resolver.target(value, self.t, a)[1] or {})

        def file(prop: str, suffix: str) -> str:
            part = certificate.get(prop)
            return f"{base}{suffix}" if isinstance(part, str) else self.file_ref(part, a) if part else "none"
        return {"cert": file("certificate", ".crt"), "key": file("privateKey", ".key"),
                "chain": file("chainCA", "-bundle.crt")}

    def tls_server(self, a: str, n: str, item: dict) -> None:
        """A client-ssl profile: the virtual is the TLS server (tls.py maps its settings)."""
        chain = {f"set{i}": self.cert_files(c["certificate"], a) for i, c in enumerate(item["certificates"])}
        first = next(iter(chain.values()))
        for c in item["certificates"]:    # the SSL forward proxy's CA: AS3 adds it as usage CA (BIG-IP 14.0 on)
            if "proxyCertificate" in c:
                chain[f"set{len(chain)}"] = {**self.cert_files(c["proxyCertificate"], a), "usage": "CA"}
        self.add(Obj("ltm profile client-ssl", f"/{self.t}/{a}/{n}", described(item, {
            "defaults-from": "/Common/clientssl", "cert-key-chain": chain, **first, "ciphers": get(item, "ciphers"),
            **tls.server_values(item, get, lambda v: self.file_ref(v, a))})))
        self.starttls(a, item, "clientside")

    def starttls(self, a: str, item: dict, side: str) -> None:
        """AS3's ldapStartTLS / smtpsStartTLS: F5's client-ldap (server-ldap) or smtps profile, named
        as AS3 names it, that the virtual gets with the TLS profile (profiles below)."""
        for kind, name, mode in starttls_profiles(item, side):
            self.add(Obj(f"ltm profile {kind}", f"/{self.t}/{a}/{name}",
                         {"defaults-from": f"/Common/{kind.replace('-', '')}", "activation-mode": mode}))

    def tls_client(self, a: str, n: str, item: dict) -> None:
        """A server-ssl profile: the virtual is a TLS client of the pool (tls.py maps its settings)."""
        values = {"defaults-from": "/Common/serverssl", "ciphers": get(item, "ciphers"),
                  **tls.client_values(item, get, lambda v: self.file_ref(v, a))}
        if "clientCertificate" in item:
            files = self.cert_files(item["clientCertificate"], a)
            values.update({"cert-key-chain": {"set0": files}, **files})
        self.add(Obj("ltm profile server-ssl", f"/{self.t}/{a}/{n}", described(item, values)))
        self.starttls(a, item, "serverside")

    def snat_pool(self, a: str, n: str, item: dict) -> None:
        members = [f"/{self.t}/{address_of(addr, self.rd)}" for addr in item["snatAddresses"]]
        for path in members:
            self.add(Obj("ltm snat-translation", path, {"address": path.rsplit("/", 1)[1]}))
        self.add(Obj("ltm snatpool", f"/{self.t}/{a}/{n}", described(item, {"members": members})))

    def service_address(self, a: str, n: str, item: dict) -> None:
        """Named by its address in the tenant (/T/10.0.1.10), as the lab's destinations name
        addresses (F5 keeps AS3's name, /T/A/n); a service pointing at it uses it."""
        tg = get(item, "trafficGroup")
        ip = address_of(item["virtualAddress"], self.rd)
        values = {"address": ip,
                  "arp": ED[get(item, "arpEnabled")], "icmp-echo": WORDS.get(get(item, "icmpEcho"), "selective"),
                  "route-advertisement": WORDS.get(get(item, "routeAdvertisement"), get(item, "routeAdvertisement")),
                  "spanning": ED[get(item, "spanningEnabled")],
                  "traffic-group": "/Common/traffic-group-1" if tg == "default" else tg,
                  **stored.values(item, stored.SERVICE_ADDRESS)}
        self.add(Obj("ltm virtual-address", f"/{self.t}/{ip}", described(item, values)))

    def pool(self, a: str, n: str, item: dict) -> None:
        members = {}
        for m in item.get("members") or []:
            state = m.get("adminState", "enable")
            enabled = m.get("enable", True) and state == "enable"
            port = m["servicePort"]
            rd = m.get("routeDomain") or self.rd   # the member's route domain, else the tenant's
            named = [(address_of(addr, rd), address_of(addr, rd), port) for addr in m.get("serverAddresses") or []]
            named += [(s.get("name") or address_of(s["address"], rd), address_of(s["address"], rd), port)
                      for s in m.get("servers") or []]
            if m.get("addressDiscovery") == "event":   # the nodes posted to its task, named by their id
                named += [(d["id"], d["ip"], d.get("port", port)) for d in self.discovered(f"/{self.t}/{a}/{n}")]
            if m.get("addressDiscovery") == "fqdn":   # a node by name: each device resolves it
                named += [self.fqdn_node(m)]
            for node, addr, port in named:   # a node is named by its address, or by its given name
                folder = "/Common" if m.get("shareNodes") else f"/{self.t}"
                if folder != "/Common" or addr is None:   # a shared node is not the tenant's: the member makes it if missing
                    self.add(Obj("ltm node", f"{folder}/{node}", {"address": addr} if addr else self.fqdn_values(m)))
                props = {"ratio": m.get("ratio", 1), "priority-group": m.get("priorityGroup", 0),
                         "connection-limit": m.get("connectionLimit", 0), "dynamic-ratio": m.get("dynamicRatio", 1),
                         "rate-limit": "disabled" if m.get("rateLimit", -1) == -1 else str(m["rateLimit"]),
                         "session": "user-enabled" if enabled else "user-disabled",
                         "state": "user-down" if state == "offline" else "user-up"}
                if addr is None:   # an FQDN member: the template of the device's ephemeral members
                    props["fqdn"] = {"autopopulate": ED[m.get("autoPopulate", False)]}
                elif node != addr:   # a named node's address (a shared one is made by the member if missing)
                    props["address"] = addr
                if "remark" in m:
                    props["description"] = m["remark"]
                if m.get("monitors"):   # the member's own rule, which replaces the pool's for it
                    props["monitor"] = monitor_rule(self.monitors(m["monitors"], a), m.get("minimumMonitors", 1))
                members[f"{folder}/{node}:{port}"] = props
        values = {"load-balancing-mode": get(item, "loadBalancingMode"),
                  "min-active-members": get(item, "minimumMembersActive"),
                  "reselect-tries": get(item, "reselectTries"), "service-down-action": get(item, "serviceDownAction"),
                  "slow-ramp-time": get(item, "slowRampTime"), "members": members,
                  **stored.values(item, stored.POOL)}
        monitors = self.monitors(item.get("monitors") or [], a)
        if monitors:
            values["monitor"] = monitor_rule(monitors, item.get("minimumMonitors", 1))
        self.add(Obj("ltm pool", f"/{self.t}/{a}/{n}", described(item, values)))

    @staticmethod
    def fqdn_node(m: dict) -> tuple[str, None, int]:
        """AS3's FQDN member: its node named fqdnPrefix + hostname, at no address."""
        return f"{m.get('fqdnPrefix', '')}{m['hostname']}", None, m["servicePort"]

    @staticmethod
    def fqdn_values(m: dict) -> dict:
        """The node of an FQDN member, as AS3 makes it (queryInterval 0: the answer's TTL)."""
        interval = m.get("queryInterval", 0)
        return {"fqdn": {"name": m["hostname"], "autopopulate": ED[m.get("autoPopulate", False)],
                         "address-family": m.get("addressFamily", "IPv4").lower(),
                         "interval": str(interval) if interval else "ttl", "down-interval": m.get("downInterval", 5)}}

    def monitors(self, refs: list, a: str) -> list[str]:
        """AS3's monitors (built-in names or pointers) as monitor paths."""
        return [BUILTIN_MONITORS[m] if isinstance(m, str) else self.ref(m, a) for m in refs]

    def service(self, a: str, n: str, item: dict) -> None:
        cls = item["class"]
        port = service_port(item)
        udp = cls == "Service_UDP" or item.get("layer4") == "udp"
        forward = cls == "Service_Forwarding"   # an ip-forward virtual on a network, any protocol unless layer4
        protocol = get(item, "layer4") if forward else "udp" if udp else "tcp"
        values = {"ip-protocol": protocol, "profiles": self.profiles(item, a),
                  "status": ED[get(item, "enable") and get(item, "adminState") == "enable"],
                  **stored.values(item, stored.SERVICE),
                  "translate-address": ED[get(item, "translateServerAddress")],
                  "translate-port": ED[get(item, "translateServerPort")],
                  "connection-limit": get(item, "maxConnections"), "address-status": YN[get(item, "addressStatus")],
                  "mirror": "enabled" if get(item, "mirroring") == "L4" else "disabled",
                  "source-address-translation": self.snat(item, a)}
        stateless = item.get("virtualType") == "stateless"
        internal = item.get("virtualType") == "internal"
        if internal:     # no clients: AS3 writes 0.0.0.0:any whatever addresses it names, keeping the source
            values["internal"] = True
            given = (item.get("virtualAddresses") or [None])[0]
            source = given[1] if isinstance(given, list) and len(given) > 1 else item.get("sourceAddress")
            item, port = {**item, "virtualAddresses": [["0.0.0.0", source] if source else "0.0.0.0"]}, 0
        if stateless:   # no connection: nothing to persist, no SNAT automap (F5's rules for the type)
            values["stateless"] = True
            if "snat" not in item:
                values["source-address-translation"] = {"type": "none"}
        if "pool" in item:     # the lab's virtuals persist only onto a pool
            values["pool"] = self.ref(item["pool"], a)
            methods = [] if stateless and "persistenceMethods" not in item else get(item, "persistenceMethods")
            values["persist"] = {self.persistence(m, a): {"default": "yes" if i == 0 else "no"}
                                 for i, m in enumerate(methods)}
        if item.get("fallbackPersistenceMethod", "none") != "none":
            values["fallback-persistence"] = self.persistence(item["fallbackPersistenceMethod"], a)
        if item.get("iRules"):
            values["rules"] = [self.ref(r, a) for r in item["iRules"]]
        if forward:
            values["ip-forward"] = True
        if item.get("clonePools"):   # ingress: the client's side, egress: the members'
            values["clone-pools"] = {self.ref(p, a): {"context": "clientside" if side == "ingress" else "serverside"}
                                     for side, p in item["clonePools"].items()}
        if "allowVlans" in item or "rejectVlans" in item:   # AS3 writes vlans-disabled with none otherwise (all)
            allow = "allowVlans" in item
            values["vlans"] = [v["bigip"] for v in item["allowVlans" if allow else "rejectVlans"]]
            values["vlans-enabled" if allow else "vlans-disabled"] = True
        if "policyEndpoint" in item:    # the virtual's ltm policies
            p = item["policyEndpoint"]
            values["policies"] = [self.ref(x, a) for x in (p if isinstance(p, list) else [p])]
        for i, addr in enumerate(item["virtualAddresses"]):
            source = addr[1] if isinstance(addr, list) and len(addr) > 1 else item.get("sourceAddress") or "0.0.0.0/0"
            addr = addr[0] if isinstance(addr, list) else addr
            mask = network_mask(addr) if forward and isinstance(addr, str) else None
            if isinstance(addr, dict):    # a Service_Address: its virtual address, where it put it
                path = self.resolver.path(addr, self.t, a)
                ip = self.resolver.addresses({"virtualAddresses": [addr]}, self.t, a)[0]
                folder = "/Common" if path.startswith("/Common/") else f"/{path.split('/')[1]}"
            else:
                shared = get(item, "shareAddresses")    # in /Common: the store makes it there if missing
                ip, folder = address_of(addr, self.rd), "/Common" if shared else f"/{self.t}"
                if not shared:   # a forwarding service's: ARP and ICMP echo off, as AS3 makes it
                    self.add(Obj("ltm virtual-address", f"{folder}/{ip}", {"address": ip, **(
                        {"arp": "disabled", "icmp-echo": "disabled", "mask": mask} if forward else {})}))
            sep = "." if ":" in ip else ":"
            rd = ip.partition("%")[2]
            if rd and "%" not in source:   # the source in the destination's route domain, as AS3 writes it
                head, slash, plen = source.partition("/")
                source = f"{head}%{rd}{slash}{plen}"
            name = n if i == 0 else f"{n}-{i}-"
            self.add(Obj("ltm virtual", f"/{self.t}/{a}/{name}", described(item, {
                **values, "destination": f"{folder}/{ip}{sep}{port}", "source": source,
                **({"mask": mask} if mask else {})})))
            if cls == "Service_HTTPS" and get(item, "redirect80"):   # AS3's port-80 virtual, redirecting to HTTPS
                self.add(Obj("ltm virtual", f"/{self.t}/{a}/{name}-Redirect-", {
                    "destination": f"{folder}/{ip}{sep}80", "source": source, "ip-protocol": "tcp",
                    "profiles": ["/Common/http", "/Common/tcp"], "rules": [REDIRECT],
                    "status": values["status"], "address-status": values["address-status"]}))

    def profiles(self, item: dict, a: str) -> list[str]:
        cls = item["class"]
        builtin = {"profileHTTP": "/Common/http", "profileTCP": "/Common/tcp", "profileUDP": "/Common/udp",
                   "profileL4": "/Common/fastL4", "profileHTTPCompression": "/Common/httpcompression"}
        props = {"Service_HTTP": ("profileHTTP", "profileTCP", "profileHTTPCompression", "profileMultiplex", *ADAPT),
                 "Service_HTTPS": ("profileHTTP", "profileTCP", "profileHTTPCompression", "serverTLS", "clientTLS",
                                   "profileMultiplex", *ADAPT),
                 "Service_TCP": ("profileTCP", "serverTLS", "clientTLS", "profileICAP", "profilePPTP", "profileSIP",
                                 "profileFTP"),
                 "Service_UDP": ("profileUDP", "profileSIP", "serverTLS", "clientTLS"), "Service_L4": ("profileL4",),
                 "Service_Generic": () if item.get("layer4") == "udp" else ("profileTCP",),
                 "Service_Forwarding": ("profileL4",)}[cls]
        out = []
        for prop in props:
            if prop in OPTIONAL_PROFILES and prop not in item:
                continue     # none unless declared
            if prop == "profileICAP" and item.get("virtualType") != "internal":
                continue     # AS3 puts an ICAP profile on internal virtuals only
            v = item.get(prop, "basic")
            if prop in ("serverTLS", "clientTLS"):     # TLS profiles: a name, a pointer or several
                side = "clientside" if prop == "serverTLS" else "serverside"
                for x in v if isinstance(v, list) else [v]:
                    path = self.ref(x, a)
                    folder = path.rsplit("/", 1)[0]
                    out += [path] + [f"{folder}/{name}" for _, name, _ in
                                     starttls_profiles(self.resolver.index.get(path) or {}, side)]
            elif prop in ("profileRequestAdapt", "profileResponseAdapt"):
                out.append(self.adapt_ref(v, a, "request" if prop == "profileRequestAdapt" else "response"))
            else:
                out.append(builtin[prop] if isinstance(v, str) else self.ref(v, a))
        out += [p for p in self.http2_profiles(item, a) if p not in out]
        if item.get("mqttEnabled"):    # AS3 attaches F5's MQTT profile
            out.append("/Common/mqtt")
        http = self.resolver.index.get(self.ref(item["profileHTTP"], a)) if isinstance(item.get("profileHTTP"), dict) else None
        if (http or {}).get("proxyConnectEnabled"):   # its CONNECT profile goes on the virtual with it
            out.append(self.ref(item["profileHTTP"], a) + PROXY_CONNECT)
        return out

    def adapt_ref(self, v: dict, a: str, which: str) -> str:
        """An Adapt_Profile pointer: a request-and-response one is two profiles, NAME_request and NAME_response."""
        _, target = self.resolver.target(v, self.t, a)
        both = (target or {}).get("messageType") == "request-and-response"
        return f"{self.ref(v, a)}_{which}" if both else self.ref(v, a)

    def http2_profiles(self, item: dict, a: str) -> list[str]:
        """A service's HTTP/2 profiles (one pointer, or ingress and egress) and, with
        httpMrfRoutingEnabled, the HTTP router profile MRF routes with, as AS3 attaches them."""
        v = item.get("profileHTTP2")
        pointers = [] if v is None else [v] if ("use" in v or "bigip" in v) else \
            [v[side] for side in ("ingress", "egress") if side in v]
        out = list(dict.fromkeys(self.ref(p, a) for p in pointers))
        return out + (["/Common/httprouter"] if item.get("httpMrfRoutingEnabled") else [])

    def adapt_profile(self, a: str, n: str, item: dict) -> None:
        """ltm profile request-adapt and/or response-adapt; request-and-response makes both, named
        NAME_request and NAME_response, as AS3 does."""
        internal = self.ref(item["internalService"], a) if "internalService" in item else "none"
        both = item["messageType"] == "request-and-response"
        for which in ("request", "response"):
            if item["messageType"] not in (which, "request-and-response"):
                continue
            self.add(Obj(f"ltm profile {which}-adapt", f"/{self.t}/{a}/{n}_{which}" if both else f"/{self.t}/{a}/{n}",
                         described(item, {
                             "defaults-from": f"/Common/{which}adapt", "enabled": YN[get(item, "enableHttpAdaptation")],
                             "internal-virtual": internal, "preview-size": get(item, "previewSize"),
                             "timeout": get(item, "timeout"), "service-down-action": get(item, "serviceDownAction"),
                             "allow-http-10": YN[get(item, "allowHTTP10")]})))

    def sip_profile(self, a: str, n: str, item: dict) -> None:
        self.add(Obj("ltm profile sip", f"/{self.t}/{a}/{n}", described(item, {"defaults-from": "/Common/sip"})))

    def icap_profile(self, a: str, n: str, item: dict) -> None:
        names = {"uri": "uri", "fromHeader": "header-from", "hostHeader": "host", "refererHeader": "referer",
                 "userAgentHeader": "user-agent"}
        self.add(Obj("ltm profile icap", f"/{self.t}/{a}/{n}", described(item, {
            "defaults-from": "/Common/icap",
            "preview-length": get(item, "previewLength"), **{f: item[p] for p, f in names.items() if p in item}})))

    def pptp_profile(self, a: str, n: str, item: dict) -> None:
        self.add(Obj("ltm profile pptp", f"/{self.t}/{a}/{n}", described(item, {
            "defaults-from": self.ref(item["parentProfile"], a) if "parentProfile" in item else "/Common/pptp",
            "csv-format": ED[get(item, "csvFormat")], "include-destination-ip": ED[get(item, "includeDestinationIp")],
            "publisher-name": self.ref(item["publisherName"], a) if "publisherName" in item else "none"})))

    def ftp_profile(self, a: str, n: str, item: dict) -> None:
        flags = {"enforceTlsSessionReuseEnabled": "enforce-tls-session-reuse", "activeModeEnabled": "allow-active-mode",
                 "securityEnabled": "security", "translateExtendedEnabled": "translate-extended",
                 "inheritParentProfileEnabled": "inherit-parent-profile"}
        self.add(Obj("ltm profile ftp", f"/{self.t}/{a}/{n}", described(item, {
            "defaults-from": "/Common/ftp", "port": get(item, "port"), "ftps-mode": get(item, "ftpsMode"),
            **{f: ED[get(item, p)] for p, f in flags.items()},
            **{f: self.ref(item[p], a) if p in item else "none"
               for p, f in (("algLogProfile", "log-profile"), ("logPublisher", "log-publisher"))}})))

    def persistence(self, method, a: str) -> str:
        return C.PERSIST_BUILTINS[method] if isinstance(method, str) else self.ref(method, a)

    def persist(self, a: str, n: str, item: dict) -> None:
        common = {"match-across-pools": ED[get(item, "matchAcrossPools")],
                  "match-across-services": ED[get(item, "matchAcrossServices")],
                  "match-across-virtuals": ED[get(item, "matchAcrossVirtualServers")],
                  "mirror": ED[get(item, "mirror")],
                  "override-connection-limit": ED[get(item, "overrideConnectionLimit")],
                  "timeout": str(get(item, "duration"))}
        if item["persistenceMethod"] == "cookie":
            kind, values = "cookie", {
                "defaults-from": "/Common/cookie", "method": get(item, "cookieMethod"),
                "expiration": str(get(item, "ttl")), "httponly": ED[get(item, "httpOnly")],
                "secure": ED[get(item, "secure")], "always-send": ED[get(item, "alwaysSet")],
                **({"cookie-name": item["cookieName"]} if "cookieName" in item else {}),
                **self.cookie_encryption(item)}
        elif item["persistenceMethod"] == "hash":
            kind, values = "hash", {"defaults-from": "/Common/hash", "hash-algorithm": get(item, "hashAlgorithm"),
                                    "hash-offset": get(item, "startAt"), "hash-length": get(item, "count"),
                                    "hash-buffer-limit": get(item, "bufferLimit"),
                                    **{f: item[p] for p, f in (("startPattern", "hash-start-pattern"),
                                                               ("endPattern", "hash-end-pattern")) if item.get(p)},
                                    **({"rule": self.ref(item["iRule"], a)} if "iRule" in item else {})}
        else:
            kind, values = "source-addr", {"defaults-from": "/Common/source_addr",
                                           "hash-algorithm": get(item, "hashAlgorithm"),
                                           "mask": item.get("addressMask", "none")}
        self.add(Obj(f"ltm persistence {kind}", f"/{self.t}/{a}/{n}", described(item, {**common, **values})))

    @staticmethod
    def cookie_encryption(item: dict) -> dict:
        """AS3's encrypt: the cookie encrypted, required, with the declared passphrase (sealed by the store)."""
        if not get(item, "encrypt"):
            return {}
        out = {"cookie-encryption": "required"}
        if "passphrase" in item:
            out["cookie-encryption-passphrase"] = secret_text(item["passphrase"])
        return out

    def snat(self, item: dict, a: str) -> dict:
        v = item.get("snat", "auto")
        if isinstance(v, dict):
            return {"type": "snat", "pool": self.ref(v, a)}
        return {"type": {"auto": "automap", "self": "automap", "none": "none"}[v]}


    def irule(self, a: str, n: str, item: dict, type_: str = "ltm rule") -> None:
        text = item["iRule"]
        if isinstance(text, dict):
            text = base64.b64decode(text["base64"]).decode()
        if get(item, "expand"):
            text = self.expand(text, a)
        self.add(Obj(type_, f"/{self.t}/{a}/{n}", described(item, {"api-anonymous": text})))

    def gslb_irule(self, a: str, n: str, item: dict) -> None:
        self.irule(a, n, item, "gtm rule")     # stored, not run (docs/design.md)

    def expand(self, text: str, a: str) -> str:
        """AS3's backquote expansion: `T` the tenant, `A` the application, `*name` a pointer's full path;
        other backquoted text stays as written."""
        def one(m: re.Match) -> str:
            word = m.group(1)
            if word == "T":
                return self.t
            if word == "A":
                return a
            return self.ref(word[1:], a) if word.startswith("*") else m.group(0)
        return re.sub(r"`([^`\s]+)`", one, text)

    def data_group(self, a: str, n: str, item: dict) -> None:
        records = {str(r["key"]): ({"data": r["value"]} if "value" in r else {}) for r in item.get("records") or []}
        self.add(Obj("ltm data-group internal", f"/{self.t}/{a}/{n}",
                     described(item, {"type": item["keyDataType"], "records": records})))

    # -- GSLB (BIG-IP DNS) ----------------------------------------------------------------------------
    def gslb_data_center(self, a: str, n: str, item: dict) -> None:
        values = {"status": ED[get(item, "enabled")]}
        values.update({f: item[p] for p, f in (("location", "location"), ("contact", "contact")) if p in item})
        self.add(Obj("gtm datacenter", self.common(n), described(item, values)))

    def gslb_server(self, a: str, n: str, item: dict) -> None:
        addresses = {d["address"]: {"translation": d.get("addressTranslation", "none")} for d in item["devices"]}
        virtuals = {}
        for name, vs in zip(vs_names(item), item.get("virtualServers") or []):
            sep = "." if ":" in vs["address"] else ":"
            virtuals[name] = {"destination": f"{vs['address']}{sep}{vs['port']}",
                              "status": ED[vs.get("enabled", True)],
                              "translation-address": vs.get("addressTranslation", "none"),
                              "translation-port": vs.get("addressTranslationPort", 0)}
            if vs.get("monitors"):
                virtuals[name]["monitor"] = self.monitors_rule(vs, a)
        values = {"datacenter": self.ref(item["dataCenter"], a), "product": get(item, "serverType"),
                  "status": ED[get(item, "enabled")], "addresses": addresses, "virtual-servers": virtuals,
                  "virtual-server-discovery": {"no": "disabled", "yes": "enabled"}.get(
                      get(item, "virtualServerDiscoveryMode"), "enabled-no-delete"),
                  "expose-route-domains": YN[get(item, "exposeRouteDomainsEnabled")],
                  "prober-preference": get(item, "proberPreferred"), "prober-fallback": get(item, "proberFallback")}
        if "proberPool" in item:
            values["prober-pool"] = self.ref(item["proberPool"], a)
        if item.get("monitors"):
            values["monitor"] = self.monitors_rule(item, a)
        self.add(Obj("gtm server", self.common(n), described(item, values)))

    def monitors_rule(self, item: dict, a: str) -> str:
        """A server's or virtual server's monitors: all of them, or at least minimumMonitors (AS3)."""
        paths = [self.ref(m, a) for m in item["monitors"]]
        return (f"min {item['minimumMonitors']} of {{ {' '.join(paths)} }}" if "minimumMonitors" in item
                else " and ".join(paths))

    def gslb_prober_pool(self, a: str, n: str, item: dict) -> None:
        members = {self.ref(m["server"], a): {"order": m.get("memberOrder", i), "status": ED[m.get("enabled", True)]}
                   for i, m in enumerate(item.get("members") or [])}
        self.add(Obj("gtm prober-pool", self.common(n), described(item, {
            "load-balancing-mode": get(item, "lbMode"), "status": ED[get(item, "enabled")], "members": members})))

    def gslb_monitor(self, a: str, n: str, item: dict) -> None:
        mt = item["monitorType"]
        values = {"interval": get(item, "interval"), "timeout": get(item, "timeout"),
                  "probe-timeout": get(item, "probeTimeout"), "defaults-from": f"/Common/{mt.replace('-', '_')}",
                  "ignore-down-response": ED[get(item, "ignoreDownResponseEnabled")]}
        values.update({f: item[p] for p, f in (("send", "send"), ("receive", "recv"), ("target", "destination"))
                       if p in item})
        values.update(self.monitor_settings(a, item, TYPES[f"gtm monitor {mt}"], stored.GSLB_MONITOR))
        if mt == "external":   # the GTM's prober runs it (node/gtm/probes.py)
            self.external(a, n, item, values)
        self.add(Obj(f"gtm monitor {mt}", f"/{self.t}/{a}/{n}", described(item, values)))

    def gslb_pool(self, a: str, n: str, item: dict) -> None:
        rt = item["resourceRecordType"].lower()
        members = {}
        for i, m in enumerate(item.get("members") or []):
            vs = m.get("virtualServer")   # a pointer names a Service: the virtual a BIG-IP server discovers
            name = self.domain(m["domainName"], a) if rt in ("cname", "mx", "naptr") else \
                f"{self.ref(m['server'], a)}:{vs if isinstance(vs, str) else self.ref(vs, a)}"
            members[name] = {"ratio": m.get("ratio", 1), "member-order": m.get("memberOrder", i),
                             "status": ED[m.get("enabled", True)], **({"priority": m.get("priority", 10)}
                                                                       if rt == "mx" else {}),
                             **({"service": m.get("service", ""), "order": m.get("order", 10),
                                 "preference": m.get("preference", 0)} if rt == "naptr" else {}),
                             **({"static-target": YN[m["isDomainNameStatic"]]}
                                if rt == "cname" and "isDomainNameStatic" in m else {})}
        values = {"load-balancing-mode": get(item, "lbModePreferred"), "alternate-mode": get(item, "lbModeAlternate"),
                  "fallback-mode": get(item, "lbModeFallback"), "ttl": get(item, "ttl"),
                  "max-answers-returned": get(item, "maxAnswersReturned"), "status": ED[get(item, "enabled")],
                  "verify-member-availability": ED[get(item, "verifyMemberAvailability")], "members": members,
                  "manual-resume": ED[get(item, "manualResumeEnabled")], **stored.values(item, stored.GSLB_POOL)}
        if "verifyMemberAvailability" in item and "verifyMemberEnabled" not in item:   # the lab's older name
            values["verify-member-availability"] = ED[item["verifyMemberAvailability"]]
        if "fallbackIP" in item:
            values["fallback-ip"] = item["fallbackIP"]
        if item.get("monitors"):     # AS3: all of them
            values["monitor"] = " and ".join(self.ref(m, a) for m in item["monitors"])
        self.add(Obj(f"gtm pool {rt}", f"/{self.t}/{a}/{n}", described(item, values)))

    def domain(self, value, a: str) -> str:
        """A member's domain name, or the name of the GSLB_Domain it points at."""
        if isinstance(value, str):
            return value
        return (self.resolver.target(value, self.t, a)[1] or {}).get("domainName", "")

    def gslb_domain(self, a: str, n: str, item: dict) -> None:
        rt = item["resourceRecordType"].lower()
        values = {"pool-lb-mode": get(item, "poolLbMode"), "status": ED[get(item, "enabled")],
                  "pools": {self.ref(p, a): {"ratio": p.get("ratio", 1), "order": i}
                            for i, p in enumerate(item.get("pools") or [])},
                  "aliases": item.get("aliases") or [], "persistence": ED[get(item, "persistenceEnabled")],
                  **({"pools-cname": {self.ref(p, a): {"order": len(item.get("pools") or []) + i}
                                      for i, p in enumerate(item["poolsCname"])}} if item.get("poolsCname") else {}),
                  "ttl-persistence": get(item, "ttlPersistence"), "persist-cidr-ipv4": get(item, "persistCidrIpv4"),
                  "persist-cidr-ipv6": get(item, "persistCidrIpv6"),
                  "topology-prefer-edns0-client-subnet": ED[get(item, "clientSubnetPreferred")],
                  "load-balancing-decision-log-verbosity": item.get("loadBalancingDecisionLogVerbosity") or []}
        if "lastResortPool" in item:
            kind = item.get("lastResortPoolType", rt.upper()).lower()
            values["last-resort-pool"] = f"{kind} {self.ref(item['lastResortPool'], a)}"
        if item.get("iRules"):     # GSLB_iRules (gtm rule): stored only
            values["rules"] = [self.ref(r, a) for r in item["iRules"]]
        self.add(Obj(f"gtm wideip {rt}", f"/{self.t}/{a}/{item['domainName']}", described(item, values)))

    def term(self, match: dict, a: str) -> str:
        """An AS3 match ({matchType, matchValue, matchOperator}) as a tmsh topology term."""
        value = match.get("matchValue", "")
        if match["matchType"] in ("region", "datacenter", "pool"):
            value = self.ref(value, a)
        elif match["matchType"] in QUOTED_TERMS:    # AS3 quotes them: state "US/New Hampshire"
            value = f'"{value}"'
        return f"{'not ' if match.get('matchOperator') == 'not-equals' else ''}{match['matchType']} {value}"

    def gslb_topology_region(self, a: str, n: str, item: dict) -> None:
        self.add(Obj("gtm region", self.common(n), described(item, {
            "region-members": [self.term(m, a) for m in item.get("members", item.get("regionMembers")) or []]})))

    def gslb_topology_records(self, a: str, n: str, item: dict) -> None:
        for r in item.get("records") or []:
            words = f"ldns: {self.term(r['source'], a)} server: {self.term(r['destination'], a)}".split()
            self.add(Obj("gtm topology", topology_name(words), {"score": r.get("weight", 1)}))


def tenant_objects(t: str, tenant: dict, resolver: Resolver, discovered: Callable[[str], list] = lambda _: []
                   ) -> list[Obj]:
    return Builder(t, tenant, resolver, discovered).build()
