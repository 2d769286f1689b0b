"""Network-namespace backend: a node is a named netns (`ip netns` can see it) and its processes.

Processes enter the namespace with setns(2) between fork and exec; no `ip netns exec`. Only the
network namespace is entered: /sys still shows the host's view, which none of our tools read.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Sequence

from node.netlink import netns

from ...model.plan import NodePlan
from .. import namespaces
from ..namespaces import NETNS_DIR, enter as enter_netns
from ..processes import ProcessControl, processes_in, stop_processes
from ..threads import each


class NetnsBackend(ProcessControl):
    name = "netns"

    def preflight(self, nodes) -> None:
        """Nothing to check: `up` already refused leftover namespaces."""

    def _path(self, node: NodePlan) -> Path:
        return NETNS_DIR / node.netns

    def create(self, node: NodePlan) -> None:
        namespaces.share_rundir()
        namespaces.create(node.netns)

    def create_all(self, nodes) -> None:
        namespaces.share_rundir()
        each(lambda node: namespaces.create(node.netns), nodes)

    def exists(self, node: NodePlan) -> bool:
        return self._path(node).exists()

    def node_state(self, node: NodePlan) -> str:
        return "running" if self.exists(node) else "missing"

    def netns_ref(self, node: NodePlan) -> str:
        return node.netns

    def _preexec(self, node: NodePlan):
        path = str(self._path(node))
        return lambda: enter_netns(path)

    def start(self, node: NodePlan, argv: Sequence[str], log_path: str) -> int:
        """Start a long-lived process in the node, in its state directory (the caller's working
        directory must not matter: `python -m` puts it first on sys.path, where bench/dns.py would
        shadow dnspython). It is started from the calling thread inside the namespace (a child
        inherits its creator's), so no Python runs between fork and exec: several threads may
        start processes at once, and each start is a vfork, not a copy of this process's pages."""
        with open(log_path, "ab") as out, namespaces.inside(self._path(node)):
            proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                    start_new_session=True, close_fds=True,
                                    cwd=os.path.dirname(os.path.abspath(log_path)))
        proc.returncode = 0  # detached on purpose: no ResourceWarning, the lab tracks its pid
        return proc.pid

    def exec(self, node: NodePlan, argv: Sequence[str], env: dict | None = None):
        enter_netns(self._path(node))
        os.execvpe(argv[0], list(argv), os.environ if env is None else env)

    def run(self, node: NodePlan, argv: Sequence[str], **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(list(argv), preexec_fn=self._preexec(node), **kwargs)

    def pids(self, node: NodePlan) -> list[int]:
        return processes_in(self._path(node))

    def remove(self, node: NodePlan) -> None:
        """End every process in the namespace (TERM, then KILL), then delete it."""
        stop_processes(self.pids(node))
        leftover = self.pids(node)
        if leftover:
            raise RuntimeError(f"processes {leftover} survive in {node.netns}")
        if self.exists(node):
            netns.remove(node.netns)

    def sweep(self, lab_prefix: str) -> list[str]:
        """Namespaces named with the prefix that no lab.json knows of (after a crash): their
        processes ended, the namespaces deleted."""
        removed = []
        for name in netns.listnetns():
            if name.startswith(lab_prefix):
                stop_processes(processes_in(NETNS_DIR / name))
                netns.remove(name)
                removed.append(name)
        return removed

