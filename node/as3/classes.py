"""The AS3 classes the lab supports, as JSON schemas of our own (draft 2020-12), F5's property
names and defaults. A class not listed here is refused by name (validate.py), never dropped.
"""
from __future__ import annotations

from . import stored

SCHEMA_VERSION = "3.50.0"       # what /info reports as schemaCurrent
SCHEMA_MINIMUM = "3.0.0"
NAME = r"^[A-Za-z][0-9A-Za-z_.-]{0,188}$"   # AS3's name pattern for tenants, applications, objects

STR = {"type": "string"}
BOOL = {"type": "boolean"}
ADDRESS = {"type": "string", "format": "f5ip"}


def port(default: int | None = None) -> dict:
    return {"type": "integer", "minimum": 0, "maximum": 65535, **({"default": default} if default is not None else {})}


def intrange(lo: int, hi: int, default: int) -> dict:
    return {"type": "integer", "minimum": lo, "maximum": hi, "default": default}


def enum(*values, default=None) -> dict:
    return {"enum": list(values), **({"default": default} if default is not None else {})}


POINTER = {"type": "object", "properties": {"use": STR, "bigip": STR}, "additionalProperties": False,
           "minProperties": 1, "maxProperties": 1}


BIGIP = {"type": "object", "required": ["bigip"], "properties": {"bigip": STR}, "additionalProperties": False}
SECRET = {"type": "object", "required": ["ciphertext"], "additionalProperties": False, "properties": {
    "ciphertext": STR, "protected": {**STR, "default": "eyJhbGciOiJkaXIiLCJlbmMiOiJub25lIn0"},
    "miniJWE": {**BOOL, "default": True}, "ignoreChanges": {**BOOL, "default": False}, "allowReuse": BOOL}}


def ref_or(*words: str) -> dict:
    """A property that is one of F5's keywords ("basic", "normal") or a pointer {use}/{bigip}."""
    return {"anyOf": [{"enum": list(words)}, POINTER]} if words else POINTER


def obj(required: tuple = (), **props) -> dict:
    return {"type": "object", "required": ["class", *required], "additionalProperties": False,
            "properties": {"class": STR, "label": STR, "remark": STR, **props}}


MONITOR_REFS = {"type": "array", "items": {"anyOf": [{"enum": ["http", "https", "tcp", "udp", "icmp",
                                                                "gateway_icmp", "tcp_half_open"]}, POINTER]}}
VIRTUAL_ADDRESSES = {"type": "array", "minItems": 1, "items": {"anyOf": [
    ADDRESS, {"type": "array", "prefixItems": [{"anyOf": [ADDRESS, POINTER]}, STR], "minItems": 1, "maxItems": 2},
    POINTER]}}
NAME_OR_POINTER = {"anyOf": [STR, POINTER]}
STARTTLS = enum("none", "allow", "require")   # an LDAP or SMTPS profile's activation mode (desired.py)
VLANS = {"type": "array", "items": BIGIP}   # existing VLANs, each {"bigip": "/Common/name"}
# a service's HTTP/2 profile: one pointer (the client side), or the client side's (ingress) and the server side's (egress)
HTTP2 = {"anyOf": [POINTER, {"type": "object", "additionalProperties": False, "minProperties": 1,
                             "properties": {"ingress": POINTER, "egress": POINTER}}]}
TLS = {"anyOf": [STR, POINTER, {"type": "array", "minItems": 1, "items": NAME_OR_POINTER}]}   # one or several


# AS3's persistence keywords; the lab has cookie and source-address (validate.py refuses the rest by name)
PERSIST_WORDS = ("cookie", "source-address", "destination-address", "msrdp", "sip-info", "ssl-session",
                 "tls-session-id", "universal")
PERSIST_BUILTINS = {"cookie": "/Common/cookie", "source-address": "/Common/source_addr"}


