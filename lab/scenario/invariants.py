"""The soak's faults and invariants, without IO: which fault to inject next (drawn from the fault
registry's verbs with a seeded random source, so a seed replays a run), and what must hold once a
fault is healed and the lab settled (`violations` of one observation)."""
from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class FaultPlan:
    inject: str          # a chaos line
    repair: str          # the chaos line that undoes it ("reset": every repair)
    kills: tuple = ()    # daemons this fault kills on purpose


def draw(rng: random.Random, bigips: list[str], failover_vlans: list[str], hold: float,
         dcs: dict | None = None, gtms: tuple = ()) -> FaultPlan:
    """One fault: kill, pause, partition, link down, clock skew, blocked 4353, force standby or a
    subsystem crash, on devices the seeded source picks; with `dcs` (data center -> its LTM
    devices) also the loss of a whole data center (every LTM of it killed). A GTM's subsystem to
    crash is its DNS listener (gtmd)."""
    a = rng.choice(bigips)
    b = rng.choice([n for n in bigips if n != a] or [a])
    kinds = ("kill", "pause", "partition", "link", "clock", "block", "standby", "crash") + (("dc",) if dcs else ())
    kind = rng.choice(kinds)
    if kind == "dc":
        devices = dcs[rng.choice(sorted(dcs))]
        return FaultPlan("; ".join(f"kill {d}" for d in devices), "; ".join(f"start {d}" for d in devices),
                         tuple(devices))
    if kind == "kill":
        return FaultPlan(f"kill {a}", f"start {a}", (a,))
    if kind == "pause":
        return FaultPlan(f"pause {a}", f"resume {a}")
    if kind == "partition":
        return FaultPlan(f"partition {a} {b}", "heal")
    if kind == "link":
        return FaultPlan(f"link {a}:{rng.choice(failover_vlans)} down", "reset")
    if kind == "clock":
        return FaultPlan(f"clock {a} {rng.choice(('+', '-'))}{rng.randint(1, 30)}m", "reset")
    if kind == "block":
        return FaultPlan(f"block {a} 4353", "reset")
    if kind == "standby":
        return FaultPlan(f"tmsh {a} run sys failover standby", "none")
    return FaultPlan(f"crash {a} {'gtmd' if a in gtms else rng.choice(('tmm', 'bigd'))}", "reset")


def violations(obs: dict) -> list[str]:
    """What is wrong in one settled observation:
    obs = {"active": {tg: [devices]}, "arp": {address: (mac seen, mac of the active)},
           "writes": {name: {device: present}}, "conflicts": [sync status lines that report one],
           "died": [devices not killed]}"""
    out = []
    for tg, devices in sorted(obs.get("active", {}).items()):
        if len(devices) != 1:
            out.append(f"{tg} is active on {len(devices)} devices ({', '.join(devices) or 'none'})")
    for address, (seen, want) in sorted(obs.get("arp", {}).items()):
        if want is not None and seen != want:
            out.append(f"the client's ARP entry for {address} is {seen}, the active device's MAC is {want}")
    for name, where in sorted(obs.get("writes", {}).items()):
        missing = sorted(d for d, present in where.items() if not present)
        if missing and not obs.get("conflicts"):   # a reported conflict leaves the choice to the user
            out.append(f"acknowledged write {name} is missing on {', '.join(missing)} (no sync conflict reported)")
    for device in obs.get("died", ()):
        out.append(f"{device}'s daemon died without being killed")
    return out + gslb_violations(obs.get("gslb"))


def gslb_violations(gslb: dict | None) -> list[str]:
    """GTM answers only from available data centers: every A answer a listener gives a client is a
    virtual server of a data center that is available, and a listener answers something while one
    is. gslb = {"answers": [{listener, client, wideip, answer: [addresses], error}],
    "virtuals": {address: datacenter}, "available": [datacenters]} (gslb.observe)."""
    if not gslb:
        return []
    out, available = [], set(gslb["available"])
    for a in gslb["answers"]:
        where = f"{a['listener']} to {a['client']} for {a['wideip']}"
        if a.get("error"):
            out.append(f"GTM {where}: no answer ({a['error']})")
            continue
        for address in a["answer"]:
            dc = gslb["virtuals"].get(address)
            if dc is None:
                out.append(f"GTM {where}: {address} is no virtual server of a data center")
            elif dc not in available:
                out.append(f"GTM {where}: {address} in {dc}, which is not available")
        if not a["answer"] and available:
            out.append(f"GTM {where}: nothing, though {', '.join(sorted(available))} is available")
    return out
