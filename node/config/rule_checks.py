"""Whole-configuration checks for iRules: each rule loads (real Tcl, F5's errors), a virtual
server's rules exist, and HTTP events need an HTTP profile on the virtual server."""
from __future__ import annotations

from ..errors import NotFound, RuleError, RuleNeedsHttp
from ..tcl.irule import HTTP_EVENTS, compile_rule
from ..tcl.script import TclSyntax, parse
from .schema import full_path

HTTP_PROFILES = ("ltm profile http", "ltm profile fasthttp")


def check(work: dict, touched: dict) -> None:
    for (tname, path), verb in touched.items():
        if verb == "put" and tname == "ltm rule":
            compile_rule(path, work[(tname, path)].get("api-anonymous") or "")
        if verb == "put" and tname == "gtm rule":
            check_gtm_rule(path, work[(tname, path)].get("api-anonymous") or "")
    for (tname, path), values in work.items():
        if tname != "ltm virtual" or not values.get("rules"):
            continue
        if (tname, path) not in touched and not any(("ltm rule", r) in touched for r in values["rules"]):
            continue
        http = any((p, full_path(name)) in work for name in values.get("profiles") or () for p in HTTP_PROFILES)
        for rule in values["rules"]:
            if ("ltm rule", rule) not in work:
                raise NotFound("Rule", rule)
            events = compile_rule(rule, work[("ltm rule", rule)].get("api-anonymous") or "").events()
            needs = [e for e in HTTP_EVENTS if e in events]
            if needs and not http:
                raise RuleNeedsHttp(needs[0], rule, path)


def user_of(work: dict, path: str):
    for (tname, vpath), values in work.items():
        if tname == "ltm virtual" and path in (values.get("rules") or ()):
            return tname, vpath
    return None


GTM_EVENTS = ("DNS_REQUEST", "DNS_RESPONSE", "LB_SELECTED", "LB_FAILED")


def check_gtm_rule(path: str, text: str) -> None:
    """A GTM iRule is kept, not run: it must be Tcl of `when` blocks of F5's GTM events."""
    try:
        cmds = parse(text)
    except TclSyntax as exc:
        raise RuleError(path, f"{path}:{exc.line}: error: [parse error: {exc.message}][{exc.snippet.strip()}]") from None
    for cmd in cmds:
        words = [w.text for w in cmd.words]
        if words[0] == "proc":
            continue
        if words[0] != "when" or len(words) < 3 or words[1] not in GTM_EVENTS:
            raise RuleError(path, f"{path}:{cmd.line}: error: [unknown event ({words[1] if len(words) > 1 else ''})]"
                                  f"[{' '.join(words[:2])}]")