def service(port_default: int | None, persist: str = "source-address", **own) -> dict:
    """A Service_* class: the virtual server and its virtual addresses."""
    schema = obj((),
               persistenceMethods={"type": "array", "items": {"anyOf": [{"enum": list(PERSIST_WORDS)}, POINTER]},
                                   "default": [persist]},
               fallbackPersistenceMethod={"anyOf": [{"enum": [*PERSIST_WORDS, "none"]}, POINTER]},
               virtualAddresses=VIRTUAL_ADDRESSES, virtualPort=port(port_default), pool={"anyOf": [STR, POINTER]},
               enable={**BOOL, "default": True}, snat={"anyOf": [{"enum": ["auto", "none", "self"]}, POINTER]},
               translateServerAddress={**BOOL, "default": True}, translateServerPort={**BOOL, "default": True},
               maxConnections=intrange(0, 4294967295, 0), addressStatus={**BOOL, "default": True},
               mirroring=enum("none", "L4", default="none"),
               iRules={"type": "array", "items": {"anyOf": [STR, POINTER]}},
               adminState=enum("enable", "disable", default="enable"), shareAddresses={**BOOL, "default": False},
               policyEndpoint={"anyOf": [STR, POINTER, {"type": "array", "items": NAME_OR_POINTER}]},
               allowVlans=VLANS, rejectVlans=VLANS, sourceAddress={"type": "string", "format": "f5ip"},
               clonePools={"type": "object", "additionalProperties": False,   # ingress clientside, egress serverside
                           "properties": {"ingress": POINTER, "egress": POINTER}},
               **{"virtualType": enum("standard", "internal", default="standard"), **stored.schemas(stored.SERVICE), **own})
    # an internal virtual (virtualType internal) takes no clients: no address or port needed
    where = ["virtualAddresses"] + (["virtualPort"] if port_default is None else [])
    return {**schema, "not": {"required": ["allowVlans", "rejectVlans"]},   # F5's: one or the other
            "if": {"required": ["virtualType"], "properties": {"virtualType": {"const": "internal"}}},
            "else": {"required": where}}


TCP_ONLY = enum("tcp", default="tcp")
FORWARDING_ONLY = ("pool", "persistenceMethods", "fallbackPersistenceMethod")   # F5's schema forbids them


def forwarding() -> dict:
    """Service_Forwarding: an ip-forward virtual (no pool, nothing translated: F5's const false), on
    a network (virtualAddresses "10.0.0.0/8", or 0.0.0.0 for any) and any port (0 or "any")."""
    schema = service(0, profileL4=ref_or("basic"), layer4=enum("any", "tcp", "udp", default="any"),
                     forwardingType=enum("ip", "l2"), template=STR)
    props = schema["properties"]
    for prop in FORWARDING_ONLY:
        del props[prop]
    props["virtualPort"] = {"anyOf": [port(), {"enum": ["any"]}], "default": 0}
    props["translateServerAddress"] = props["translateServerPort"] = {**BOOL, "const": False, "default": False}
    schema["required"].append("forwardingType")
    return schema


def indefinite_or(lo: int) -> dict:
    """A number of seconds or bytes, or AS3's "indefinite"."""
    return {"anyOf": [{"type": "integer", "minimum": lo, "maximum": 4294967295}, {"enum": ["indefinite"]}],
            "default": "indefinite"}


def tls_common(secure_renegotiation: str) -> dict:
    """The properties TLS_Server and TLS_Client share (tls.py maps them), AS3's defaults."""
    flags = {"insertEmptyFragmentsEnabled": False, "singleUseDhEnabled": False, "tls1_3Enabled": False,
             "tls1_2Enabled": True, "tls1_1Enabled": True, "tls1_0Enabled": True, "dtlsEnabled": True,
             "dtls1_2Enabled": True, "sslEnabled": True, "ssl3Enabled": True, "renegotiationEnabled": True,
             "retainCertificateEnabled": True, "uncleanShutdownEnabled": True, "requireSNI": False,
             "allowExpiredCRL": False, "proxySslEnabled": False, "proxySslPassthroughEnabled": False,
             "c3dEnabled": False, "forwardProxyEnabled": False, "forwardProxyBypassEnabled": False}
    return {**{k: {**BOOL, "default": v} for k, v in flags.items()},
            "ciphers": {**STR, "default": "DEFAULT"}, "cipherGroup": POINTER, "crlFile": BIGIP,
            "alertTimeout": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 4294967294},
                                       {"enum": ["immediate", "indefinite"]}], "default": "indefinite"},
            "cacheTimeout": intrange(0, 86400, 3600),
            "handshakeTimeout": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 4294967295},
                                           {"enum": ["indefinite"]}], "default": 10},
            "authenticationFrequency": enum("one-time", "every-time", default="one-time"),
            "authenticationDepth": intrange(1, 15, 9), "renegotiatePeriod": indefinite_or(0),
            "renegotiateSize": indefinite_or(0),
            "secureRenegotiation": enum("request", "require", "require-strict", default=secure_renegotiation),
            "sslSignHash": enum("any", "sha1", "sha256", "sha384", default="any")}


EXTERNAL = {   # an external monitor's script and its environment (Monitor, GSLB_Monitor)
    "environmentVariables": {"type": "object", "additionalProperties": STR},
    "script": {"anyOf": [STR, {"type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False,
                               "properties": {"text": STR, "base64": STR, "url": {"anyOf": [STR, {"type": "object"}]}}}]}}

