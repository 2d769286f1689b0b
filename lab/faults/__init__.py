"""`biglab chaos LAB ...`: one class a fault kind, each reversible, each recorded.

Active faults live in the lab's fault record (model/state.py), so `list`, `heal` and the repairs
work across invocations and `biglab down` forgets them with the lab; nftables tables and qdiscs
live in the nodes' namespaces and go with them. Every fault and repair is also noted on the
lab's timeline, which `biglab events` merges with the nodes' logs.

A new fault verb is one class in one module here (links, processes, clocks), decorated with
`@register`: the CLI, `list`, `reset`, the help and scenarios find it in the registry. The
modules are imported below in the order `list` shows and `reset` repairs.
"""
from . import links, processes, subsystems, forge, clocks  # noqa: F401, I001  (each registers its kinds, in this order)
from .base import REGISTRY, Fault, fault_for, help_text, listing, register, reset, run, verbs

__all__ = ["REGISTRY", "Fault", "fault_for", "help_text", "listing", "register", "reset", "run", "verbs"]
