"""A fault kind is one class: its verbs, their arguments, inject (run a verb), describe (the
faults of this kind in place) and repair (undo them all). Registered once with `@register`; the
CLI's `biglab chaos`, `list`, `reset`, the help and scenarios are all derived from the registry.

    @register
    class Link(Fault):
        verbs = ("link",)
        usage = ("link NODE:VLAN down|up", "pull or plug a cable")
        def arguments(self, p, verb): ...
        def inject(self, lab, verb, args) -> str: ...
        def describe(self, lab, faults) -> list[str]: ...
        def repair(self, lab, faults) -> list[str]: ...
"""
from __future__ import annotations

import argparse

from ..model.faultspec import ChaosError
from ..runtime.lab import Lab


class Fault:
    verbs: tuple[str, ...] = ()
    usage: tuple[tuple[str, str], ...] = ()   # (synopsis, what it does) lines for the help

    def arguments(self, p: argparse.ArgumentParser, verb: str) -> None:
        """Add the verb's arguments to `p`."""

    def parse(self, verb: str, words: list[str]) -> argparse.Namespace:
        p = _Parser(prog=f"chaos {verb}", add_help=False)
        self.arguments(p, verb)
        return p.parse_args(words)

    def inject(self, lab: Lab, verb: str, args: argparse.Namespace) -> str:
        """Do what `verb` says (inject a fault, or repair one); returns the message to show."""
        raise NotImplementedError

    def describe(self, lab: Lab, faults: dict) -> list[str]:
        """One line per fault of this kind in the record `faults`."""
        return []

    def repair(self, lab: Lab, faults: dict) -> list[str]:
        """Undo every fault of this kind in the record `faults`; one line per repair."""
        return []


def bigip(lab: Lab, name: str, why: str):
    """The plan of bigip node `name`; a host or server node is refused with `why` (what it lacks)."""
    n = lab.node(name)
    if not n.runs_daemon:
        raise ChaosError(f"{n.name} is a {n.kind} node: {why}")
    return n


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ChaosError(f"{self.prog}: {message}")


REGISTRY: list[Fault] = []


def register(cls: type[Fault]) -> type[Fault]:
    REGISTRY.append(cls())
    return cls


def verbs() -> list[str]:
    return [v for f in REGISTRY for v in f.verbs] + ["list", "reset"]


def fault_for(verb: str) -> Fault:
    for f in REGISTRY:
        if verb in f.verbs:
            return f
    raise ChaosError(f"unknown chaos verb {verb!r} (verbs: {', '.join(verbs())})")


def run(lab: Lab, verb: str, words: list[str]) -> str:
    """Run one chaos verb with its arguments (as typed after `biglab chaos LAB`); returns the
    message to show."""
    if verb == "list":
        faults = listing(lab)
        return "\n".join(faults) if faults else "no faults"
    if verb == "reset":
        done = reset(lab)
        return "\n".join(done) if done else "nothing to repair"
    fault = fault_for(verb)
    return fault.inject(lab, verb, fault.parse(verb, words))


def listing(lab: Lab) -> list[str]:
    faults = lab.faults()
    return [line for f in REGISTRY for line in f.describe(lab, faults)]


def reset(lab: Lab) -> list[str]:
    """Undo every recorded fault; returns what was repaired."""
    faults = lab.faults()
    return [line for f in REGISTRY for line in f.repair(lab, faults)]


def help_text() -> str:
    lines = [line for f in REGISTRY for line in f.usage]
    lines += [("list", "active faults"), ("reset", "undo every active fault")]
    return "verbs:\n" + "\n".join(f"  {synopsis:<32} {what}".rstrip() for synopsis, what in lines)
