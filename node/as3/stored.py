"""AS3 properties the lab keeps where F5 keeps them and does not act on (docs/design.md, "stored
only"): each AS3 property -> its tmsh property (F5's map_as3 and properties.json), with AS3's
schema for it. classes.py takes the schemas, desired.py the values.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

ED = {True: "enabled", False: "disabled"}
YN = {True: "yes", False: "no"}


@dataclass(frozen=True)
class Prop:
    field: str                      # the tmsh property
    schema: dict                    # AS3's schema for the property
    convert: Callable = str         # AS3's value -> tmsh's


def flag(field: str, default: bool | None, words: dict = ED) -> Prop:
    return Prop(field, {"type": "boolean", **({} if default is None else {"default": default})}, words.get)


def num(field: str, lo: int, hi: int, default: int | None = None, special: dict | None = None,
        text: bool = False) -> Prop:
    """An integer; `special` maps AS3's special numbers (-1, 0) to the tmsh word or number;
    `text`: tmsh keeps the property as a word ("indefinite" or a number)."""
    special = special or {}
    return Prop(field, {"type": "integer", "minimum": lo, "maximum": hi,
                        **({} if default is None else {"default": default})},
                (lambda v: str(special.get(v, v))) if text else (lambda v: special.get(v, v)))


def word(field: str, *choices: str, default: str | None = None, tmsh: dict | None = None) -> Prop:
    tmsh = tmsh or {}
    return Prop(field, {"enum": list(choices), **({} if default is None else {"default": default})},
                lambda v: tmsh.get(v, v))


def schemas(table: dict[str, Prop]) -> dict:
    return {prop: p.schema for prop, p in table.items()}


def values(item: dict, table: dict[str, Prop]) -> dict:
    """The tmsh values of the properties, AS3's defaults for those not declared (as AS3 writes them)."""
    return {p.field: p.convert(item.get(prop, p.schema.get("default"))) for prop, p in table.items()
            if prop in item or "default" in p.schema}


NEVER = 4294967295
TIMEOUT = {0: "immediate", -1: "indefinite"}
TCP_OPTION = {"type": "object", "required": ["option", "when"], "additionalProperties": False, "properties": {
    "option": {"type": "integer", "minimum": 0, "maximum": 255}, "when": {"enum": ["first", "last"]}}}

# L4_Profile -> ltm profile fastl4
L4 = {
    "clientTimeout": num("client-timeout", -1, 86400, 30, {-1: 86400}),
    "idleTimeout": num("idle-timeout", -1, NEVER, 300, TIMEOUT, text=True),
    "keepAliveInterval": num("keep-alive-interval", 0, NEVER, 0, {0: "disabled"}, text=True),
    "looseClose": flag("loose-close", False), "looseInitialization": flag("loose-initialization", False),
    "maxSegmentSize": num("mss-override", -1, 9162, 0, {-1: 9162}),
    "resetOnTimeout": flag("reset-on-timeout", True), "synCookieEnable": flag("syn-cookie-enable", True),
    "synCookieAllowlist": flag("syn-cookie-whitelist", False),
    "tcpCloseTimeout": num("tcp-close-timeout", -1, NEVER, 5, TIMEOUT, text=True),
    "tcpHandshakeTimeout": num("tcp-handshake-timeout", -1, NEVER, 5, TIMEOUT, text=True),
    "pvaAcceleration": word("pva-acceleration", "full", "partial", "none", "dedicated", default="full"),
}

