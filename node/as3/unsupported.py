"""What F5's AS3 takes on the classes the lab supports and the lab has not: each refused by name,
one clear error an object ("/T/A/svc/policyWAF: ... is not supported by this lab"), before the
schema check, so a declaration using it gets that reason and not a wall of schema errors.
"""
from __future__ import annotations

from ..config.schema import TYPES
from . import classes as C

# AS3 property -> what it needs that the lab has not (the BIG-IP module where there is one)
PROPERTIES = {
    "policyWAF": "a WAF policy (BIG-IP ASM)", "profileBotDefense": "a bot defense profile (BIG-IP ASM)",
    "profileIntegratedBotDefense": "a bot defense profile (BIG-IP ASM)",
    "profileDOS": "a DoS profile (BIG-IP ASM/AFM)", "securityLogProfiles": "security event logging (BIG-IP ASM/AFM)",
    "profileApiProtection": "an API protection profile (BIG-IP APM)", "profileAccess": "an access profile (BIG-IP APM)",
    "profileConnectivity": "a connectivity profile (BIG-IP APM)", "profileVdi": "a VDI profile (BIG-IP APM)",
    "policyPerRequestAccess": "a per-request access policy (BIG-IP APM)",
    "profilePingAccess": "a PingAccess profile (BIG-IP APM)", "profileFPS": "a fraud protection profile (BIG-IP FPS)",
    "ipIntelligencePolicy": "an IP intelligence policy (BIG-IP AFM)",
    "policyFirewallEnforced": "a firewall policy (BIG-IP AFM)", "policyFirewallStaged": "a firewall policy (BIG-IP AFM)",
    "policyNAT": "a NAT policy (BIG-IP AFM)", "maximumBandwidth": "a throughput limit (BIG-IP AFM)",
    "profileILX": "an iRules LX plugin (BIG-IP ILX)", "profileAnalytics": "an analytics profile (BIG-IP AVR)",
    "profileHTML": "an HTML profile", "profileHTTPAcceleration": "a web acceleration profile",
    "profileNTLM": "an NTLM profile", "profileProtocolInspection": "a protocol inspection profile (BIG-IP AFM)",
    "profileRTSP": "an RTSP profile", "profileWebSocket": "a WebSocket profile", "profileStream": "a stream profile",
    "profileStatistics": "a statistics profile", "profileAnalyticsTcp": "a TCP analytics profile (BIG-IP AVR)",
    "profileTFTP": "a TFTP profile", "profileFIX": "a FIX profile", "profileRewrite": "a rewrite profile",
    "profileSOCKS": "a SOCKS profile", "profileConnector": "a connector profile", "profileService": "a service profile",
    "profileSplitsessionClient": "a split-session profile", "profileSplitsessionServer": "a split-session profile",
    "profileClassification": "a classification profile (BIG-IP AFM)", "profileDNS": "a DNS profile",
    "policyIdleTimeout": "an idle timeout policy", "policyBandwidthControl": "a bandwidth control policy",
    "staplerOCSP": "OCSP stapling", "issuerCertificate": "OCSP stapling",
    "webSocketsEnabled": "a WebSocket profile",
}
OFFLINE = " (it reaches no internet)"
DISCOVERY = {   # a pool member's addressDiscovery other than static
    "aws": f"service discovery in AWS{OFFLINE}", "azure": f"service discovery in Azure{OFFLINE}",
    "gce": f"service discovery in Google Cloud{OFFLINE}", "consul": f"service discovery from Consul{OFFLINE}"}
# F5's monitor types (AS3's enums): those the lab has no object type for are refused by name
MONITOR_TYPES = {"Monitor": ("ltm monitor", {"icmp": "gateway-icmp"}, (
                    "dns", "external", "ftp", "http", "https", "http2", "icmp", "inband", "ldap", "mysql",
                    "postgresql", "radius", "sip", "smtp", "tcp", "tcp-half-open", "udp")),
                 "GSLB_Monitor": ("gtm monitor", {}, (
                     "http", "https", "gateway-icmp", "tcp-half-open", "mysql", "sip", "ldap", "smtp", "tcp", "udp",
                     "bigip", "external"))}
VIRTUAL_TYPES: dict[str, str] = {}   # every virtualType AS3 has, the lab has (internal: node/ltm/adapt.py)


def word(value) -> str | None:
    """A value that may be any JSON, as a keyword to look up (None if it is not a string)."""
    return value if isinstance(value, str) else None


def refused(pointer: str, what: str) -> str:
    """`what` may end in a parenthesis saying why: it goes after the verdict."""
    head, _, why = what.partition(" (")
    return f"{pointer}: {head} is not supported by this lab" + (f" ({why}" if why else "")


def named(item: dict, pointer: str) -> list[str]:
    """The errors naming what of this object the lab has not ([] when it has it all)."""
    errors = [refused(f"{pointer}/{p}", PROPERTIES[p]) for p in item if p in PROPERTIES]
    for i, m in enumerate(item.get("members") or [] if item["class"] == "Pool" else []):
        for p in (p for p in m if p in PROPERTIES) if isinstance(m, dict) else ():
            errors.append(refused(f"{pointer}/members/{i}/{p}", PROPERTIES[p]))
        how = word(m.get("addressDiscovery")) if isinstance(m, dict) else None
        if how in DISCOVERY:
            errors.append(refused(f"{pointer}/members/{i}/addressDiscovery", DISCOVERY[how]))
    for i, c in enumerate(item.get("certificates") or [] if item["class"] == "TLS_Server" else []):
        for p in (p for p in c if p in PROPERTIES) if isinstance(c, dict) else ():
            errors.append(refused(f"{pointer}/certificates/{i}/{p}", PROPERTIES[p]))
    if VIRTUAL_TYPES.get(word(item.get("virtualType"))):
        errors.append(refused(f"{pointer}/virtualType", VIRTUAL_TYPES[item["virtualType"]]))
    if item["class"] == "Service_Forwarding" and item.get("forwardingType") == "l2":
        errors.append(refused(f"{pointer}/forwardingType", 'forwarding type "l2"'))
    if item["class"] == "Data_Group" and item.get("storageType") == "external":
        errors.append(refused(f"{pointer}/storageType", f"an external data group{OFFLINE}"))
    errors += [refused(f"{pointer}/{p}", f"a {p} from a URL{OFFLINE}") for p in ("iRule", "certificate", "privateKey", "script", "pkcs12")
               if isinstance(item.get(p), dict) and "url" in item[p]]
    return errors + _monitor(item, pointer) + _persistence(item, pointer)


def _monitor(item: dict, pointer: str) -> list[str]:
    prefix, alias, f5 = MONITOR_TYPES.get(item["class"], (None, None, ()))
    mt = word(item.get("monitorType"))
    if mt in f5 and f"{prefix} {alias.get(mt, mt)}" not in TYPES:
        return [refused(f"{pointer}/monitorType", f'monitor type "{mt}"')]
    return []


def _persistence(item: dict, pointer: str) -> list[str]:
    words = [(f"{pointer}/persistenceMethod", item.get("persistenceMethod"))]
    words += [(f"{pointer}/persistenceMethods/{i}", w) for i, w in enumerate(item.get("persistenceMethods") or [])]
    words += [(f"{pointer}/fallbackPersistenceMethod", item.get("fallbackPersistenceMethod"))]
    return [refused(where, f'persistence method "{w}"') for where, w in words
            if word(w) in C.PERSIST_WORDS and w not in C.PERSIST_BUILTINS]
