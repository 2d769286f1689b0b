"""A critical subsystem of a bigip's daemon crashes: the LTM data plane (tmm), the monitors (bigd)
or the DNS listeners (gtmd). The device's system failsafe acts as `sys daemon-ha NAME
heartbeat-action` says (fail over, restart it, or both); `reset` restarts what is still down."""
from __future__ import annotations

from ..model.faultspec import ChaosError
from ..runtime.control import ControlError
from .base import Fault, bigip, register

SUBSYSTEMS = ("tmm", "bigd", "gtmd")


@register
class Subsystem(Fault):
    verbs = ("crash",)
    usage = (("crash NODE tmm|bigd|gtmd", "crash one subsystem of the daemon (system failsafe)"),)

    def arguments(self, p, verb):
        p.add_argument("node")
        p.add_argument("subsystem", choices=SUBSYSTEMS)

    def inject(self, lab, verb, args):
        n = bigip(lab, args.node, "only bigip nodes have subsystems")
        try:
            said = lab.call(n.name, "crash", subsystem=args.subsystem)
        except ControlError as exc:
            raise ChaosError(f"{n.name}: {exc}") from None
        faults = lab.faults()
        crashed = faults.setdefault("subsystems", {}).setdefault(n.name, [])
        if args.subsystem not in crashed:
            crashed.append(args.subsystem)
        lab.save_faults(faults)
        lab.note("fault", f"crash {n.name} {args.subsystem}", node=n.name)
        return f"{n.name}: {said}"

    def describe(self, lab, faults):
        return [f"crash {n} {s}" for n, names in sorted(faults.get("subsystems", {}).items()) for s in names]

    def repair(self, lab, faults):
        done = []
        for node, names in sorted(faults.get("subsystems", {}).items()):
            for s in names:
                try:
                    lab.call(node, "restart-subsystem", subsystem=s)
                    done.append(f"restart {node} {s}")
                except ControlError:
                    done.append(f"{node} {s} already running (restarted by its heartbeat-action, or the daemon)")
                lab.note("repair", f"restart {node} {s}", node=node)
        fresh = lab.faults()   # the other repairs saved theirs meanwhile
        fresh.pop("subsystems", None)
        lab.save_faults(fresh)
        return done
