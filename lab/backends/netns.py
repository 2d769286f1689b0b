"""Network-namespace backend: a node is a named netns (`ip netns` can see it) and its processes.

Processes enter the namespace with setns(2) between fork and exec; no `ip netns exec`. Only the
network namespace is entered: /sys still shows the host's view, which none of our tools read.
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Sequence

from pyroute2 import netns

from ..plan import NodePlan

CLONE_NEWNET = 0x40000000
NETNS_DIR = Path("/run/netns")
_libc = ctypes.CDLL(None, use_errno=True)


def enter_netns(path: str | Path) -> None:
    """Move the calling process (thread) into the network namespace at `path`."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)


def processes_in(ns_path: str | Path) -> list[int]:
    """Every process whose network namespace is the one at `ns_path`."""
    try:
        target = os.stat(ns_path)
    except FileNotFoundError:
        return []
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            st = os.stat(f"/proc/{entry.name}/ns/net")
        except OSError:
            continue
        if (st.st_ino, st.st_dev) == (target.st_ino, target.st_dev):
            pids.append(int(entry.name))
    return pids


class ProcessControl:
    """Signals to one process of a node, by its host pid; shared by both backends (chaos uses it)."""

    def signal(self, node: NodePlan, pid: int, sig: int) -> bool:
        """Signal one of the node's processes; False if it is gone (or not the node's)."""
        if pid not in self.pids(node) or not _alive(pid):
            return False
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return False
        return True

    def stop_process(self, node: NodePlan, pid: int, grace: float = 2.0) -> None:
        """TERM (and CONT, should it be paused), then KILL after `grace` seconds."""
        if pid in self.pids(node):
            stop_processes([pid], grace)


class NetnsBackend(ProcessControl):
    name = "netns"

    def preflight(self, nodes) -> None:
        """Nothing to check: _check_host already refused leftover namespaces."""

    def _path(self, node: NodePlan) -> Path:
        return NETNS_DIR / node.netns

    def create(self, node: NodePlan) -> None:
        netns.create(node.netns)

    def create_all(self, nodes) -> None:
        for node in nodes:
            self.create(node)

    def exists(self, node: NodePlan) -> bool:
        return self._path(node).exists()

    def netns_ref(self, node: NodePlan) -> str:
        return node.netns

    def _preexec(self, node: NodePlan):
        path = str(self._path(node))
        return lambda: enter_netns(path)

    def start(self, node: NodePlan, argv: Sequence[str], log_path: str) -> int:
        """Start a long-lived process in the node, in its state directory (the caller's working
        directory must not matter: `python -m` puts it first on sys.path, where bench/dns.py would
        shadow dnspython)."""
        with open(log_path, "ab") as out:
            proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                    preexec_fn=self._preexec(node), start_new_session=True,
                                    close_fds=True, cwd=os.path.dirname(os.path.abspath(log_path)))
        proc.returncode = 0  # detached on purpose: no ResourceWarning, the lab tracks its pid
        return proc.pid

    def exec(self, node: NodePlan, argv: Sequence[str]):
        enter_netns(self._path(node))
        os.execvp(argv[0], list(argv))

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


def stop_processes(pids: list[int], grace: float = 2.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
                if sig == signal.SIGTERM:
                    os.kill(pid, signal.SIGCONT)  # a paused process must be able to exit
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + (grace if sig == signal.SIGTERM else 2.0)
        while time.monotonic() < deadline:
            pids = [p for p in pids if _alive(p)]
            if not pids:
                return
            time.sleep(0.01)


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
