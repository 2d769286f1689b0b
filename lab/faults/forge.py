"""Forged heartbeats on a VLAN: a host of the lab impersonates a bigip toward another (see
forger.py). A device must take none of them: it counts them as forged and fails over, or stays
put, as the real heartbeats alone say."""
from __future__ import annotations

import json
import sys

from ..model.faultspec import ChaosError
from .base import Fault, bigip, register


@register
class Forge(Fault):
    verbs = ("forge",)
    usage = (("forge VLAN AS TO [SECONDS]", "send heartbeats forged as bigip AS to bigip TO on VLAN"),)

    def arguments(self, p, verb):
        p.add_argument("vlan")
        p.add_argument("device", metavar="AS")
        p.add_argument("target", metavar="TO")
        p.add_argument("seconds", type=float, nargs="?", default=5.0)

    def inject(self, lab, verb, args):
        if not 0 < args.seconds <= 300:
            raise ChaosError("forge runs for 0-300 seconds")
        ends = {}
        for name in (args.device, args.target):
            n = bigip(lab, name, "only bigip nodes send heartbeats")
            try:
                ends[name] = n.interface(args.vlan).address.split("/")[0]
            except KeyError:
                raise ChaosError(f"{name} has no address on VLAN {args.vlan}") from None
        sender = next(iter(lab.plan.hosts_on(args.vlan)), None)
        if sender is None:
            raise ChaosError(f"no host or server node on VLAN {args.vlan} to send from")
        tgs = ",".join(lab.status(args.target).failover.traffic_groups) or "traffic-group-1"
        lab.note("fault", f"forge {args.vlan} as {args.device} to {args.target} for {args.seconds:g} s "
                 f"(from {sender.name})", node=args.target)
        proc = lab.run(sender.name, [sys.executable, "-m", "lab.faults.forger", "--src", ends[args.device],
                                     "--dst", ends[args.target], "--device", args.device, "--tgs", tgs,
                                     "--seconds", str(args.seconds)],
                       capture_output=True, text=True, timeout=args.seconds + 30)
        if proc.returncode != 0:
            raise ChaosError(f"the forger on {sender.name} failed: {proc.stderr.strip()[-300:]}")
        sent = json.loads(proc.stdout)["sent"]
        return f"{sender.name}: {sent} forged heartbeats as {args.device} to {args.target} on {args.vlan}"
