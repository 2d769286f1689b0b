"""What a scenario run needs from a real lab (see runner.py): daemon status, fault verbs (the
fault registry), commands in nodes, MAC addresses and neighbour entries, and the repairs at the
end."""
from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

from node.status import NodeStatus

from .. import faults
from ..lifecycle.down import down
from ..lifecycle.up import up
from ..observe.events import timeline
from ..runtime.control import ControlError
from ..runtime.lab import Lab
from .runner import ScenarioError, load, run


class LabEnv:
    def __init__(self, lab: str):
        self.lab = Lab.open(lab)
        self.bigips = self.lab.bigips
        self._cache: dict[str, NodeStatus] = {}

    def refresh(self) -> None:
        self._cache.clear()

    def status(self, node: str) -> NodeStatus:
        if node not in self._cache:
            self.lab.node(node)
            self._cache[node] = self.lab.status(node)
        return self._cache[node]

    def active_devices(self, tg: str) -> list[str]:
        active = []
        for n in self.bigips:
            try:
                if self.status(n).failover.traffic_groups.get(tg) == "active":
                    active.append(n)
            except (ControlError, ConnectionError):  # a killed or paused device is not active
                continue
        return active

    def roles(self, tg: str) -> dict:
        self.refresh()
        active = self.active_devices(tg)
        if len(active) != 1:
            raise RuntimeError(f"roles: {tg} is active on {', '.join(active) or 'no device'}, not exactly one")
        others = [n for n in self.bigips if n != active[0]]
        return {"active": active[0], **({"standby": others[0]} if others else {})}

    def chaos(self, line: str) -> str:
        words = shlex.split(line)
        self.refresh()
        return faults.run(self.lab, words[0], words[1:])

    def run(self, node: str, argv: list[str]) -> str:
        proc = self.lab.run(node, [str(a) for a in argv], capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            raise RuntimeError(f"exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-300:]}")
        return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""

    def tmsh(self, node: str, line: str) -> str:
        return self.lab.tmsh(node, line)

    def _ip_json(self, node: str, argv: list[str]) -> list:
        proc = self.lab.run(node, ["ip", "-j", *argv], capture_output=True, text=True, timeout=10)
        return json.loads(proc.stdout or "[]") if proc.returncode == 0 else []

    def mac_of(self, node: str, vlan: str) -> str | None:
        links = self._ip_json(node, ["link", "show", "dev", vlan])
        return links[0].get("address") if links else None

    def neighbour(self, node: str, address: str) -> str | None:
        for n in self._ip_json(node, ["neigh", "show", "to", address]):
            if n.get("dst") == address:
                return n.get("lladdr")
        return None

    def dns(self, node: str, server: str, name: str, qtype: str = "A") -> list[str]:
        """What a client node gets from a DNS server (dig, one try of 1 s): the answer records."""
        proc = self.lab.run(node, ["dig", f"@{server}", name, qtype, "+short", "+time=1", "+tries=1"],
                            capture_output=True, text=True, timeout=10)
        if proc.returncode != 0:
            raise RuntimeError(f"dig @{server} {name}: {(proc.stdout + proc.stderr).strip()[-200:]}")
        return [line.strip() for line in proc.stdout.splitlines() if line.strip() and not line.startswith(";")]

    def takeovers(self, tg: str, seconds: float) -> list[str]:
        """The devices that went active for `tg` in the last `seconds` (sod's 010c0053 lines), oldest first."""
        since = time.time() - seconds
        return [e["device"] for e in timeline(self.lab.name, since=since)
                if e.get("event") == "failover" and e.get("tg") == tg and e.get("state") == "active"]

    def cleanup(self) -> list[str]:
        self.refresh()
        return faults.reset(self.lab)


def run_file(path, lab: str | None = None, name: str | None = None, mgmt_subnet: str | None = None,
             say=print, after=None) -> dict:
    """Run a scenario in lab `lab`, or bring up the scenario's topology for it and remove it after.
    `after(lab, report)`, if given, is called when the run is over and before the lab goes (the
    scenario report reads the lab's timeline there)."""
    scenario = load(path)
    if lab is not None:
        report = run(scenario, LabEnv(lab), say).to_dict()
        if after:
            after(lab, report)
        return report
    if not scenario.topology:
        raise ScenarioError(f"{path}: no `topology:` to bring up; run it in a lab with --lab LAB")
    topo = (Path(path).parent / scenario.topology).resolve()
    plan = up(topo, name=name or scenario.lab_name, mgmt_subnet=mgmt_subnet, progress=say)
    try:
        report = run(scenario, LabEnv(plan.lab), say).to_dict()
        if after:
            after(plan.lab, report)
        return report
    finally:
        down(plan.lab)