ADAPT = {"profileRequestAdapt": POINTER, "profileResponseAdapt": POINTER, "profileICAP": POINTER}

CLASSES: dict[str, dict] = {
    "Service_HTTP": service(80, "cookie", profileHTTP=ref_or("basic"), profileTCP=ref_or("normal"), layer4=TCP_ONLY,
                            profileMultiplex=POINTER, **ADAPT, profileHTTP2=HTTP2,
                            httpMrfRoutingEnabled={**BOOL, "default": False},
                            profileHTTPCompression=ref_or("basic"),
                            redirect80=BOOL),   # taken as F5's own declarations carry it; a Service_HTTPS's only acts
    "Service_HTTPS": service(443, "cookie", profileHTTP=ref_or("basic"), profileTCP=ref_or("normal"), layer4=TCP_ONLY,
                             profileMultiplex=POINTER, **ADAPT, profileHTTP2=HTTP2,
                             httpMrfRoutingEnabled={**BOOL, "default": False},
                             profileHTTPCompression=ref_or("basic"), serverTLS=TLS, clientTLS=TLS,
                             redirect80={**BOOL, "default": True}),
    "Service_TCP": service(None, profileTCP=ref_or("normal"), layer4=TCP_ONLY, serverTLS=TLS, clientTLS=TLS,
                           profileICAP=POINTER, profilePPTP=POINTER, profileSIP=POINTER, profileFTP=POINTER,
                           mqttEnabled={**BOOL, "default": False}),   # F5's /Common/mqtt on the virtual
    # PPTP (the kernel's pptp helper: node/ltm/fastl4.py): ltm profile pptp, its call logging stored
    "PPTP_Profile": obj(csvFormat={**BOOL, "default": False}, includeDestinationIp={**BOOL, "default": False},
                        publisherName=POINTER, parentProfile=POINTER),
    # FTP (the kernel's ftp helper: node/ltm/fastl4.py): ltm profile ftp, AS3's schema and defaults
    # (its ALG log profile and log publisher name each other: one needs the other)
    "FTP_Profile": {**obj(port=port(20), ftpsMode=enum("disallow", "allow", "require", default="disallow"),
                          enforceTlsSessionReuseEnabled={**BOOL, "default": False},
                          activeModeEnabled={**BOOL, "default": True}, securityEnabled={**BOOL, "default": False},
                          translateExtendedEnabled={**BOOL, "default": True},
                          inheritParentProfileEnabled={**BOOL, "default": False},
                          algLogProfile=POINTER, logPublisher=POINTER),
                    "dependentRequired": {"algLogProfile": ["logPublisher"], "logPublisher": ["algLogProfile"]}},
    # content adaptation (node/ltm/adapt.py): request-adapt or response-adapt, and the internal
    # virtual's ICAP profile
    # (request-and-response: one of each, NAME_request and NAME_response, as AS3 makes them)
    "Adapt_Profile": obj(("messageType",), messageType=enum("response", "request", "request-and-response"),
                         enableHttpAdaptation={**BOOL, "default": True}, internalService=POINTER,
                         previewSize=intrange(0, 4294967295, 1024), timeout=intrange(0, 4294967295, 0),
                         serviceDownAction=enum("ignore", "reset", "drop", default="ignore"),
                         allowHTTP10={**BOOL, "default": False}),
    "SIP_Profile": obj(),   # AS3's has no settings of its own: ltm profile sip with /Common/sip's (node/ltm/sip.py)
    "ICAP_Profile": obj(uri=STR, fromHeader=STR, hostHeader=STR, refererHeader=STR, userAgentHeader=STR,
                        previewLength=intrange(0, 4294967295, 0)),
    # serverTLS / clientTLS on UDP: DTLS on a BIG-IP (stored and attached; the lab passes datagrams through)
    "Service_UDP": service(None, profileUDP=ref_or("normal"), layer4=enum("udp", default="udp"), profileSIP=POINTER,
                           virtualType=enum("standard", "internal", "stateless", default="standard"),
                           serverTLS=TLS, clientTLS=TLS),
    "Service_L4": service(None, profileL4=ref_or("basic"), layer4=enum("tcp", "udp", default="tcp")),
    "Service_Generic": service(None, layer4=enum("tcp", "udp", default="tcp"), profileTCP=ref_or("normal")),
    "Service_Forwarding": forwarding(),
    "Service_Address": obj(("virtualAddress",), virtualAddress=ADDRESS, arpEnabled={**BOOL, "default": True},
                           icmpEcho=enum("enable", "disable", "selective", default="enable"),
                           routeAdvertisement=enum("disable", "enable", "selective", "always", "any", "all",
                                                   default="disable"),
                           spanningEnabled={**BOOL, "default": False},
                           trafficGroup={**STR, "default": "default"},
                           useIpName={**BOOL, "default": False},   # the lab names every address by its IP
                           **stored.schemas(stored.SERVICE_ADDRESS)),
    "Pool": obj(
        monitors=MONITOR_REFS, minimumMonitors={"anyOf": [{"type": "integer", "minimum": 1}, {"enum": ["all"]}]},
        loadBalancingMode=enum("round-robin", "ratio-member", "least-connections-member", default="round-robin"),
        minimumMembersActive=intrange(0, 65535, 1), reselectTries=intrange(0, 65535, 0),
        serviceDownAction=enum("none", "reset", "drop", "reselect", default="none"),
        slowRampTime=intrange(0, 65535, 10),
        **stored.schemas(stored.POOL),
        members={"type": "array", "items": {
            "type": "object", "required": ["servicePort"], "additionalProperties": False,
            "if": {"required": ["addressDiscovery"], "properties": {"addressDiscovery": {"const": "fqdn"}}},
            "then": {"required": ["hostname"]}, "properties": {
                "servicePort": port(), "serverAddresses": {"type": "array", "items": ADDRESS},
                "addressDiscovery": enum("static", "event", "fqdn", default="static"), "shareNodes": {**BOOL, "default": False},
                # fqdn: a node by name, resolved on each device (node/ltm/fqdn.py)
                "hostname": STR, "fqdnPrefix": STR,
                "autoPopulate": {**BOOL, "default": False}, "queryInterval": intrange(0, 604800, 0),
                "downInterval": intrange(1, 86400, 5), "addressFamily": enum("IPv4", "IPv6", default="IPv4"),
                "adminState": enum("enable", "disable", "offline", default="enable"),
                "enable": {**BOOL, "default": True}, "ratio": intrange(1, 65535, 1),
                "priorityGroup": intrange(0, 65535, 0), "connectionLimit": intrange(0, 2147483647, 0),
                "rateLimit": intrange(-1, 2147483647, -1), "dynamicRatio": intrange(0, 100, 1),
                "monitors": MONITOR_REFS, "routeDomain": intrange(0, 65535, 0),
                "servers": {"type": "array", "items": {   # named nodes: ltm node NAME { address A }
                    "type": "object", "required": ["address"], "additionalProperties": False, "properties": {
                        "address": ADDRESS, "name": {**STR, "pattern": r"^[A-Za-z][0-9A-Za-z_.-]*$", "maxLength": 64}}}},
                "minimumMonitors": {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 63}, {"enum": ["all"]}]},
                "remark": STR}}}),
    "Monitor": obj(
        ("monitorType",), monitorType=enum("dns", "external", "ftp", "http", "https", "http2", "icmp", "inband",
                                            "ldap", "mysql", "postgresql", "radius", "sip", "smtp", "tcp",
                                            "tcp-half-open", "udp", "gateway-icmp"),
        **stored.schemas(stored.MONITOR), passphrase=SECRET, secret=SECRET, clientTLS=NAME_OR_POINTER,
        clientCertificate=STR, adaptiveDivergenceMilliseconds=intrange(1, 10000, 500),
        adaptiveDivergencePercentage=intrange(1, 500, 100),
        pathname=STR, arguments=STR, expand=BOOL, **EXTERNAL, interval=intrange(1, 86400, 5), timeout=intrange(1, 86400, 16), send=STR, receive=STR,
        targetAddress=STR, targetPort=port(0), upInterval=intrange(0, 4294967295, 0),
        timeUntilUp=intrange(0, 4294967295, 0), adaptive={**BOOL, "default": False}, reverse={**BOOL},
        transparent={**BOOL}),
    "HTTP_Profile": obj(
        xForwardedFor={**BOOL, "default": False}, serverHeaderValue={**STR, "default": "BigIP"},
        proxyType=enum("reverse", "explicit", "transparent", default="reverse"),
        proxyConnectEnabled={**BOOL, "default": False}, resolver=BIGIP,
        routeDomain={"anyOf": [STR, {"type": "integer", "minimum": 0, "maximum": 65534}]},   # the explicit proxy's
        viaRequest=enum("preserve", "remove", "append", default="preserve"),
        viaResponse=enum("preserve", "remove", "append", default="preserve"),
        requestChunking=enum("preserve", "selective", "rechunk", "sustain", default="preserve"),
        responseChunking=enum("preserve", "selective", "unchunk", "rechunk", "sustain", default="selective"),
        maxHeaderCount=intrange(16, 4096, 64), maxHeaderSize=intrange(0, 4294967295, 32768),
        knownMethods={"type": "array", "items": STR}, pipelineAction=enum("allow", "reject", "pass-through"),
        unknownMethodAction=enum("allow", "reject", "pass-through"), truncatedRedirects=BOOL,
        fallbackRedirect=STR, insertHeader={"type": "object", "properties": {"name": STR, "value": STR},
                                            "additionalProperties": False},
        **stored.schemas(stored.HTTP), **stored.schemas(stored.HTTP_ENFORCEMENT), **stored.schemas(stored.HTTP_HSTS)),
    "Persist": obj(
        ("persistenceMethod",), persistenceMethod=enum(*PERSIST_WORDS, "hash"), duration=intrange(0, 604800, 180),
        matchAcrossPools={**BOOL, "default": False}, matchAcrossServices={**BOOL, "default": False},
        matchAcrossVirtualServers={**BOOL, "default": False}, mirror={**BOOL, "default": False},
        overrideConnectionLimit={**BOOL, "default": False}, addressMask=STR,
        hashAlgorithm=enum("default", "carp", default="default"),
        cookieMethod=enum("insert", "rewrite", "passive", "hash", default="insert"), cookieName=STR,
        ttl=intrange(0, 4294967295, 0), httpOnly={**BOOL, "default": True}, secure={**BOOL, "default": True},
        alwaysSet={**BOOL, "default": False}, encrypt={**BOOL, "default": False}, passphrase=SECRET,
        # hash (F5's ltm persistence hash: stored only)
        startAt=intrange(0, 65535, 0), count=intrange(0, 65535, 0), bufferLimit=intrange(0, 65535, 0),
        startPattern=STR, endPattern=STR, iRule={"anyOf": [STR, POINTER]}),
    "TCP_Profile": obj(**stored.schemas(stored.TCP)),
    "HTTP2_Profile": obj(**stored.schemas(stored.HTTP2)),
    "L4_Profile": obj(**stored.schemas(stored.L4)),
    "SNAT_Pool": obj(("snatAddresses",), snatAddresses={"type": "array", "minItems": 1, "items": ADDRESS}),
    "iRule": obj(("iRule",), iRule={"anyOf": [STR, {"type": "object", "required": ["base64"],
                                                    "additionalProperties": False, "properties": {"base64": STR}}]},
                 expand={**BOOL, "default": True}),
    "Data_Group": obj(("keyDataType",), keyDataType=enum("string", "integer", "ip"),
                      name=STR,    # F5's schema does not close the class: its examples give a name AS3 ignores
                      storageType=enum("internal", "external", default="internal"),   # external: refused by name
                      separator={**STR, "default": ":="}, ignoreChanges={**BOOL, "default": False},
                      dataGroupFile=BIGIP, externalFilePath={"anyOf": [STR, {
                          "type": "object", "required": ["url"], "additionalProperties": False, "properties": {
                              "url": STR, "skipCertificateCheck": BOOL, "ignoreChanges": BOOL,
                              "authentication": {"type": "object", "required": ["method"], "additionalProperties": False,
                                                 "properties": {"method": enum("bearer-token", "basic"), "token": STR,
                                                                "username": STR, "passphrase": SECRET}}}}]},
                      records={"type": "array", "items": {
                          "type": "object", "required": ["key"], "additionalProperties": False,
                          "properties": {"key": {"anyOf": [STR, {"type": "integer"}]}, "value": STR}}}),
    # TLS (node/ltm/tls.py terminates it): a Certificate is an ssl-cert + ssl-key pair in /T/A
    # (each part PEM text or an existing file {bigip}; an encrypted key with its passphrase, secrets.py)
    "CA_Bundle": obj(("bundle",), bundle={"anyOf": [STR, BIGIP]}),   # sys file ssl-cert /T/A/name
    # a PKCS #12 (base64 text or {base64}) gives the certificate, its key and its chain (secrets.py)
    "Certificate": {**obj(certificate={"anyOf": [STR, BIGIP]}, privateKey={"anyOf": [STR, BIGIP]},
                          chainCA={"anyOf": [STR, POINTER]}, passphrase=SECRET,
                          pkcs12={"anyOf": [STR, {"type": "object", "minProperties": 1, "maxProperties": 1,
                                                  "additionalProperties": False, "properties": {
                                                      "base64": STR, "url": {"anyOf": [STR, {"type": "object"}]}}}]},
                          pkcs12Options={"type": "object", "additionalProperties": False, "properties": {
                              "keyImportFormat": enum("pkcs8", "openssl-legacy", default="pkcs8"),
                              "ignoreChanges": {**BOOL, "default": False}}}),
                    "anyOf": [{"required": ["certificate"]}, {"required": ["pkcs12"]}]},
    "TLS_Server": obj(("certificates",), certificates={"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["certificate"], "additionalProperties": False, "properties": {
            "certificate": STR, "proxyCertificate": STR,   # the SSL forward proxy's CA (usage CA)
            "matchToSNI": STR, "enabled": {**BOOL, "default": True}, "sniDefault": BOOL,
            "authenticationMode": enum("request", "require", "ignore"),
            "authenticationFrequency": enum("one-time", "every-time")}}},
                      authenticationMode=enum("ignore", "require", "request", default="ignore"),
                      authenticationTrustCA=POINTER, authenticationInviteCA=POINTER, forwardProxyBypassAllowlist=POINTER,
                      c3dOCSP=POINTER, allowDynamicRecordSizing={**BOOL, "default": False},
                      nonSslConnectionsEnabled={**BOOL, "default": False},
                      cacheCertificateEnabled={**BOOL, "default": False}, staplerOCSPEnabled={**BOOL, "default": False},
                      notifyCertStatusToVirtualServer={**BOOL, "default": False},
                      dataZeroRoundTripTime=enum("disabled", "enabled-with-anti-replay", "enabled-no-anti-replay",
                                                 default="disabled"),
                      renegotiateMaxRecordDelay=indefinite_or(0),
                      certificateExtensions={"type": "array", "items": STR},
                      c3dOCSPUnknownStatusAction=enum("drop", "ignore", default="drop"),
                      # how F5 names the profile of each certificate; the lab makes one profile (design.md)
                      namingScheme=enum("numbered", "certificate", default="numbered"),
                      hybrid={**BOOL, "default": False},   # every certificate in one profile (the lab's way anyway)
                      ldapStartTLS=STARTTLS, smtpsStartTLS=STARTTLS,
                      **tls_common("require")),
    "TLS_Client": obj(ldapStartTLS=STARTTLS, clientCertificate=STR, serverName={**STR, "default": "none"}, sendSNI={**STR, "default": "none"},
                      sniDefault={**BOOL, "default": False}, validateCertificate={**BOOL, "default": False},
                      trustCA={"anyOf": [enum("generic", "none"), POINTER]},
                      ignoreExpired={**BOOL, "default": False}, ignoreUntrusted={**BOOL, "default": False},
                      sessionTickets={**BOOL, "default": False}, dataZeroRoundTripTime={**BOOL, "default": False},
                      c3dCertificateLifespan=intrange(0, 8760, 24),
                      c3dCertificateExtensions={"type": "array", "items": STR},
                      **tls_common("require-strict")),
}

