"""References between declared objects: `{"use": "name"}` (same application), `{"use": "A/name"}`
(same tenant), `{"use": "/T/A/name"}` and `{"bigip": "/Common/x"}` (an object AS3 does not own)."""
from __future__ import annotations

from . import classes as C

# property -> the class a `use` must point at
WANTS = {"pool": "Pool", "profileHTTP": "HTTP_Profile", "profileTCP": "TCP_Profile", "profileL4": "L4_Profile",
         "snat": "SNAT_Pool", "virtualAddresses": "Service_Address", "monitors": "Monitor",
         "dataCenter": "GSLB_Data_Center", "lastResortPool": "GSLB_Pool", "pools": "GSLB_Pool", "iRules": "iRule",
         "persistenceMethods": "Persist", "fallbackPersistenceMethod": "Persist",
         "profileHTTPCompression": "HTTP_Compress", "serverTLS": "TLS_Server", "clientTLS": "TLS_Client",
         "clientCertificate": "Certificate", "chainCA": "CA_Bundle", "trustCA": "CA_Bundle",
         "authenticationTrustCA": "CA_Bundle", "authenticationInviteCA": "CA_Bundle",
         "policyEndpoint": "Endpoint_Policy", "profileMultiplex": "Multiplex_Profile",
         "profileRequestAdapt": "Adapt_Profile", "profileResponseAdapt": "Adapt_Profile",
         "profileICAP": "ICAP_Profile", "internalService": "Service_", "profilePPTP": "PPTP_Profile",
         "profileSIP": "SIP_Profile", "profileFTP": "FTP_Profile", "logPublisher": "Log_Publisher", "algLogProfile": "ALG_Log_Profile",
         "publisherName": "Log_Publisher"}   # Service_: any service class
NAMED = ("pool", "iRules", "serverTLS", "clientTLS", "clientCertificate", "policyEndpoint")   # properties that also take a bare name
GSLB_WANTS = {"monitors": "GSLB_Monitor", "poolsCname": "GSLB_Pool", "iRules": "GSLB_iRule",
              "proberPool": "GSLB_Prober_Pool"}


def wants(cls: str) -> dict:
    return {**WANTS, **GSLB_WANTS} if cls.startswith("GSLB_") else WANTS


def apps_of(tenant: dict) -> dict[str, dict]:
    return {a: v for a, v in tenant.items() if a not in C.TENANT_WORDS and isinstance(v, dict)}


def objects_of(app: dict) -> dict[str, dict]:
    return {n: v for n, v in app.items() if n not in C.APP_WORDS and isinstance(v, dict)}


def vs_names(server: dict) -> list[str]:
    """A GSLB server's virtual servers by name: their own, or their index as AS3 names them."""
    return [vs.get("name") or str(i) for i, vs in enumerate(server.get("virtualServers") or [])]


def service_port(item: dict) -> int:
    port = item.get("virtualPort", C.CLASSES[item["class"]]["properties"]["virtualPort"].get("default", 0))
    return 0 if port in ("any", None) else port