# TCP_Profile -> ltm profile tcp
TCP = {
    "ackOnPush": flag("ack-on-push", True),
    "autoProxyBufferSize": flag("auto-proxy-buffer-size", True),
    "autoReceiveWindowSize": flag("auto-receive-window-size", True),
    "autoSendBufferSize": flag("auto-send-buffer-size", True),
    "congestionControl": word("congestion-control", "bbr", "cdg", "chd", "cubic", "high-speed", "illinois",
                              "new-reno", "none", "reno", "scalable", "vegas", "westwood", "woodside",
                              default="woodside"),
    "delayedAcks": flag("delayed-acks", True), "enhancedLossRecovery": flag("enhanced-loss-recovery", True),
    "fastOpen": flag("fast-open", True), "idleTimeout": num("idle-timeout", -1, 86400, 300, {-1: NEVER}),
    "initCwnd": num("init-cwnd", 0, 64, 16), "initRwnd": num("init-rwnd", 0, 64, 16),
    "keepAliveInterval": num("keep-alive-interval", 1, NEVER, 1800),
    "minimumRto": num("minimum-rto", 1, 5000, 1000),
    "nagle": word("nagle", "disable", "enable", "auto", default="auto",
                  tmsh={"disable": "disabled", "enable": "enabled"}),
    "proxyBufferHigh": num("proxy-buffer-high", 64, 33554432, 262144),
    "proxyBufferLow": num("proxy-buffer-low", 64, 33554432, 196608),
    "proxyOptions": flag("proxy-options", False),
    "receiveWindowSize": num("receive-window-size", 64, 33554432, 131072),
    "resetOnTimeout": flag("reset-on-timeout", True), "selectiveAcks": flag("selective-acks", True),
    "sendBufferSize": num("send-buffer-size", 64, 33554432, 262144),
    "synCookieEnable": flag("syn-cookie-enable", True), "timestamps": flag("timestamps", True),
    "verifiedAccept": flag("verified-accept", False),
    "zeroWindowTimeout": num("zero-window-timeout", -1, 86400000, 20000, {-1: NEVER}),
    "tcpOptions": Prop("tcp-options", {"type": "array", "items": TCP_OPTION},
                       lambda v: " ".join(f"{{{o['option']} {o['when']}}}" for o in v) or "none"),
}

METADATA = {"type": "object", "additionalProperties": {
    "type": "object", "required": ["value"], "additionalProperties": False,
    "properties": {"value": {"type": "string"}, "persist": {"type": "boolean", "default": True}}}}


def metadata(field: str = "metadata") -> Prop:
    """AS3's {name: {value, persist}} as F5's metadata items."""
    return Prop(field, METADATA, lambda v: {k: {"value": m["value"], "persist": "true" if m.get("persist", True)
                                                 else "false"} for k, m in v.items()})


# the Service_* classes -> ltm virtual (adminState and enable together make its status: desired.py)
SERVICE = {
    "lastHop": word("auto-lasthop", "default", "auto", "disable", default="default",
                    tmsh={"auto": "enabled", "disable": "disabled"}),
    "metadata": metadata(),
    "nat64Enabled": flag("nat64", False),
    "serviceDownImmediateAction": word("service-down-immediate-action", "none", "reset", "drop", default="none"),
    "serversslUseSni": flag("serverssl-use-sni", False),
    "rateLimit": num("rate-limit", 0, NEVER, None, {0: "disabled"}, text=True),
    "translateClientPort": Prop("source-port", {"anyOf": [{"type": "boolean"},
                                                          {"enum": ["change", "preserve", "preserve-strict"]}],
                                                "default": False},
                                lambda v: {True: "change", False: "preserve"}.get(v, v) if isinstance(v, bool) else v),
}
# Pool -> ltm pool
POOL = {"allowNATEnabled": flag("allow-nat", True, YN), "allowSNATEnabled": flag("allow-snat", True, YN),
        "metadata": metadata()}
# Service_Address -> ltm virtual-address
SERVICE_ADDRESS = {"serverScope": word("server-scope", "any", "all", "none", default="any")}