GTM_MODES = ("round-robin", "ratio", "topology", "global-availability", "least-connections", "return-to-dns",
             "drop-packet", "fallback-ip", "none", "static-persistence")
MATCH = {"type": "object", "required": ["matchType"], "additionalProperties": False, "properties": {
    "matchType": enum("subnet", "region", "datacenter", "pool", "country", "continent", "state", "isp", "geoip-isp"),
    "matchValue": {"anyOf": [STR, POINTER]}, "matchOperator": enum("equals", "not-equals", default="equals")}}
CLASSES["TLS_Server"]["not"] = {"required": ["ldapStartTLS", "smtpsStartTLS"]}   # F5's: one or the other
# F5's: a bypass allow list only with forward proxy and its bypass on (AS3 fills the defaults, false, first)
CLASSES["TLS_Server"]["dependentSchemas"] = {"forwardProxyBypassAllowlist": {
    "required": ["forwardProxyEnabled", "forwardProxyBypassEnabled"],
    "properties": {"forwardProxyEnabled": {"const": True}, "forwardProxyBypassEnabled": {"const": True}}}}
CLASSES.update({
    "GSLB_Data_Center": obj(enabled={**BOOL, "default": True}, location=STR, contact=STR),
    "GSLB_Server": obj(
        ("dataCenter", "devices"), dataCenter=POINTER, enabled={**BOOL, "default": True},
        serverType=enum("bigip", "generic-host", default="bigip"),
        devices={"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["address"], "additionalProperties": False, "properties": {
                "address": ADDRESS, "addressTranslation": ADDRESS, "enabled": BOOL, "remark": STR}}},
        virtualServers={"type": "array", "items": {
            "type": "object", "required": ["address", "port"], "additionalProperties": False, "properties": {
                "name": STR, "address": ADDRESS, "port": port(), "enabled": {**BOOL, "default": True},
                "addressTranslation": ADDRESS, "addressTranslationPort": port(0), "remark": STR,
                "monitors": {"type": "array", "items": POINTER}, "minimumMonitors": intrange(1, 63, 1)}}},
        virtualServerDiscoveryMode=enum("no", "yes", "enabled-no-delete", default="no"),
        monitors={"type": "array", "items": POINTER}, minimumMonitors=intrange(1, 63, 1),
        exposeRouteDomainsEnabled={**BOOL, "default": False}, proberPool=POINTER,
        proberPreferred=enum("inherit", "inside-datacenter", "outside-datacenter", "pool", default="inherit"),
        proberFallback=enum("inherit", "any-available", "inside-datacenter", "none", "outside-datacenter", "pool",
                            default="inherit")),
    "GSLB_Prober_Pool": obj(   # gtm prober-pool (stored: the lab's GTMs probe themselves)
        enabled={**BOOL, "default": True}, lbMode=enum("global-availability", "round-robin", default="global-availability"),
        members={"type": "array", "items": {"type": "object", "required": ["server"], "additionalProperties": False,
                                            "properties": {"server": POINTER, "enabled": {**BOOL, "default": True},
                                                           "memberOrder": intrange(0, 65535, 0), "remark": STR}}}),
    "GSLB_Pool": obj(
        ("resourceRecordType",), resourceRecordType=enum("A", "AAAA", "CNAME", "MX", "NAPTR"),
        enabled={**BOOL, "default": True}, ttl=intrange(0, 4294967295, 30),
        lbModePreferred=enum(*GTM_MODES, default="round-robin"), lbModeAlternate=enum(*GTM_MODES, default="round-robin"),
        lbModeFallback=enum(*GTM_MODES, default="return-to-dns"), fallbackIP=STR, **stored.schemas(stored.GSLB_POOL),
        maxAnswersReturned=intrange(1, 500, 1), monitors={"type": "array", "items": POINTER},
        verifyMemberAvailability={**BOOL, "default": True}, manualResumeEnabled={**BOOL, "default": False},
        members={"type": "array", "items": {
            "type": "object", "additionalProperties": False, "properties": {
                "server": POINTER, "virtualServer": NAME_OR_POINTER,   # a pointer: a Service (a discovered virtual)
                "domainName": {"anyOf": [STR, POINTER]},
                "ratio": intrange(0, 100, 1),
                "priority": intrange(0, 65535, 10), "service": STR, "order": intrange(0, 65535, 10),
                "preference": intrange(0, 65535, 0), "isDomainNameStatic": BOOL,
                "enabled": {**BOOL, "default": True}, "memberOrder": intrange(0, 65535, 0),
                "dependsOn": {}, "remark": STR}}}),
    "GSLB_Domain": obj(
        ("domainName", "resourceRecordType"), domainName=STR,
        resourceRecordType=enum("A", "AAAA", "CNAME", "MX", "NAPTR"),
        enabled={**BOOL, "default": True}, aliases={"type": "array", "items": STR},
        poolLbMode=enum("round-robin", "ratio", "topology", "global-availability", default="round-robin"),
        pools={"type": "array", "items": {"type": "object", "required": ["use"], "additionalProperties": False,
                                          "properties": {"use": STR, "ratio": intrange(0, 100, 1)}}},
        poolsCname={"type": "array", "items": POINTER},   # CNAME pools on a wide IP of another type
        lastResortPool=POINTER, lastResortPoolType=enum("A", "AAAA", "CNAME", "MX", "NAPTR"),
        iRules={"type": "array", "items": NAME_OR_POINTER}, persistenceEnabled={**BOOL, "default": False},
        loadBalancingDecisionLogVerbosity={"type": "array", "uniqueItems": True, "items": enum(
            "pool-selection", "pool-traversal", "pool-member-selection", "pool-member-traversal")},
        clientSubnetPreferred={**BOOL, "default": False},
        ttlPersistence=intrange(0, 4294967295, 3600), persistCidrIpv4=intrange(0, 32, 32),
        persistCidrIpv6=intrange(0, 128, 128)),
    "GSLB_Monitor": obj(
        ("monitorType",), monitorType=enum("http", "https", "gateway-icmp", "tcp-half-open", "mysql", "sip", "ldap",
                                            "smtp", "tcp", "udp", "bigip", "external"),
        **stored.schemas(stored.GSLB_MONITOR), **EXTERNAL, passphrase=SECRET, clientCertificate=STR,
        interval=intrange(1, 86400, 30), timeout=intrange(1, 86400, 120), probeTimeout=intrange(0, 86400, 5),
        send=STR, receive=STR, target=STR, ignoreDownResponseEnabled={**BOOL, "default": False}),
    "GSLB_iRule": obj(("iRule",), iRule=CLASSES["iRule"]["properties"]["iRule"], expand={**BOOL, "default": True}),
    # members is AS3's name now, regionMembers its earlier one
    "GSLB_Topology_Region": obj(members={"type": "array", "items": MATCH}, regionMembers={"type": "array", "items": MATCH}),
    "GSLB_Topology_Records": obj(records={"type": "array", "items": {
        "type": "object", "required": ["source", "destination"], "additionalProperties": False, "properties": {
            "source": MATCH, "destination": MATCH, "weight": intrange(0, 4294967295, 1)}}}),
})
# GSLB data centers, servers, regions and topology exist in /Common only: declared in /Common/Shared
COMMON_ONLY = ("GSLB_Data_Center", "GSLB_Server", "GSLB_Prober_Pool", "GSLB_Topology_Region", "GSLB_Topology_Records")

