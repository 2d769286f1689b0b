"""Impairments inside nodes: tc qdiscs (netem, or tbf where the kernel has no netem) and the
nftables table of blocked ports, partitions and random loss. The rules themselves are data
(model/faultspec.py); this applies them through the backend. Used at `up` (the topology's
`netem:`) and by the fault verbs."""
from __future__ import annotations

from ..model.faultspec import ChaosError, cut_peers, fallback_args, netem_args, ruleset
from .lab import Lab


def tc(lab: Lab, node, args: list[str], missing_ok: bool = False) -> None:
    proc = lab.backend.run(node, ["tc", *args], capture_output=True, text=True)
    if proc.returncode != 0 and not (missing_ok and ("No such file" in proc.stderr
                                                     or "Cannot delete qdisc with handle of zero" in proc.stderr)):
        raise ChaosError(f"tc {' '.join(args)} in {node.name}: {proc.stderr.strip()}")


def impair(lab: Lab, node, vlan: str, spec: dict) -> str:
    """netem if the kernel has it; else loss in nftables and rate with tbf. Returns which."""
    try:
        tc(lab, node, ["qdisc", "replace", "dev", vlan, "root", "netem", *netem_args(spec)])
        return "netem"
    except ChaosError as exc:
        if "qdisc kind is unknown" not in str(exc):
            raise
    args = fallback_args(spec)
    if args:
        tc(lab, node, ["qdisc", "replace", "dev", vlan, "root", *args])
    else:
        tc(lab, node, ["qdisc", "del", "dev", vlan, "root"], missing_ok=True)
    return "nftables"


def apply_firewall(lab: Lab, faults: dict, nodes) -> None:
    """Replace the chaos table of each of `nodes` with what the fault record says."""
    plan = lab.plan
    cut = cut_peers([(g[0], g[1]) for g in faults.get("partition", {}).get("groups", [])])
    for name in nodes:
        node = plan.node(name)
        addrs = [i.address.split("/")[0] for other in sorted(cut.get(name, ()))
                 for i in plan.node(other).interfaces]
        losses = {k.split(":")[1]: v["loss"] for k, v in faults.get("netem", {}).items()
                  if k.split(":")[0] == name and v.get("_via") == "nftables" and "loss" in v}
        losses.update({k.split(":")[1]: v for k, v in faults.get("topology_loss", {}).items()
                       if k.split(":")[0] == name and v and k not in faults.get("netem", {})})
        text = ruleset(faults.get("blocks", {}).get(name, []), addrs, losses)
        proc = lab.backend.run(node, ["nft", "-f", "-"], input=text, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ChaosError(f"nft in {name}: {proc.stderr.strip()}")


def apply_topology_netem(lab: Lab) -> None:
    """Impairments declared in the topology (`netem:`), applied at `up`."""
    faults = lab.faults()
    for key, spec in lab.plan.netem.items():
        node, _, vlan = key.partition(":")
        n, iface = lab.interface(node, vlan)
        if impair(lab, n, iface.vlan, spec) != "netem":
            faults.setdefault("topology_loss", {})[key] = spec.get("loss")
            apply_firewall(lab, faults, [n.name])
    lab.save_faults(faults)
