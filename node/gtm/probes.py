"""The GTM's own prober (sans-IO): the gtm monitors it runs itself, external ones, against the
virtual servers of its servers. A virtual server is probed by its own monitor rule, else its
server's; the monitor's destination (`*:*`) is the virtual server's address and port, or the
address and port it names (AS3's target). A probe finds it up (the script printed something) or
down; a monitor is up on a success, down once `timeout` seconds pass with none (at the first probe
after), as bigd's external monitors are.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..config import monitor_rules
from ..config.schema import split_destination

EXTERNAL = "gtm monitor external"
Key = tuple[str, str, str]   # (server, virtual server, monitor)


@dataclass(frozen=True)
class Spec:
    settings: tuple          # the monitor's settings (sorted items), its script's text among them
    address: str
    port: int


def target(destination: str | None, address: str, port: int) -> tuple[str, int]:
    """The monitor's destination over the virtual server's: `*:*` keeps both, `A:P` replaces them."""
    addr, _, p = (destination or "*:*").rpartition(":")
    return (address if addr in ("", "*") else addr), (port if p in ("", "*", "0") else int(p))


def rule_of(server: dict, vs: dict) -> str | None:
    own = vs.get("monitor")
    return own if own not in (None, "", "default") else server.get("monitor")


def wanted(objects: dict) -> dict[Key, Spec]:
    """The probes the configuration asks for: one per external monitor per virtual server."""
    out = {}
    for (t, server_path), server in objects.items():
        if t != "gtm server":
            continue
        for vs in server.get("virtual-servers") or ():
            listed, _ = monitor_rules.quorum(rule_of(server, vs))
            for path in listed:
                mon = objects.get((EXTERNAL, path))
                if mon is None:
                    continue
                script = objects.get(("sys file external-monitor", mon.get("run") or "")) or {}
                settings = {**mon, "script": script.get("content"), "name": path}
                address, port = target(mon.get("destination"), *split_destination(vs["destination"]))
                out[(server_path, vs["name"], path)] = Spec(tuple(sorted(
                    (k, tuple(sorted(v.items())) if isinstance(v, dict) else v) for k, v in settings.items())),
                    address, port)
    return out


def settings_of(spec: Spec) -> dict:
    return {k: dict(v) if k == "user-defined" and v is not None else v for k, v in spec.settings}


@dataclass
class Probe:
    """One monitor's state on one virtual server."""
    started: float
    timeout: float
    state: str = "checking"
    reason: str = "Checking"
    last_ok: float | None = None

    def took(self, failure: str | None, now: float) -> bool:
        """A probe's result (None: up); whether the state changed."""
        before = self.state
        if failure is None:
            self.state, self.reason, self.last_ok = "up", "", now
        elif now - (self.last_ok if self.last_ok is not None else self.started) >= self.timeout:
            self.state, self.reason = "down", failure
        return self.state != before


def verdicts(objects: dict, probes: dict[Key, Probe]) -> dict[tuple[str, str], tuple[str, str]]:
    """(server, virtual server) -> (up | down | checking, reason) under its monitor rule, for those
    the prober probes (an external monitor in the rule); the rule's other monitors are the LTM's."""
    out = {}
    by_vs: dict[tuple[str, str], list[tuple[str, Probe]]] = {}
    for (server, vs, mon), p in probes.items():
        by_vs.setdefault((server, vs), []).append((mon, p))
    for (server, vs), found in by_vs.items():
        cfg = objects.get(("gtm server", server)) or {}
        item = next((i for i in cfg.get("virtual-servers") or () if i["name"] == vs), {})
        listed, need = monitor_rules.quorum(rule_of(cfg, item))
        need = max(0, need - (len(listed) - len(found)))   # the others are not the prober's
        ups = sum(p.state == "up" for _, p in found)
        down = next(((m, p) for m, p in found if p.state == "down"), None)
        if ups >= need:
            out[(server, vs)] = ("up", "")
        elif down is not None and len(found) - sum(p.state == "down" for _, p in found) < need:
            out[(server, vs)] = ("down", f"Monitor {down[0]}: {down[1].reason}")
        else:
            out[(server, vs)] = ("checking", "Checking")
    return out
