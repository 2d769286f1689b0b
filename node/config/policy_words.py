"""LTM policy rule clauses (conditions and actions) in F5's words, sans-IO.

A clause is kept in tmsh form: {"name": "0", "http-uri": True, "path": True, "starts-with": True,
"values": ["/api"]}: bare words (operands, selectors, operators, events) are True, a keyword with a
value holds it (`pool /Common/p`, `tm-name` for tmsh's `name`), `values` is a list. tmsh prints
the words (`http-uri path starts-with values { /api }`); iControl REST shows them camelCased
(httpUri, startsWith, tmName) with F5's read-only defaults added (rest_view).
"""
from __future__ import annotations

import re

from ..errors import Invalid

# conditions: what is looked at (one operand), where in it (selectors), how it compares (operators)
OPERANDS = ("http-uri", "http-host", "http-header", "http-method", "http-cookie", "http-referer",
            "http-user-agent", "http-version", "http-status", "http-set-cookie", "http-basic-auth", "tcp",
            "ssl-extension", "ssl-cert", "client-ssl", "geoip", "cpu-usage", "ssl-persistence")
SELECTORS = ("path", "host", "scheme", "query-string", "query-parameter", "path-segment", "extension", "all",
             "unnamed-query-parameter", "port", "address", "major", "minor", "protocol", "username", "password",
             "common-name", "cipher", "version", "server-name", "npn", "alpn", "route-domain", "mss", "rtt", "vlan",
             "vlan-id", "country-code", "country-name", "continent", "region-code", "region-name", "isp",
             "org", "code", "text", "last-1min", "last-5mins", "last-15secs", "local", "remote")
OPERATORS = ("not", "equals", "starts-with", "ends-with", "contains", "matches", "greater", "greater-or-equal", "less",
             "less-or-equal", "exists", "case-sensitive", "case-insensitive", "present", "external",
             "internal")
EVENTS = ("request", "response", "proxy-request", "proxy-connect", "proxy-response", "client-accepted",
          "server-connected", "ssl-client-hello", "ssl-server-hello", "ssl-client-serverhello-send",
          "ssl-server-handshake", "classification-detected")
# actions: what is done (one kind), with its target words
ACTION_KINDS = ("forward", "redirect", "shutdown", "drop", "discard", "enable", "disable", "persist",
                "insert", "remove", "replace", "set-variable", "log", "tcl", "reset", "request-adapt",
                "response-adapt", "ignore")
ACTION_WORDS = ("select", "http-reply", "connection", "http-uri", "http-host", "http-header", "http-cookie",
                "http-referer", "asm", "compress", "decompress", "cache", "server-ssl", "source-address",
                "cookie-insert", "cookie-hash", "cookie-passive", "cookie-rewrite", "universal", "destination-address",
                "hash", "carp", "snat", "snatpool", "write", "path", "query-string", "wam")
VALUE_KEYS = ("pool", "node", "virtual", "member", "location", "tm-name", "value", "expression", "variable-name",
              "vlan", "snat", "asm-policy", "datagroup", "message", "key", "netmask", "timeout", "tcl-expr")
INT_KEYS = ("index", "code", "expiry-secs", "length", "offset", "port", "status", "vlan-id")
COND_FLAGS = frozenset(OPERANDS + SELECTORS + OPERATORS + EVENTS)
ACTION_FLAGS = frozenset(ACTION_KINDS + ACTION_WORDS + EVENTS)
FORWARD_TARGETS = ("pool", "node", "virtual", "member")
# what F5's REST shows on every clause though nobody set it
COND_SHOWN = {"external": True, "index": 0, "present": True, "remote": True}
ACTION_SHOWN = {k: 0 for k in ("code", "expiry-secs", "length", "offset", "port", "status", "timeout", "vlan-id")}
ACTION_ALIASES = {"discard": "drop"}


def clauses(where: str, which: str, value) -> list[dict]:
    """A rule's `conditions` or `actions`, each {name: {word: ...}} or [{name, word: ...}], checked
    and in the kept form, ordered by name ("0", "1", ...)."""
    if isinstance(value, dict):
        value = [{"name": str(n), **(props or {})} for n, props in value.items()]
    if not isinstance(value, list):
        raise Invalid(f"{where} {which} takes a list of numbered {which}")
    out = {}
    for raw in value:
        if not isinstance(raw, dict) or not str(raw.get("name", "")).isdigit():
            raise Invalid(f'{where} {which}: each item is named by its number ("0", "1", ...)')
        out[str(raw["name"])] = clause(f"{where} {which} {raw['name']}", which, raw)
    return [out[n] for n in sorted(out, key=int)]


