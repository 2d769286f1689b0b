"""Published LTM policies acting on an HTTP virtual server's requests, sans-IO: a hooks.Hook the
proxy fires at HTTP_REQUEST before the virtual's iRules (as a BIG-IP runs policies first).

What acts (docs/design.md): conditions on http-uri (path, query-string, extension, all: the whole
URI), http-host, http-header (by name) and http-method, compared by equals, starts-with,
ends-with, contains or exists (case-insensitive unless case-sensitive, `not` turning it round);
actions forward (select pool, node), http-reply redirect location, shutdown connection (reset)
and drop. Other conditions never match and other actions are stored only. Strategies: first-match
and best-match act as the first matching rule by ordinal, all-match as every matching rule.
"""
from __future__ import annotations

from typing import Callable

from ..config.policy_words import kind_of
from .hooks import Flow, Hook, Outcome, Request, Target

OPERATORS = ("equals", "starts-with", "ends-with", "contains")


def subjects(c: dict, req: Request) -> list[str] | None:
    """What a condition looks at in the request; None for one the lab does not evaluate."""
    kind = kind_of(c)
    if kind == "http-uri":
        if c.get("path"):
            return [req.path]
        if c.get("query-string"):
            return [req.query]
        if c.get("extension"):
            last = req.path.rsplit("/", 1)[-1]
            return [last.rsplit(".", 1)[1]] if "." in last else []
        return [req.uri]
    if kind == "http-host":
        return [req.host.rsplit(":", 1)[0] if c.get("host") and not req.host.endswith("]") else req.host]
    if kind == "http-header":
        return req.headers.values(c.get("tm-name", ""))
    if kind == "http-method":
        return [req.method]
    return None


def matches(c: dict, req: Request) -> bool:
    seen = subjects(c, req)
    if seen is None:
        return False
    op = next((o for o in OPERATORS if c.get(o)), None)
    if op is None:                       # `exists` (or no operator): the thing is there
        hit = bool(seen)
    else:
        fold = (lambda s: s) if c.get("case-sensitive") else str.lower
        test = {"equals": lambda s, v: s == v, "starts-with": str.startswith, "ends-with": str.endswith,
                "contains": lambda s, v: v in s}[op]
        hit = any(test(fold(s), fold(v)) for s in seen for v in c.get("values") or ())
    return hit != bool(c.get("not"))


def act(a: dict, flow: Flow) -> None:
    req = flow.request
    if a.get("forward") and a.get("pool"):
        flow.target = Target(pool=a["pool"])
    elif a.get("forward") and a.get("node"):
        addr, _, port = a["node"].rpartition(":") if a["node"].count(":") == 1 else (a["node"], "", "")
        flow.target = Target(address=addr, port=int(port) if port.isdigit() else None)
    elif a.get("redirect") and a.get("location"):
        where = a["location"].removeprefix("tcl:")
        where = where.replace("[HTTP::host]", req.host).replace("[HTTP::uri]", req.uri)
        flow.outcome = Outcome("redirect", location=where)
    elif a.get("shutdown") or a.get("reset"):
        flow.outcome = Outcome("reset")
    elif a.get("drop"):
        flow.outcome = Outcome("drop")


class VirtualPolicies:
    """The published policies of one virtual server, in the order the virtual lists them."""

    def __init__(self, policies: list[dict]):
        self.policies = policies

    def wants(self, event: str) -> bool:
        return event == "HTTP_REQUEST"

    def fire(self, event: str, flow: Flow) -> None:
        if event != "HTTP_REQUEST" or flow.request is None:
            return
        for policy in self.policies:
            every = policy.get("strategy", "").endswith("all-match")
            for rule in sorted(policy.get("rules") or (), key=lambda r: (r.get("ordinal", 0), r["name"])):
                if all(matches(c, flow.request) for c in rule.get("conditions") or ()):
                    for a in rule.get("actions") or ():
                        act(a, flow)
                    if not every or flow.outcome is not None:
                        break
            if flow.outcome is not None:
                return


class Chain:
    """Hooks run one after another at each event (policies, then iRules); an outcome ends it."""

    def __init__(self, hooks: list[Hook]):
        self.hooks = hooks

    def wants(self, event: str) -> bool:
        return any(h.wants(event) for h in self.hooks)

    def fire(self, event: str, flow: Flow) -> None:
        for h in self.hooks:
            if h.wants(event):
                h.fire(event, flow)
            if flow.outcome is not None and event != "CLIENT_CLOSED":
                return


def hook_for(get: Callable[[str, str], dict | None], virtual: str, rules: Hook | None) -> Hook | None:
    """The virtual's policies (those it lists, published) before its iRules `rules`, or just those."""
    vs = get("ltm virtual", virtual) or {}
    policies = [p for p in (get("ltm policy", path) for path in vs.get("policies") or ()) if p is not None]
    if not policies:
        return rules
    return Chain([VirtualPolicies(policies)] + ([rules] if rules is not None else []))