CONSTANTS = {"type": "object"}   # AS3's constants (class Constants): for the declaration's own use, not configuration
APPLICATION = {"type": "object", "required": ["class"], "properties": {
    "class": STR, "label": STR, "remark": STR, "enable": BOOL, "schemaOverlay": STR, "constants": CONSTANTS,
    "template": enum("generic", "http", "https", "tcp", "udp", "l4", "shared", default="generic")}}
TENANT = {"type": "object", "required": ["class"], "properties": {
    "class": STR, "label": STR, "remark": STR, "enable": BOOL, "optimisticLockKey": STR, "constants": CONSTANTS,
    "defaultRouteDomain": intrange(0, 65535, 0), "useCommonRouteDomainTenant": {**BOOL, "default": True},
    "controls": {"type": "object"}}}
ADC = {"type": "object", "required": ["class", "schemaVersion"], "properties": {
    "class": STR, "schemaVersion": {"type": "string", "pattern": r"^3\.[0-9]+\.[0-9]+$"}, "id": STR,
    "constants": CONSTANTS, "$schema": STR,
    "target": {"type": "object", "maxProperties": 1, "additionalProperties": False,   # BIG-IQ's: a BIG-IP ignores it
               "properties": {"hostname": STR, "address": ADDRESS}},
    "label": STR, "remark": STR, "updateMode": enum("selective", "complete", default="selective"),
    "controls": {"type": "object", "properties": {"class": STR, "dryRun": BOOL, "trace": BOOL, "logLevel": STR,
                                                   "traceResponse": BOOL, "userAgent": STR, "archiveTimestamp": STR},
                 "additionalProperties": False}}}
