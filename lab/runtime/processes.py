"""Processes of a node, by host pid, whatever the backend: which are in a network namespace,
whether one is alive, signals and graceful stops."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from ..model.plan import NodePlan


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


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (reaped here if it is our child)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def memory(pid: int) -> dict | None:
    """A process's memory in MB from /proc/PID/smaps_rollup: resident (rss), proportional (pss:
    each shared page divided among its sharers) and unique (uss: pages no other process maps)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return rollup_mb(f.read())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def rollup_mb(text: str) -> dict:
    kb = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if rest.strip().endswith("kB"):
            kb[key] = int(rest.split()[0])
    uss = kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)
    return {k: round(v / 1024, 1) for k, v in (("rss", kb.get("Rss", 0)), ("pss", kb.get("Pss", 0)), ("uss", uss))}


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
            pids = [p for p in pids if alive(p)]
            if not pids:
                return
            time.sleep(0.01)


class ProcessControl:
    """Signals to one process of a node, by its host pid; shared by both backends (chaos uses it).
    A subclass says which pids are the node's (`pids`)."""

    def pids(self, node: NodePlan) -> list[int]:
        raise NotImplementedError

    def signal(self, node: NodePlan, pid: int, sig: int) -> bool:
        """Signal one of the node's processes; False if it is gone (or not the node's)."""
        if pid not in self.pids(node) or not alive(pid):
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