class Resolver:
    """The objects of a set of tenants by path, to follow pointers and find clashes."""

    def __init__(self, tenants: dict[str, dict]):
        self.tenants = tenants
        self.index = {f"/{t}/{a}/{n}": item for t, tenant in tenants.items() for a, app in apps_of(tenant).items()
                      for n, item in objects_of(app).items()}

    @staticmethod
    def path(value, t: str, a: str) -> str | None:
        """A pointer (or a bare name) -> the path it names; None for an AS3 keyword ("basic")."""
        if isinstance(value, dict):
            if "bigip" in value:
                return value["bigip"]
            value = value["use"]
        elif not isinstance(value, str):
            return None
        if value.startswith("/"):
            return value
        return f"/{t}/{value}" if "/" in value else f"/{t}/{a}/{value}"

    def target(self, value, t: str, a: str) -> tuple[str | None, dict | None]:
        """(path, declared object or None for a `bigip` one)."""
        path = self.path(value, t, a)
        return path, (self.index.get(path) if not (isinstance(value, dict) and "bigip" in value) else None)

    def errors(self, deploying: dict[str, dict]) -> list[str]:
        errors, seen = [], {}
        for t, tenant in self.tenants.items():
            for a, app in apps_of(tenant).items():
                for n, item in objects_of(app).items():
                    pointer = f"/{t}/{a}/{n}"
                    mine = t in deploying
                    errors += self._pointers(item, t, a, pointer) if mine else []
                    if item["class"].startswith("Service_") and item["class"] != "Service_Address" \
                            and item.get("virtualType") != "internal":   # an internal one listens nowhere
                        errors += self._clash(item, t, a, pointer, seen, mine)
        return errors

    def _pointers(self, item: dict, t: str, a: str, pointer: str) -> list[str]:
        errors = self._members(item, t, a, pointer) if item["class"] == "GSLB_Pool" else []
        errors += self._certificates(item, t, a, pointer) if item["class"] in ("TLS_Server", "TLS_Client") else []
        errors += self._uses(item, t, a, pointer, wants(item["class"]))
        h2 = item.get("profileHTTP2") if item["class"] in ("Service_HTTP", "Service_HTTPS") else None
        if isinstance(h2, dict):   # one pointer, or the client side's (ingress) and the server side's (egress)
            one = "use" in h2 or "bigip" in h2
            sides = {"profileHTTP2": h2} if one else h2
            errors += self._uses(sides, t, a, pointer if one else f"{pointer}/profileHTTP2",
                                 dict.fromkeys(sides, "HTTP2_Profile"))
        if item["class"] == "Persist":     # hash persistence's iRule (the iRule class's own is its text)
            errors += self._uses(item, t, a, pointer, {"iRule": "iRule"})
        for i, m in enumerate(item.get("members") or [] if item["class"] == "Pool" else []):
            errors += self._uses(m, t, a, f"{pointer}/members/{i}", {"monitors": "Monitor"}) + _quorum(m, f"{pointer}/members/{i}")
        return errors + (_quorum(item, pointer) if item["class"] == "Pool" else [])

    def _uses(self, item: dict, t: str, a: str, pointer: str, props: dict) -> list[str]:
        """The pointers of `item`'s properties (`props`: property -> the class it points at) that
        name nothing declared, or an object of another class."""
        errors = []
        for prop, want in props.items():
            value = item.get(prop)
            values = value if isinstance(value, list) else [value]
            for i, v in enumerate(values):
                if prop == "virtualAddresses" and isinstance(v, list) and v:
                    v = v[0]    # [address or pointer, source]
                if not isinstance(v, dict) and not (prop in NAMED and isinstance(v, str)):
                    continue    # a keyword ("basic", "auto", "http") or an address
                where = f"{pointer}/{prop}" + (f"/{i}" if isinstance(value, list) else "")
                path, target = self.target(v, t, a)
                if isinstance(v, dict) and "bigip" in v:
                    continue    # the store checks that it exists
                if target is None:
                    errors.append(f"{where}: the {want.rstrip('_')} {path} is not declared")
                elif target.get("class") != want and not (want.endswith("_") and str(target.get("class")).startswith(want)):
                    errors.append(f"{where}: {path} is a {target.get('class')}, not a {want.rstrip('_')}")
        return errors

    def _certificates(self, item: dict, t: str, a: str, pointer: str) -> list[str]:
        """A TLS_Server's certificates or a TLS_Client's clientCertificate: each a declared
        Certificate with its private key."""
        errors = []
        names = [(f"certificates/{i}/{prop}", c[prop]) for i, c in enumerate(item.get("certificates", []))
                 for prop in ("certificate", "proxyCertificate") if prop in c]
        names += [("clientCertificate", item["clientCertificate"])] if "clientCertificate" in item else []
        for prop, name in names:
            where = f"{pointer}/{prop}"
            path, target = self.target(name, t, a)
            if (target or {}).get("class") != "Certificate":
                errors.append(f"{where}: the Certificate {path} is not declared")
            elif "privateKey" not in target and "pkcs12" not in target:
                errors.append(f"{where}: the Certificate {path} has no privateKey")
        return errors

    def _members(self, item: dict, t: str, a: str, pointer: str) -> list[str]:
        """A GSLB pool's members: a server's virtual server (A, AAAA) or a domain name (CNAME)."""
        errors = []
        for i, m in enumerate(item.get("members") or []):
            where = f"{pointer}/members/{i}"
            if item["resourceRecordType"] in ("CNAME", "MX", "NAPTR"):
                if "domainName" not in m:
                    errors.append(f"{where}: should have required property 'domainName'")
                elif isinstance(m["domainName"], dict):
                    path, domain = self.target(m["domainName"], t, a)
                    if "use" in m["domainName"] and (domain or {}).get("class") != "GSLB_Domain":
                        errors.append(f"{where}/domainName: the GSLB_Domain {path} is not declared")
                continue
            if "server" not in m or "virtualServer" not in m:
                errors.append(f"{where}: should have required property '{'server' if 'server' not in m else 'virtualServer'}'")
                continue
            path, server = self.target(m["server"], t, a)
            if "bigip" in m["server"]:
                continue
            if server is None or server.get("class") != "GSLB_Server":
                errors.append(f"{where}/server: the GSLB_Server {path} is not declared")
            elif isinstance(m["virtualServer"], dict):    # a Service: the virtual the server discovers
                vs_path, vs = self.target(m["virtualServer"], t, a)
                if "use" in m["virtualServer"] and not str((vs or {}).get("class", "")).startswith("Service_"):
                    errors.append(f"{where}/virtualServer: the Service {vs_path} is not declared")
            elif m["virtualServer"] not in vs_names(server):
                errors.append(f"{where}/virtualServer: {path} has no virtual server {m['virtualServer']}")
        return errors

    def addresses(self, item: dict, t: str, a: str) -> list[str]:
        """A service's virtual addresses as plain addresses."""
        out = []
        for v in item.get("virtualAddresses") or []:
            if isinstance(v, list):
                v = v[0]
            if isinstance(v, dict):
                path, target = self.target(v, t, a)
                v = (target or {}).get("virtualAddress") if "bigip" not in v else (path or "").rsplit("/", 1)[-1]
            if isinstance(v, str):   # route domain 0's without its suffix
                addr, _, rd = v.split("/")[0].partition("%")
                out.append(f"{addr}%{rd}" if rd not in ("", "0") else addr)
        return out

    def _clash(self, item: dict, t: str, a: str, pointer: str, seen: dict, mine: bool) -> list[str]:
        errors = []
        port = service_port(item)
        sources = [v[1] if isinstance(v, list) and len(v) > 1 else "0.0.0.0/0" for v in item.get("virtualAddresses") or []]
        for addr, source in zip(self.addresses(item, t, a), sources):   # one address takes several sources
            key = (addr, port, item.get("layer4", "udp" if item["class"] == "Service_UDP" else "tcp"), source)
            if key in seen and (mine or seen[key][1]):
                errors.append(f"{pointer}/virtualAddresses: {addr} port {port} is already the address of "
                              f"{seen[key][0]}")
            seen.setdefault(key, (pointer, mine))
        return errors


def _quorum(item: dict, pointer: str) -> list[str]:
    """A pool's or member's minimumMonitors: no more than its monitors."""
    minimum = item.get("minimumMonitors")
    if isinstance(minimum, int) and minimum > len(item.get("monitors") or []):
        return [f"{pointer}/minimumMonitors: should be <= the number of monitors ({len(item.get('monitors') or [])})"]
    return []