HEADER = {"type": "string", "minLength": 1, "maxLength": 128}
# HTTP_Profile -> ltm profile http (the lab's proxy acts on max-header-count and -size, desired.py)
HTTP = {
    "trustXFF": flag("accept-xff", False), "multiplexTransformations": flag("oneconnect-transformations", True),
    "multiplexStatusReuse": Prop("oneconnect-status-reuse", {"type": "string", "default": "200 206"}),
    "rewriteRedirects": word("redirect-rewrite", "none", "all", "matching", "addresses", default="none",
                             tmsh={"addresses": "nodes"}),
    "otherXFF": Prop("xff-alternative-names", {"type": "array", "items": HEADER}, list),
    "allowedResponseHeaders": Prop("response-headers-permitted", {"type": "array", "items": HEADER}, list),
    "fallbackStatusCodes": Prop("fallback-status-codes", {"type": "array", "items": {
        "type": "integer", "minimum": 100, "maximum": 999}}, lambda v: [str(c) for c in v]),
    "whiteOutHeader": Prop("header-erase", {"type": "string"}),
    "viaHost": Prop("via-host-name", {"type": "string"}),
    "encryptCookies": Prop("encrypt-cookies", {"type": "array", "items": {"type": "string"}}, list),
}
PASS_OR_REJECT = ("pass-through", "reject")
HTTP_ENFORCEMENT = {
    "allowBlankSpaceAfterHeaderName": flag("allow-ws-header-name", False),
    "enforceRFCCompliance": flag("rfc-compliance", False),
    "excessClientHeaders": word("excess-client-headers", *PASS_OR_REJECT, default="pass-through"),
    "excessServerHeaders": word("excess-server-headers", *PASS_OR_REJECT, default="pass-through"),
    "oversizeClientHeaders": word("oversize-client-headers", *PASS_OR_REJECT, default="pass-through"),
    "oversizeServerHeaders": word("oversize-server-headers", *PASS_OR_REJECT, default="pass-through"),
    "maxRequests": num("max-requests", 0, 2147483647, 0),
}
HTTP_HSTS = {
    "hstsInsert": flag("mode", False), "hstsPeriod": num("maximum-age", 0, NEVER, 7862400),
    "hstsIncludeSubdomains": flag("include-subdomains", True), "hstsPreload": flag("preload", False),
}

# Monitor -> ltm monitor TYPE: each property lands where the type has it (desired.py); secrets and
# pointers (passphrase, secret, clientTLS, clientCertificate) are desired.py's
YES_NO = {True: "yes", False: "no"}
MONITOR = {
    "receiveDown": Prop("recv-disable", {"type": "string"}), "ciphers": Prop("cipherlist", {"type": "string"}),
    "username": Prop("username", {"type": "string"}), "filename": Prop("filename", {"type": "string"}),
    "mode": word("mode", "passive", "port"), "protocol": word("mode", "sips", "tcp", "tls", "udp"),
    "queryName": Prop("qname", {"type": "string"}), "queryType": word("qtype", "a", "aaaa"),
    "acceptRCODE": word("accept-rcode", "anything", "no-error"),
    "answerContains": word("answer-contains", "any-type", "anything", "query-type"),
    "failureInterval": num("failure-interval", 2, 1000), "failures": num("failures", 0, 1000),
    "responseTime": num("response-time", 0, 5000), "retryTime": num("retry-time", 0, 5000),
    "base": Prop("base", {"type": "string"}), "filter": Prop("filter", {"type": "string"}),
    "security": word("security", "none", "ssl", "tls"), "mandatoryAttributes": flag("mandatory-attributes", None, YES_NO),
    "chaseReferrals": flag("chase-referrals", None, YES_NO),
    "count": num("count", 0, 2147483647), "database": Prop("database", {"type": "string"}),
    "receiveColumn": num("recv-column", 1, 4096), "receiveRow": num("recv-row", 1, 65535),
    "nasIpAddress": Prop("nas-ip-address", {"type": "string"}),
    "codesUp": Prop("filter", {"type": "array", "items": {"type": "integer", "minimum": 0}},
                    lambda v: " ".join(map(str, v))),
    "codesDown": Prop("filter-neg", {"type": "array", "items": {"type": "integer", "minimum": 0}},
                      lambda v: " ".join(map(str, v))),
    "headers": Prop("headers", {"type": "string"}), "request": Prop("request", {"type": "string"}),
    "domain": Prop("domain", {"type": "string"}), "dscp": num("ip-dscp", 0, 63),
    "adaptiveDivergenceType": word("adaptive-divergence-type", "relative", "absolute"),
    "adaptiveLimitMilliseconds": num("adaptive-limit", 1, 10000),
    "adaptiveWindow": num("adaptive-sampling-timespan", 60, 1800),
}
# GSLB_Monitor -> gtm monitor TYPE: the Monitor's settings and these, where the type has them
GSLB_MONITOR = {
    **MONITOR, "reverseEnabled": flag("reverse", None), "transparent": flag("transparent", None),
    "probeInterval": num("probe-interval", 0, 86400), "probeAttempts": num("probe-attempts", 0, 86400),
    "receiveStatusCodes": Prop("recv-status-code", {"type": "array", "items": {"type": "integer"}},
                               lambda v: " ".join(map(str, v))),
    "sniServerName": Prop("sni-server-name", {"type": "string"}), "debugEnabled": flag("debug", None, YES_NO),
    "aggregateDynamicRatios": word("aggregate-dynamic-ratios", "average-members", "average-nodes", "none",
                                   "sum-members", "sum-nodes"),
    "pathname": Prop("run", {"type": "string"}), "arguments": Prop("args", {"type": "string"}),
    "upInterval": num("up-interval", 0, 3600), "timeUntilUp": num("time-until-up", 0, 1800),
}

