"""TLS_Server and TLS_Client as client-ssl and server-ssl profile values: F5's property tables
(AS3's map_as3 and properties.json), each AS3 property to its tmsh property, AS3's defaults.

The TLS versions (`options`), handshake-timeout, renegotiation and sni-require act in the data
plane (node/ltm/tls.py); the rest are stored as a BIG-IP shows them.
"""
from __future__ import annotations

from collections.abc import Callable

ED = {True: "enabled", False: "disabled"}
TF = {True: "true", False: "false"}
FREQUENCY = {"one-time": "once", "every-time": "always"}
INDEFINITE = 4294967295   # AS3 writes "indefinite" as this number; tmsh shows the word


def indefinite(value) -> str:
    return "indefinite" if value in ("indefinite", INDEFINITE) else str(value)


def same(value):
    return value


# AS3 property -> (tmsh property, value as tmsh has it), both TLS classes
COMMON: dict[str, tuple[str, Callable]] = {
    "alertTimeout": ("alert-timeout", indefinite), "allowExpiredCRL": ("allow-expired-crl", ED.get),
    "authenticationFrequency": ("authenticate", FREQUENCY.get), "authenticationDepth": ("authenticate-depth", same),
    "cacheTimeout": ("cache-timeout", same), "handshakeTimeout": ("handshake-timeout", indefinite),
    "renegotiationEnabled": ("renegotiation", ED.get), "renegotiatePeriod": ("renegotiate-period", indefinite),
    "renegotiateSize": ("renegotiate-size", indefinite), "retainCertificateEnabled": ("retain-certificate", TF.get),
    "secureRenegotiation": ("secure-renegotiation", same), "requireSNI": ("sni-require", TF.get),
    "sslSignHash": ("ssl-sign-hash", same), "uncleanShutdownEnabled": ("unclean-shutdown", ED.get),
    "proxySslEnabled": ("proxy-ssl", ED.get), "proxySslPassthroughEnabled": ("proxy-ssl-passthrough", ED.get),
    "c3dEnabled": ("ssl-c3d", ED.get), "forwardProxyEnabled": ("ssl-forward-proxy", ED.get),
    "forwardProxyBypassEnabled": ("ssl-forward-proxy-bypass", ED.get)}
SERVER = {   # TLS_Server -> client-ssl
    "allowDynamicRecordSizing": ("allow-dynamic-record-sizing", ED.get),
    "nonSslConnectionsEnabled": ("allow-non-ssl", ED.get),
    "cacheCertificateEnabled": ("cert-lookup-by-ipaddr-port", ED.get),
    "staplerOCSPEnabled": ("ocsp-stapling", ED.get),
    "notifyCertStatusToVirtualServer": ("notify-cert-status-to-virtual-server", ED.get),
    "dataZeroRoundTripTime": ("data-0rtt", same), "renegotiateMaxRecordDelay": ("renegotiate-max-record-delay", indefinite),
    "certificateExtensions": ("cert-extension-includes", list),
    "c3dOCSPUnknownStatusAction": ("c3d-drop-unknown-ocsp-status", same)}
CLIENT = {   # TLS_Client -> server-ssl
    "serverName": ("authenticate-name", same), "sendSNI": ("server-name", same), "sniDefault": ("sni-default", TF.get),
    "validateCertificate": ("peer-cert-mode", {True: "require", False: "ignore"}.get),
    "ignoreExpired": ("expire-cert-response-control", {True: "ignore", False: "drop"}.get),
    "ignoreUntrusted": ("untrusted-cert-response-control", {True: "ignore", False: "drop"}.get),
    "sessionTickets": ("session-ticket", ED.get), "dataZeroRoundTripTime": ("data-0rtt", ED.get),
    "c3dCertificateLifespan": ("c3d-cert-lifespan", same),
    "c3dCertificateExtensions": ("c3d-cert-extension-includes", list)}
