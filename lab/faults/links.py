"""Faults of the network: cables (link), partitions, netem impairments, blocked ports.

Each is recorded in the lab's fault record and applied in the nodes' namespaces (tc, nftables:
lab/runtime/impair.py), so it goes with the lab."""
from __future__ import annotations

from ..model.faultspec import (NETEM_OPTIONS, ChaosError, check_netem, parse_port, partition_groups,
                               port_key)
from ..runtime.impair import apply_firewall, impair, tc
from ..runtime.lab import Lab
from .base import Fault, register


def endpoint(lab: Lab, text: str):
    node, sep, vlan = text.partition(":")
    if not sep or not node or not vlan:
        raise ChaosError(f"{text!r}: give the interface as NODE:VLAN")
    return lab.interface(node, vlan)


@register
class Link(Fault):
    verbs = ("link",)
    usage = (("link NODE:VLAN down|up", "pull or plug a cable"),)

    def arguments(self, p, verb):
        p.add_argument("endpoint", metavar="NODE:VLAN")
        p.add_argument("state", choices=["down", "up"])

    def inject(self, lab, verb, args):
        return self.set(lab, args.endpoint, args.state == "up")

    def set(self, lab: Lab, where: str, up: bool) -> str:
        node, iface = endpoint(lab, where)
        lab.set_link(node.name, iface.vlan, up)
        faults = lab.faults()
        links = faults.setdefault("links", {})
        key = f"{node.name}:{iface.vlan}"
        if up:
            links.pop(key, None)
        else:
            links[key] = "down"
        lab.save_faults(faults)
        lab.note("repair" if up else "fault", f"link {key} {'up' if up else 'down'}", node=node.name)
        return f"{key} is {'up' if up else 'down'}"

    def describe(self, lab, faults):
        return [f"link {k} down" for k in sorted(faults.get("links", {}))]

    def repair(self, lab, faults):
        done = []
        for key in list(faults.get("links", {})):
            self.set(lab, key, True)
            done.append(f"link {key} up")
        return done


@register
class Partition(Fault):
    verbs = ("partition", "heal")
    usage = (("partition NODES NODES", "cut two groups (comma lists) apart; or --halves, --bridge"),
             ("heal", "remove the partition"))

    def arguments(self, p, verb):
        if verb == "partition":
            p.add_argument("groups", nargs="*", metavar="NODES")
            p.add_argument("--halves", action="store_true")
            p.add_argument("--bridge", action="store_true")

    def inject(self, lab, verb, args):
        if verb == "heal":
            return self.heal(lab)
        if args.halves or args.bridge:
            if args.groups:
                raise ChaosError("give either two groups of nodes or --halves/--bridge, not both")
            return self.cut(lab, "halves" if args.halves else "bridge")
        if len(args.groups) != 2:
            raise ChaosError("partition needs two groups: partition A[,B...] C[,D...] (or --halves, --bridge)")
        return self.cut(lab, "explicit", args.groups[0].split(","), args.groups[1].split(","))

    def cut(self, lab: Lab, how: str, a: list[str] | None = None, b: list[str] | None = None) -> str:
        faults = lab.faults()
        if faults.get("partition"):
            raise ChaosError("a partition is already in place: heal it first (biglab chaos LAB heal)")
        names = lab.bigips if how != "explicit" else [n.name for n in lab.plan.nodes]
        groups = partition_groups(names, how, a, b)
        faults["partition"] = {"how": how, "groups": [[x, y] for x, y in groups]}
        apply_firewall(lab, faults, sorted({n for x, y in groups for n in x + y}))
        lab.save_faults(faults)
        text = "; ".join(f"{','.join(x)} | {','.join(y)}" for x, y in groups)
        lab.note("fault", f"partition ({how}) {text}")
        return f"partitioned: {text}"

    def heal(self, lab: Lab) -> str:
        faults = lab.faults()
        part = faults.pop("partition", None)
        if not part:
            return "no partition to heal"
        apply_firewall(lab, faults, sorted({n for x, y in part["groups"] for n in x + y}))
        lab.save_faults(faults)
        lab.note("repair", "heal: partition removed")
        return "healed"

    def describe(self, lab, faults):
        p = faults.get("partition")
        if not p:
            return []
        return [f"partition ({p['how']}) " + "; ".join(f"{','.join(a)} | {','.join(b)}" for a, b in p["groups"])]

    def repair(self, lab, faults):
        if not faults.get("partition"):
            return []
        self.heal(lab)
        return ["heal"]