# GSLB_Pool -> gtm pool TYPE (limits and QoS coefficients: stored only)
GSLB_POOL = {
    "dynamicRatioEnabled": flag("dynamic-ratio", False), "verifyMemberEnabled": flag("verify-member-availability", True),
    **{p: num(f, 0, 4294967295, 0) for p, f in (("bpsLimit", "limit-max-bps"), ("ppsLimit", "limit-max-pps"),
                                                 ("connectionsLimit", "limit-max-connections"))},
    **{p: flag(f, False) for p, f in (("bpsLimitEnabled", "limit-max-bps-status"),
                                      ("ppsLimitEnabled", "limit-max-pps-status"),
                                      ("connectionsLimitEnabled", "limit-max-connections-status"))},
    **{p: num(f, 0, 65535, d) for p, f, d in (
        ("qosHitRatio", "qos-hit-ratio", 5), ("qosHops", "qos-hops", 0), ("qosKbps", "qos-kilobytes-second", 3),
        ("qosLinkCapacity", "qos-lcs", 30), ("qosPacketRate", "qos-packet-rate", 1),
        ("qosRoundTripTime", "qos-rtt", 50), ("qosTopology", "qos-topology", 0),
        ("qosVirtualServerCapacity", "qos-vs-capacity", 0), ("qosVirtualServerScore", "qos-vs-score", 0))},
}

# HTTP2_Profile -> ltm profile http2 (activationMode and concurrentStreamsPerConnection act: node/ltm/h2gate.py)
HTTP2 = {
    "activationMode": Prop("activation-modes", {"enum": ["alpn", "always"], "default": "alpn"}, lambda v: [v]),
    "concurrentStreamsPerConnection": num("concurrent-streams-per-connection", 1, 256, 10),
    "connectionIdleTimeout": num("connection-idle-timeout", 1, NEVER, 300),
    "enforceTlsRequirements": flag("enforce-tls-requirements", True),
    "frameSize": num("frame-size", 1024, 16384, 2048), "headerTableSize": num("header-table-size", 0, 65535, 4096),
    "includeContentLength": flag("include-content-length", False), "insertHeader": flag("insert-header", False),
    "insertHeaderName": Prop("insert-header-name", {"type": "string", "default": "X-HTTP2"}),
    "receiveWindow": num("receive-window", 16, 128, 32), "writeSize": num("write-size", 2048, 32768, 16384),
}
