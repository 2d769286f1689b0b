"""`Lab`: one handle on a lab that is up. It owns the plan, the backend, the fault record and the
control calls to the node daemons; lifecycle, faults, observe and scenario work through it.

    lab = Lab.open("ha")
    lab.status("bigip1").failover.state
    lab.run("client", ["ping", "-c1", "10.1.10.100"], capture_output=True)
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path


from node.status import NodeStatus

from ..model import state
from ..model.errors import LabError
from ..model.plan import NodePlan, Plan, node_config
from .backends import Backend, get_backend
from . import forkserver, wiring
from .control import ControlError, call, status_part
from .processes import alive

TOOLS = {"tmsh": "node.tmsh_cli", "iqdump": "node.iqdump_cli"}   # our clients for a BIG-IP's daemon


def require_root() -> None:
    if os.geteuid() != 0:
        raise LabError("biglab needs root (network namespaces, bridges and veth pairs)")


class Lab:
    def __init__(self, plan: Plan, backend: Backend | None = None):
        self.plan = plan
        self.name = plan.lab
        self.backend = backend or get_backend(plan.backend)

    @classmethod
    def open(cls, name: str) -> Lab:
        """The lab `name` as it is up; LabError naming the labs that are, if it is not."""
        plan = state.load_plan(name)
        if plan is None:
            known = ", ".join(state.labs()) or "none"
            raise LabError(f"no lab named {name!r} is up (labs up: {known})")
        return cls(plan)

    # -- the plan ----------------------------------------------------------------------------
    def node(self, name: str) -> NodePlan:
        try:
            return self.plan.node(name)
        except KeyError:
            raise LabError(f"lab {self.name} has no node {name!r} (nodes: "
                           f"{', '.join(x.name for x in self.plan.nodes)})") from None

    def interface(self, node: str, vlan: str):
        """(node, interface) of NODE on VLAN."""
        n = self.node(node)
        try:
            return n, n.interface(vlan)
        except KeyError:
            raise LabError(f"node {node} has no interface on VLAN {vlan!r} (its VLANs: "
                           f"{', '.join(i.vlan for i in n.interfaces)})") from None

    @property
    def bigips(self) -> list[str]:
        return [n.name for n in self.plan.nodes if n.runs_daemon]

    @property
    def dir(self) -> Path:
        return state.lab_dir(self.name)

    def node_dir(self, node: str) -> Path:
        return state.node_dir(self.name, node)

    # -- the fault record --------------------------------------------------------------------
    def faults(self) -> dict:
        return state.load_faults(self.name)

    def save_faults(self, faults: dict) -> None:
        state.save_faults(self.name, faults)

    def note(self, kind: str, text: str, **fields) -> None:
        state.note(self.name, kind, text, **fields)

    # -- control calls -----------------------------------------------------------------------
    def call(self, node: str, cmd: str, timeout: float = 10.0, **args):
        return call(self.name, node, cmd, timeout=timeout, **args)

    def status(self, node: str, timeout: float = 2.0) -> NodeStatus:
        """The node daemon's status, typed as the daemon declares it (node/status.py)."""
        return NodeStatus.from_dict(self.call(node, "status", timeout=timeout))

    def part(self, node: str, part: str, timeout: float = 2.0):
        """One part of the node daemon's status ("iquery", "ltm"...), typed: a poller that needs
        one part costs the daemon less than half of a whole status."""
        return status_part(self.name, node, part, timeout=timeout)

    def tmsh(self, node: str, line: str, timeout: float = 10.0) -> str:
        return self.call(node, "tmsh", timeout=timeout, line=line)

    def answers(self, node: str) -> bool:
        """The node's daemon answers on its control socket."""
        try:
            self.call(node, "status", timeout=1.0)
            return True
        except (ControlError, OSError, ValueError):
            return False

    def daemon_alive(self, node: str) -> bool:
        """The node's daemon process exists (it may not answer yet)."""
        pid = self.pid(node, "daemon.pid")
        return pid is not None and alive(pid)

    def pid(self, node: str, pidfile: str) -> int | None:
        try:
            return int((self.node_dir(node) / pidfile).read_text())
        except (FileNotFoundError, ValueError):
            return None

    def set_link(self, node: str, vlan: str, up: bool) -> None:
        """Take a node's VLAN interface (its bridge end) down or up: a cable pulled or plugged."""
        require_root()
        _, iface = self.interface(node, vlan)
        wiring.set_link(self.plan.fabric, iface, up)

    # -- processes in nodes ------------------------------------------------------------------
    def start_daemon(self, name: str, iquery_version: tuple = ()) -> int:
        node = self.node(name)
        d = self.node_dir(name)
        d.mkdir(parents=True, exist_ok=True)
        config = node_config(self.plan, node, d, iquery_version)
        (d / "node.json").write_text(json.dumps(config.to_dict(), indent=1))
        if self.plan.forkserver:   # forked from the host's warm interpreter (started again if it died)
            pid = forkserver.spawn(self.backend.netns_ref(node), ["node.daemon", d / "node.json"], d / "daemon.out")
        else:
            pid = self.backend.start(node, [sys.executable, "-m", "node.daemon", str(d / "node.json")],
                                     str(d / "daemon.out"))
        (d / "daemon.pid").write_text(str(pid))
        return pid

    def start_server(self, name: str, port: int = 80) -> int:
        """A `server` node's HTTP server: it answers with its own name and the path."""
        node = self.node(name)
        d = self.node_dir(name)
        d.mkdir(parents=True, exist_ok=True)
        if self.plan.forkserver:   # forked as the daemons are: one interpreter's pages shared by more
            pid = forkserver.spawn(self.backend.netns_ref(node), ["node.webserver", name, port], d / "web.out")
        else:
            pid = self.backend.start(node, [sys.executable, "-m", "node.webserver", name, str(port)],
                                     str(d / "web.out"))
        (d / "web.pid").write_text(str(pid))
        return pid

    def command(self, node: NodePlan, argv: list[str]) -> tuple[list[str], dict]:
        """What runs for argv in a node, and the environment it adds: `tmsh` (and `iqdump`) inside
        a BIG-IP node is our client for its daemon, which it finds by BIGLAB_CTL."""
        if argv[0] not in TOOLS:
            return argv, {}
        if not node.runs_daemon:
            raise LabError(f"{node.name} is a {node.kind} node: {argv[0]} runs on bigip nodes")
        return ([sys.executable, "-m", TOOLS[argv[0]], *argv[1:]],
                {"BIGLAB_CTL": str(self.node_dir(node.name) / "ctl.sock")})

    def run(self, node: str, argv: list[str], **kwargs):
        """Run a command in a node and wait for it (subprocess.run's contract)."""
        n = self.node(node)
        argv, env = self.command(n, argv)
        if env:
            kwargs["env"] = {**(kwargs.get("env") or os.environ), **env}
        return self.backend.run(n, argv, **kwargs)

    def exec(self, node: str, argv: list[str], user: str | None = None):
        """Replace this process by argv in the node (`biglab exec`); tmsh as `user` if given."""
        require_root()
        n = self.node(node)
        if not argv:
            raise LabError("nothing to run: biglab exec LAB NODE -- CMD [ARGS...]")
        argv, env = self.command(n, argv)
        if user:
            env = {**env, "BIGLAB_USER": user}
        return self.backend.exec(n, argv, env={**os.environ, **env})