HOSTNAME = r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
# F5's AS3 request: other properties are let through (its schema does not close the class)
AS3 = {"type": "object", "required": ["class"], "properties": {
    "class": STR, "action": enum("deploy", "dry-run", "redeploy", "retrieve", "remove", "patch", default="deploy"),
    "persist": {**BOOL, "default": True}, "declaration": {"type": "object"}, "logLevel": STR, "trace": BOOL,
    "traceResponse": BOOL, "redeployAge": {"type": "integer", "minimum": 0, "maximum": 15},
    "redeployUpdateMode": enum("original", "complete", "selective"), "historyLimit": intrange(1, 15, 4),
    "patchBody": {"type": "array"}, "syncToGroup": STR, "retrieveAge": {"anyOf": [{"type": "integer", "minimum": 0},
                                                                                   {"const": "list"}]},
    # where the request goes (targets.py): this device, another BIG-IP of the lab, or nowhere
    "targetHost": {"type": "string", "anyOf": [{"format": "f5ip"}, {"pattern": HOSTNAME}]},
    "targetPort": port(0), "targetUsername": {"type": "string", "pattern": "^[^:]*$", "maxLength": 254},
    "targetPassphrase": {"type": "string", "maxLength": 254}, "targetTimeout": intrange(1, 900, 150),
    "targetTokens": {"type": "object", "additionalProperties": False, "patternProperties": {
        r"^[^\x00-\x20:\x7f-\xff]{1,254}$": {"type": "string", "maxLength": 8192}}},
    "resourceTimeout": {"type": "integer"}}}
TARGET_WORDS = ("targetHost", "targetPort", "targetUsername", "targetPassphrase", "targetTokens", "targetTimeout")

# Each template wants these (F5: the http template needs a serviceMain of class Service_HTTP).
TEMPLATES = {"http": "Service_HTTP", "https": "Service_HTTPS", "tcp": "Service_TCP", "udp": "Service_UDP", "l4": "Service_L4"}
# AS3 properties that hold an object's kind, from which its class takes defaults (validate fills them).
TOP_LEVEL_WORDS = set(ADC["properties"])
TENANT_WORDS = set(TENANT["properties"])
APP_WORDS = set(APPLICATION["properties"])
