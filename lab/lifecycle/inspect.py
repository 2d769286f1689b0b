"""Reading a lab: `biglab status` (nodes, links, daemons, trust) and where a node logs."""
from __future__ import annotations

from pathlib import Path

from node.status import IQueryStatus

from ..model.errors import LabError
from ..runtime import wiring
from ..runtime.backends import BackendError
from ..runtime.control import ControlError
from ..runtime.lab import Lab
from ..runtime.processes import memory
from ..runtime.threads import each


def status(name: str) -> dict:
    lab = Lab.open(name)
    plan = lab.plan
    nodes = dict(zip([n.name for n in plan.nodes], each(lambda node: node_status(lab, node), plan.nodes)))
    return {"name": plan.lab, "backend": plan.backend, "source": plan.source, "trust": plan.trust,
            "bridges": {b.vlan: {"bridge": b.name, "subnet": b.subnet, "host_address": b.host_address}
                        for b in plan.bridges},
            "nodes": nodes}


def node_status(lab: Lab, node) -> dict:
    """One node's entry (several are read side by side: each asks its own daemon)."""
    links = wiring.link_states(node.fabric, [i.host_end for i in node.interfaces])
    entry = {"kind": node.kind, "mgmt": node.mgmt_address, "modules": list(node.modules),
             "netns": _netns_ref(lab.backend, node),
             "interfaces": {i.vlan: {"address": i.address, "host_end": i.host_end, "link": links[i.host_end]}
                            for i in node.interfaces}}
    where = lab.backend.node_state(node)
    if where != "running":
        entry["state"] = where   # missing; a container exited (killed, stopped), paused...
    elif node.runs_daemon:
        try:
            daemon = lab.status(node.name)
            entry.update(state="ready", pid=daemon.pid, memory=memory(lab.pid(node.name, "daemon.pid") or 0),
                         clock=daemon.clock.to_dict(),
                         trust=trust_view(daemon.iquery),
                         failover=daemon.failover.state, sync=daemon.sync.status,
                         ntp=daemon.ntp.to_dict() if daemon.ntp else None)
        except ControlError as exc:
            entry.update(state="down", error=str(exc))
    else:
        entry["state"] = "ready"
    return entry


def _netns_ref(be, node) -> str | None:
    try:
        return be.netns_ref(node)
    except BackendError:  # a stopped container has no network namespace
        return None


def trust_view(iq: IQueryStatus) -> dict:
    t = iq.trust
    return {"domain_ca": t.domain_ca, "authority": t.authority,
            "members": [m.name for m in t.members],
            "peers": {name: {"state": link.state, "code": link.code, "reason": link.reason, "address": link.address}
                      for name, link in iq.peers.items()},
            "refused": [r.to_dict() for r in iq.refused[-5:]]}


def log_path(name: str, node: str) -> Path:
    lab = Lab.open(name)
    n = lab.node(node)
    if not n.runs_daemon:
        raise LabError(f"{node} is a {n.kind} node: it runs no daemon and keeps no log")
    return lab.node_dir(node) / "log.jsonl"