def clause(where: str, which: str, raw: dict) -> dict:
    flags = COND_FLAGS if which == "conditions" else ACTION_FLAGS
    out: dict = {"name": str(raw["name"])}
    for k, v in raw.items():
        if k == "name":
            continue
        k = ACTION_ALIASES.get(k, k) if which == "actions" else k
        if k in flags:
            if v not in (True, "true", ""):
                raise Invalid(f'{where}: "{k}" takes no value')
            out[k] = True
        elif k == "values":
            vals = [v] if isinstance(v, str) else v
            if not isinstance(vals, list) or not all(isinstance(x, (str, int)) for x in vals):
                raise Invalid(f"{where}: values takes a list of strings")
            out[k] = [str(x) for x in vals]
        elif k in INT_KEYS:
            try:
                out[k] = int(v)
            except (TypeError, ValueError):
                raise Invalid(f'{where}: {k} "{v}" is not an integer') from None
        elif k in VALUE_KEYS and isinstance(v, (str, int)) and not isinstance(v, bool):
            out[k] = str(v)
        else:
            raise Invalid(f'{where}: "{k}" unknown property')
    kinds = [w for w in (OPERANDS if which == "conditions" else ACTION_KINDS) if out.get(w) is True]
    if which == "actions" and not kinds and out.get("http-reply"):
        kinds = ["redirect"] if out.get("redirect") else kinds
    if len(kinds) != 1:
        what = "operand (" + ", ".join(OPERANDS[:6]) + ", ...)" if which == "conditions" else \
            "action (forward, redirect, shutdown, drop, ...)"
        raise Invalid(f"{where} needs exactly one {what}")
    if which == "actions" and out.get("forward") and any(t in out for t in FORWARD_TARGETS):
        out["select"] = True      # as F5 keeps `forward select pool P`
    if which == "actions" and out.get("redirect"):
        out["http-reply"] = True
    return out


def kind_of(c: dict) -> str:
    return next((w for w in OPERANDS + ACTION_KINDS if c.get(w) is True), "")


# -- tmsh -------------------------------------------------------------------------------------------
def from_words(where: str, which: str, name: str, items: list) -> dict:
    """A clause's tmsh block (`http-uri path starts-with values { /api }`, parsed into (word, block)
    pairs) -> its raw form; tmsh's `name X` is tm-name."""
    raw: dict = {"name": name}
    i = 0
    while i < len(items):
        word, sub = items[i]
        key = "tm-name" if word == "name" else word
        if sub is not None:
            raw[key] = [w for w, _ in sub]
            i += 1
        elif key in VALUE_KEYS or key in INT_KEYS:
            if i + 1 >= len(items) or items[i + 1][1] is not None:
                raise Invalid(f'{where}: "{word}" requires a value')
            raw[key] = items[i + 1][0]
            i += 2
        else:
            raw[key] = True
            i += 1
    return raw


def to_words(c: dict) -> list:
    """A clause as tmsh lists it: its kind first, bare words, keyed values, then values { ... }."""
    kind = kind_of(c)
    lead = [w for w in ("http-reply",) if c.get(w)] + ([kind] if kind else [])   # `http-reply redirect ...`
    order = {w: i for i, w in enumerate(SELECTORS + OPERATORS)}   # `http-host host equals`, `path not starts-with`
    words: list = lead + sorted((k for k, v in c.items() if v is True and k not in lead),
                                key=lambda k: order.get(k, len(order)))
    for k, v in c.items():
        if v is not True and k not in ("name", "values"):
            words += ["name" if k == "tm-name" else k, v]
    if "values" in c:
        words.append(("values", c["values"]))
    return words


# -- iControl REST ---------------------------------------------------------------------------------
def camel(word: str) -> str:
    head, *rest = word.split("-")
    return head + "".join(w.capitalize() for w in rest)


def dashed(key: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "-" + m.group(1).lower(), key)


def from_rest(item: dict) -> dict:
    """{"name": "0", "httpUri": true, "startsWith": true, "values": [...]} -> the raw tmsh form
    (F5's read-only defaults a client sends back are dropped)."""
    out = {}
    for k, v in item.items():
        if k in ("kind", "selfLink", "generation", "fullPath") or k.endswith("Reference"):
            continue
        key = dashed(k)
        if v is False or (key in COND_SHOWN and v == COND_SHOWN[key]) or (key in ACTION_SHOWN and v == 0):
            continue
        out[key] = v
    return out


def rest_view(which: str, c: dict) -> dict:
    """A kept clause as F5's REST shows it, with the defaults a BIG-IP adds to every one."""
    shown = dict(COND_SHOWN if which == "conditions" else ACTION_SHOWN)
    if not any(c.get(e) is True for e in EVENTS):
        shown["request"] = True
    if which == "conditions" and not c.get("case-sensitive"):
        shown["case-insensitive"] = True
    out = {}
    for k, v in {**shown, **c}.items():
        out[k if k == "name" else camel(k)] = v
    return out