@register
class Netem(Fault):
    verbs = ("netem",)
    usage = (("netem NODE:VLAN --delay 50ms [--jitter 10ms] [--loss 5%] [--duplicate 1%] [--rate 1mbit] | reset", ""),)

    def arguments(self, p, verb):
        p.add_argument("endpoint", metavar="NODE:VLAN")
        p.add_argument("reset", nargs="?", choices=["reset"])
        for opt in NETEM_OPTIONS:
            p.add_argument(f"--{opt}")

    def inject(self, lab, verb, args):
        spec = {k: getattr(args, k) for k in NETEM_OPTIONS if getattr(args, k) is not None}
        if args.reset:
            if spec:
                raise ChaosError("netem NODE:VLAN reset takes no options")
            return self.set(lab, args.endpoint, None)
        return self.set(lab, args.endpoint, spec)

    def set(self, lab: Lab, where: str, spec: dict | None) -> str:
        """Impair a node's interface (its egress) with netem; `spec` None removes the impairment."""
        node, iface = endpoint(lab, where)
        key = f"{node.name}:{iface.vlan}"
        faults = lab.faults()
        table = faults.setdefault("netem", {})
        if spec is None:
            tc(lab, node, ["qdisc", "del", "dev", iface.vlan, "root"], missing_ok=True)
            old = table.pop(key, None)
            if old and old.get("_via") == "nftables":
                apply_firewall(lab, faults, [node.name])
            lab.save_faults(faults)
            lab.note("repair", f"netem {key} reset", node=node.name)
            return f"{key}: no impairment"
        spec = check_netem(spec)
        via = impair(lab, node, iface.vlan, spec)
        table[key] = {**spec, "_via": via} if via != "netem" else spec
        if via != "netem":
            apply_firewall(lab, faults, [node.name])
        lab.save_faults(faults)
        text = " ".join(f"{k} {v}" for k, v in spec.items())
        lab.note("fault", f"netem {key} {text}", node=node.name)
        return f"{key}: {text}" + ("" if via == "netem" else " (no netem in this kernel: loss by nftables, rate by tbf)")

    def describe(self, lab, faults):
        return [f"netem {k} " + " ".join(f"{o} {v}" for o, v in spec.items() if not o.startswith("_"))
                for k, spec in sorted(faults.get("netem", {}).items())]

    def repair(self, lab, faults):
        done = []
        for key in list(faults.get("netem", {})):
            self.set(lab, key, None)
            done.append(f"netem {key} reset")
        return done


@register
class Block(Fault):
    verbs = ("block", "unblock")
    usage = (("block|unblock NODE PORT[/udp]", "nftables in the node's namespace, both directions"),)

    def arguments(self, p, verb):
        p.add_argument("node")
        p.add_argument("port", metavar="PORT[/udp]")

    def inject(self, lab, verb, args):
        return self.set(lab, args.node, args.port, verb == "block")

    def set(self, lab: Lab, node: str, port: str, blocked: bool) -> str:
        n = lab.node(node)
        key = port_key(*parse_port(port))
        faults = lab.faults()
        ports = faults.setdefault("blocks", {}).setdefault(n.name, [])
        if blocked and key not in ports:
            ports.append(key)
        elif not blocked:
            if key not in ports:
                raise ChaosError(f"{key} is not blocked on {n.name} (blocked: {', '.join(ports) or 'nothing'})")
            ports.remove(key)
        if not ports:
            faults["blocks"].pop(n.name)
        apply_firewall(lab, faults, [n.name])
        lab.save_faults(faults)
        verb = "block" if blocked else "unblock"
        lab.note("fault" if blocked else "repair", f"{verb} {n.name} {key}", node=n.name)
        return f"{n.name}: {key} {'blocked both ways' if blocked else 'open'}"

    def describe(self, lab, faults):
        return [f"block {n} {p}" for n, ports in sorted(faults.get("blocks", {}).items()) for p in ports]

    def repair(self, lab, faults):
        done = []
        for n, ports in list(faults.get("blocks", {}).items()):
            for p in list(ports):
                self.set(lab, n, p, False)
                done.append(f"unblock {n} {p}")
        return done