# AS3's `...Enabled` flags -> the `options` word a disabled one adds (AS3's updateTlsOptions)
OPTIONS = (("insertEmptyFragmentsEnabled", False, "dont-insert-empty-fragments"),
           ("singleUseDhEnabled", True, "single-dh-use"), ("tls1_3Enabled", False, "no-tlsv1.3"),
           ("tls1_2Enabled", False, "no-tlsv1.2"), ("tls1_1Enabled", False, "no-tlsv1.1"),
           ("tls1_0Enabled", False, "no-tlsv1"), ("dtlsEnabled", False, "no-dtls"),
           ("dtls1_2Enabled", False, "no-dtlsv1.2"), ("sslEnabled", False, "no-ssl"),
           ("ssl3Enabled", False, "no-sslv3"))
# the class defaults of those flags (AS3's schema)
OPTION_DEFAULTS = {"insertEmptyFragmentsEnabled": False, "singleUseDhEnabled": False, "tls1_3Enabled": False,
                   "tls1_2Enabled": True, "tls1_1Enabled": True, "tls1_0Enabled": True, "dtlsEnabled": True,
                   "dtls1_2Enabled": True, "sslEnabled": True, "ssl3Enabled": True}


def options(item: dict) -> list[str]:
    words = [word for prop, when, word in OPTIONS if item.get(prop, OPTION_DEFAULTS[prop]) == when]
    return list(dict.fromkeys(words))


def values(item: dict, own: dict, get: Callable[[dict, str], object], path: Callable) -> dict:
    """The profile's values for the declared properties (the schema's defaults where a property
    has one); `path` turns a pointer ({bigip}, {use}) into the object's path."""
    out = {"options": options(item)}
    for prop, (field, convert) in {**COMMON, **own}.items():
        value = get(item, prop)
        if value is not None:
            out[field] = convert(value)
    for prop, field in (("crlFile", "crl-file"), ("cipherGroup", "cipher-group")):
        if prop in item:
            out[field] = path(item[prop])
    if "cipherGroup" in item:    # a cipher group replaces the cipher string (AS3: ciphers none)
        out["ciphers"] = "none"
    return out


def server_values(item: dict, get, path) -> dict:
    """client-ssl: the first certificate's SNI name, mode and authentication settings, as AS3 gives them."""
    out = values(item, SERVER, get, path)
    first = item["certificates"][0]
    sni_default = first.get("sniDefault", not any(c.get("sniDefault") for c in item["certificates"]))
    out.update({"server-name": first.get("matchToSNI", "none"), "sni-default": TF[sni_default],
                "mode": ED[first.get("enabled", True)]})
    if item.get("hybrid"):   # AS3: one profile, the SNI default, the first matchToSNI given, on if any is
        certs = item["certificates"]
        out.update({"server-name": next((c["matchToSNI"] for c in certs if c.get("matchToSNI")), "none"),
                    "sni-default": "true", "mode": ED[any(c.get("enabled", True) for c in certs)]})
        sni_default = True
    if not sni_default:     # AS3 requires SNI only on the profile that is the SNI default
        out["sni-require"] = "false"
    if "authenticationMode" in first or "authenticationMode" in item:
        out["peer-cert-mode"] = first.get("authenticationMode", item.get("authenticationMode"))
    if "authenticationFrequency" in first:
        out["authenticate"] = FREQUENCY[first["authenticationFrequency"]]
    for prop, field in (("authenticationTrustCA", "ca-file"), ("authenticationInviteCA", "client-cert-ca"),
                        ("forwardProxyBypassAllowlist", "hostname-whitelist"), ("c3dOCSP", "c3d-ocsp")):
        if prop in item:
            out[field] = path(item[prop])
    return out


def client_values(item: dict, get, path) -> dict:
    """server-ssl: AS3 trusts /Common/ca-bundle.crt unless trustCA names another (or none)."""
    out = values(item, CLIENT, get, path)
    trust = item.get("trustCA", "generic")
    out["ca-file"] = "/Common/ca-bundle.crt" if trust == "generic" else "none" if trust == "none" else path(trust)
    return out
