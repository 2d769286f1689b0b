"""`biglab soak LAB --minutes M --seed S`: random faults from the fault registry, config writes
to random devices (through iControl REST or tmsh) while they are active, and after
each heal and settle the invariants of invariants.py (one active device per traffic group, the
clients' ARP entries for its floating addresses at that device's MAC, every acknowledged write
everywhere or a conflict reported, no daemon dead that was not killed, and in a lab with GTMs
every answer of their listeners from an available data center: gslb.py). With GTMs the faults
include the loss of a whole data center. Every fault, write and observation goes to
a history file (JSON lines in the lab's directory) and the run ends with a verdict; a failure
prints the seed and the events that show it, so `--seed` replays the same draws."""
from __future__ import annotations

import json
import random
import time
from pathlib import Path

from ..model import state
from ..observe.history import rest_post
from ..runtime.control import ControlError
from . import gslb
from .env import LabEnv
from .invariants import draw, violations

SETTLE = 30.0    # seconds a healed lab gets to reach one active per traffic group and In Sync


class Soak:
    def __init__(self, lab: str, seed: int, hold: float = 4.0, say=print, progress=lambda text: None):
        self.env, self.seed, self.hold, self.say, self.progress = LabEnv(lab), seed, hold, say, progress
        self.rng = random.Random(seed)
        self.history = Path(state.lab_dir(lab)) / f"soak-{seed}.jsonl"
        self.writes: dict[str, str] = {}      # acknowledged pool name -> the device it went to
        self.killed: set[str] = set()
        self.tried = 0
        self.pids = {n: self.env.lab.pid(n, "daemon.pid") for n in self.env.bigips}
        plan = self.env.lab.plan
        self.vlans = list((plan.ha or {}).get("failover_vlans") or []) or ([plan.mgmt_vlan] if not plan.ha else ["ha"])
        self.tgs = sorted(((plan.ha or {}).get("traffic_groups") or {}).keys())
        self.group = ((plan.ha or {}).get("device_group") or {}).get("name")   # every bigip is in it
        self.gtms = tuple(gslb.gtm_nodes(self.env.lab))
        self.gslb = None

    def record(self, kind: str, **fields) -> None:
        with self.history.open("a") as f:
            f.write(json.dumps({"ts": time.time(), "kind": kind, **fields}) + "\n")

    def run(self, minutes: float) -> dict:
        self.history.write_text("")
        self.record("start", seed=self.seed, minutes=minutes)
        if self.gtms:
            self.gslb = gslb.layout(self.env.lab)
            self.record("gslb", datacenters=self.gslb.datacenters, wideips=self.gslb.wideips,
                        clients=self.gslb.clients)
        self._meet()
        end, cycles, failed, settle_times = time.monotonic() + minutes * 60, 0, [], []
        while time.monotonic() < end:
            cycles += 1
            plan = draw(self.rng, self.env.bigips, self.vlans, self.hold,
                        self.gslb.datacenters if self.gslb else None, self.gtms)
            self.progress(f"cycle {cycles}: {plan.inject}; {max(0.0, end - time.monotonic()):.0f} s left, "
                          f"{len(failed)} failed")
            self._inject(plan)
            self._write()
            time.sleep(self.hold)
            healed_at = time.monotonic()
            self._repair(plan)
            obs, settled = self._settle()
            settle_times.append(time.monotonic() - healed_at)
            bad = violations(obs)
            self.record("observation", cycle=cycles, fault=plan.inject, settled=settled, violations=bad, obs=obs)
            if obs["conflicts"]:
                self._resolve(obs)
            if bad:
                failed.append({"cycle": cycles, "fault": plan.inject, "violations": bad})
                self.say(f"cycle {cycles} ({plan.inject}): " + "; ".join(bad))
        settle_times.sort()
        verdict = {"seed": self.seed, "cycles": cycles, "violations": sum(len(f["violations"]) for f in failed),
                   "failed_cycles": failed, "median_settle_s": round(settle_times[len(settle_times) // 2], 2)
                   if settle_times else None, "history": str(self.history), "ok": not failed}
        self.record("verdict", **verdict)
        return verdict

    def _inject(self, plan) -> None:
        self.env.refresh()
        try:
            if plan.inject.startswith("tmsh "):
                _, node, line = plan.inject.split(" ", 2)
                self.env.tmsh(node, line)
            else:
                for line in plan.inject.split("; "):    # a data center's loss: each of its devices
                    self.env.chaos(line)
            self.killed.update(plan.kills)
            self.record("fault", line=plan.inject)
        except Exception as exc:   # a refused fault (nothing to stand by for...) is history, not a failure
            self.record("fault-refused", line=plan.inject, reason=str(exc))

    def _repair(self, plan) -> None:
        for line in dict.fromkeys([*plan.repair.split("; "), "reset"]):
            if line in ("none", ""):
                continue
            try:
                self.env.chaos(line)
            except Exception as exc:
                self.record("repair-refused", line=line, reason=str(exc))
        self.record("repair", line=plan.repair)

    def _write(self) -> None:
        device = self.rng.choice(self.env.bigips)
        via = self.rng.choice(("tmsh", "rest"))
        self.tried += 1      # a name per try: a write with no answer may have been applied
        name = f"soak_{self.seed}_{self.tried}"
        if via == "rest":
            outcome, reason = rest_post(self.env.lab.plan, device, "/mgmt/tm/ltm/pool", {"name": name})
        else:
            try:
                self.env.tmsh(device, f"create ltm pool {name}")
                outcome, reason = "ok", ""
            except Exception as exc:
                outcome, reason = "failed", str(exc)
        if outcome != "ok":     # refused, or no answer: not acknowledged, so not owed
            self.record("write-refused", device=device, name=name, via=via, outcome=outcome, reason=reason)
            return
        self.writes[name] = device
        self.record("write", device=device, name=name, via=via)

    def _resolve(self, obs: dict) -> None:
        """A reported conflict waits for the user: sync the device holding most writes to the group
        (as one would) so later cycles start in sync; the other side's writes were reported, not lost."""
        group = self.group
        if group is None:
            return
        keep = max(self.env.bigips, key=lambda n: sum(w.get(n, False) for w in obs["writes"].values()))
        try:
            self.env.tmsh(keep, f"run cm config-sync to-group {group}")
        except Exception as exc:
            self.record("resolve-refused", device=keep, reason=str(exc))
            return
        given_up = sorted(n for n, w in obs["writes"].items() if not w.get(keep))
        for name in given_up:
            self.writes.pop(name, None)
        self.record("resolve", device=keep, group=group, given_up=given_up)

    def _settle(self) -> tuple[dict, bool]:
        deadline = time.monotonic() + SETTLE
        while True:
            obs = self._observe()
            ok = not violations(obs) and obs["in_sync"]
            if ok or time.monotonic() > deadline:
                return obs, ok
            time.sleep(0.5)

    def _observe(self) -> dict:
        self.env.refresh()
        lab = self.env.lab
        alive = {n: self._alive(n) for n in self.env.bigips}
        active = {tg: self.env.active_devices(tg) for tg in self.tgs}
        writes, in_sync, conflicts = {}, True, []
        listed = {}
        for n in self.env.bigips:
            try:
                listed[n] = self.env.tmsh(n, "list ltm pool")
                st = self.env.status(n).sync
                in_sync = in_sync and st.status in ("In Sync", "Standalone")
                conflicts += [d for d in st.details if "conflict" in d.lower()]
            except (ControlError, ConnectionError, RuntimeError):
                listed[n], in_sync = "", False
        for name, device in self.writes.items():   # owed to the device group, or to a lone device
            writes[name] = {n: f"ltm pool {name} " in listed[n] or f"ltm pool /Common/{name} " in listed[n]
                            for n in (self.env.bigips if self.group else [device])}
        died = [n for n, ok in alive.items() if not ok and n not in self.killed]
        self.killed = {n for n in self.killed if not alive[n]}
        return {"active": active, "arp": self._arp(active), "writes": writes, "conflicts": conflicts if conflicts else [],
                "died": died, "in_sync": in_sync, "alive": alive, "lab": lab.name,
                "gslb": gslb.observe(self.env, self.gslb) if self.gslb else None}

    def _floating(self, tg: str) -> list[tuple[str, str, str]]:
        """(vlan, address, client) for each floating self IP of `tg` and each client on its VLAN."""
        floating = (((self.env.lab.plan.ha or {}).get("traffic_groups") or {}).get(tg) or {}).get("floating") or {}
        return [(vlan, str(address), client.name) for vlan, address in sorted(floating.items())
                for client in self.env.lab.plan.hosts_on(vlan)]

    def _meet(self) -> None:
        """Each client pings the floating addresses on its VLAN once, so it has an entry that the
        GARPs of later failovers must move."""
        for tg in self.tgs:
            for _vlan, address, client in self._floating(tg):
                try:
                    self.env.run(client, ["ping", "-c", "1", "-W", "1", address])
                except Exception as exc:
                    self.record("ping-failed", client=client, address=address, reason=str(exc))

    def _arp(self, active: dict) -> dict:
        """For each floating self IP of a traffic group with one active device: the MAC each client
        on its VLAN has for it (those with an entry) and the active device's MAC there."""
        out = {}
        for tg, devices in active.items():
            if len(devices) != 1:
                continue
            for vlan, address, client in self._floating(tg):
                seen = self.env.neighbour(client, address)
                if seen is not None:
                    out[f"{address} (from {client})"] = (seen, self.env.mac_of(devices[0], vlan))
        return out

    def _alive(self, node: str) -> bool:
        pid = self.env.lab.pid(node, "daemon.pid")
        return pid is not None and Path(f"/proc/{pid}").exists()
