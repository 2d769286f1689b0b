"""Waiting until a lab is what `up` promises: daemons answering, trust formed, HA settled, GTMs
hearing their LTMs. Each check returns what is still pending, so a timeout says why."""
from __future__ import annotations

import time

from node.status import LtmStatus

from ..model import configlines
from ..model.errors import LabError
from ..runtime.control import ControlError
from ..runtime.lab import Lab

PARTS = ("iquery", "sync", "ltm", "gtm")   # the status parts these checks read



def wait(ready, deadline: float, why) -> None:
    """Poll `ready()` until it holds; LabError with `why()` after `deadline` (monotonic)."""
    while not ready():
        if time.monotonic() > deadline:
            raise LabError(f"timed out: {why()}")
        time.sleep(0.02)


def daemon_output(lab: Lab, node: str, chars: int) -> str:
    return (lab.node_dir(node) / "daemon.out").read_text(errors="replace").strip()[-chars:]


def wait_daemons(lab: Lab, daemons: list[str], deadline: float, count=None) -> None:
    """Every daemon answers its control socket; one that exits fails at once with its output.
    `count(text)` hears how many answer so far (a large lab's progress)."""
    answered: set[str] = set()

    def ready() -> bool:
        for n in daemons:
            if not lab.daemon_alive(n):
                raise LabError(f"the {n} daemon exited at start-up:\n{daemon_output(lab, n, 2000)}\n"
                               f"(the lab is left for inspection; remove it with: biglab down {lab.name})")
        answered.update(n for n in daemons if n not in answered and lab.answers(n))
        if count:
            count(f"{len(answered)}/{len(daemons)} daemons answering")
        return len(answered) == len(daemons)

    wait(ready, deadline, lambda: "daemons not ready: " + ", ".join(n for n in daemons if not lab.answers(n)))


def wait_restarted(lab: Lab, node: str, timeout: float = 15.0) -> None:
    """A daemon restarted by a fault verb answers again (or its output says why not)."""
    deadline = time.monotonic() + timeout
    while not lab.answers(node):
        if not lab.daemon_alive(node) or time.monotonic() > deadline:
            raise LabError(f"{node}'s daemon did not come up:\n{daemon_output(lab, node, 1500)}")
        time.sleep(0.02)


def channels_pending(lab: Lab, bigips: list[str]) -> list[str]:
    """4353 channels not yet connected between every pair of bigips."""
    missing = []
    for node in bigips:
        try:
            peers = lab.part(node, "iquery", timeout=1.0).peers
        except ControlError:
            missing.append(f"{node} (no answer)")
            continue
        for other in sorted(set(bigips) - {node}):
            link = peers.get(other)
            if not link or link.state != "connected":
                reason = f": {link.reason}" if link and link.reason else ""
                missing.append(f"{node}->{other}{reason}")
    return missing


def members_known(lab: Lab, node: str, bigips: list[str]) -> bool:
    members = lab.part(node, "iquery", timeout=10.0).trust.member_names()
    return set(bigips) <= members


def monitors_checking(name: str, ltm: LtmStatus) -> list[str]:
    return [f"{name}: {p}/{m} being checked" for p, info in ltm.pools.items()
            for m, mi in info.members.items() if mi.monitor == "checking"]


def ha_pending(lab: Lab, traffic_groups) -> list[str]:
    """Devices not In Sync, traffic groups not active on exactly one device; then virtual servers
    not serving on exactly one device, monitors not yet decided."""
    problems, active = [], {}
    statuses = {n: lab.status(n) for n in lab.bigips}   # one call a device for both phases
    for n, st in statuses.items():
        if st.sync.status != "In Sync":
            problems.append(f"{n}: {st.sync.status}")
        for tg, tg_state in st.failover.traffic_groups.items():
            if tg_state == "active":
                active.setdefault(tg, []).append(n)
    for tg in traffic_groups:
        if len(active.get(tg, [])) != 1:
            problems.append(f"{tg} active on {active.get(tg, [])}")
    if problems:
        return problems
    serving = {}
    for n, st in statuses.items():
        ltm = st.ltm
        for vs, v in ltm.virtuals.items():
            if not v.internal:   # an internal virtual listens nowhere
                serving[vs] = serving.get(vs, 0) + v.serving
        problems += monitors_checking(n, ltm)
    return problems + [f"virtual {vs} serving on {k} devices" for vs, k in serving.items() if k != 1]


def gtm_pending(lab: Lab, gtms: list[str], bigips: list[str]) -> list[str]:
    """What keeps the GTMs from answering with live health: monitors that have not decided yet,
    servers without current iQuery data, members whose state is not yet what their LTM says."""
    problems, virtuals = [], {}
    for n in bigips:
        st = lab.part(n, "ltm")
        virtuals[n] = st.virtuals
        problems += monitors_checking(n, st)
    for n in gtms:
        gtm = lab.part(n, "gtm")
        servers = gtm.servers
        problems += [f"{n}: server {p} {s.state}" for p, s in servers.items() if s.state != "connected"]
        for key, m in gtm.members.items():
            server, _, vs = ("/" + key.split("//", 1)[1]).rpartition(":")   # "POOL//Common/SERVER:VS"
            device = servers[server].device if server in servers else None
            said = virtuals.get(device, {}).get(vs) or virtuals.get(device, {}).get(f"/Common/{vs}")   # LTM keys full paths
            said = said.availability if said else None
            if said is not None and (m.state != said or "reports no virtual server" in m.reason):
                problems.append(f"{n}: member {key} {m.state}, its LTM says {said}")
    return problems


def sync_groups_pending(lab: Lab, groups: dict[str, str]) -> list[str]:
    """The GTM sync groups' members (node -> group) that do not hear each other yet."""
    return configlines.groups_pending(groups, {n: set(lab.part(n, "gtm").sync.peers) for n in groups})


def device_groups_pending(lab: Lab, made: dict[str, list[str]]) -> list[str]:
    """The members of new device groups (name -> devices) that do not list them yet."""
    members = sorted({d for devices in made.values() for d in devices})
    return configlines.groups_unknown(made, {d: set(lab.part(d, "sync").groups) for d in members})
