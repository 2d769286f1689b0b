"""Faults of a node's daemon (or web server) process: kill, stop, pause and their repairs, and a
daemon restarted speaking another iQuery protocol version. Process control goes through the
backend, so a container backend gets the same verbs."""
from __future__ import annotations

import signal
import time

from ..lifecycle.readiness import wait_restarted
from ..model.faultspec import ChaosError
from ..runtime.lab import Lab
from .base import Fault, bigip, register


def pid_of(lab: Lab, node) -> int | None:
    if node.kind == "host":
        raise ChaosError(f"{node.name} is a host node: it runs no daemon")
    return lab.pid(node.name, "daemon.pid" if node.runs_daemon else "web.pid")


def start(lab: Lab, node, version: str | None = None) -> int:
    """Start the node's daemon (speaking iQuery `version`, if given) or web server; wait until a
    daemon answers."""
    if not node.runs_daemon:
        return lab.start_server(node.name)
    iq = tuple(int(x) for x in version.split(".")) if version else ()
    pid = lab.start_daemon(node.name, iquery_version=iq)
    wait_restarted(lab, node.name)
    return pid


def _set_process(lab: Lab, node: str, value: str | None) -> None:
    faults = lab.faults()
    procs = faults.setdefault("processes", {})
    if value:
        procs[node] = value
    else:
        procs.pop(node, None)
    lab.save_faults(faults)


def _wait_gone(lab: Lab, node, pid: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while pid in lab.backend.pids(node) and time.monotonic() < deadline:
        time.sleep(0.01)


@register
class Process(Fault):
    """kill (-9), stop (TERM, wait), start (also after kill), pause (STOP), resume (CONT)."""
    verbs = ("kill", "stop", "start", "pause", "resume")
    usage = (("kill|stop|start|pause|resume NODE", ""),)

    def arguments(self, p, verb):
        p.add_argument("node")

    def inject(self, lab, verb, args):
        n = lab.node(args.node)
        pid = pid_of(lab, n)
        current = lab.faults().get("processes", {}).get(n.name)
        what = "daemon" if n.runs_daemon else "web server"
        if verb == "start":
            return self._start(lab, n, pid, current, what)
        if verb == "resume":
            if current != "paused":
                raise ChaosError(f"{n.name} is not paused")
            lab.backend.signal(n, pid, signal.SIGCONT)
            _set_process(lab, n.name, None)
            lab.note("repair", f"resume {n.name} (SIGCONT to pid {pid})", node=n.name)
            return f"{n.name}: resumed"
        if not self._alive(lab, n, pid):
            raise ChaosError(f"{n.name}'s {what} is not running" + (f" ({current})" if current else ""))
        if verb == "kill":
            lab.backend.signal(n, pid, signal.SIGKILL)
            _wait_gone(lab, n, pid)
            _set_process(lab, n.name, "killed")
            lab.note("fault", f"kill {n.name} (kill -9 of {what} pid {pid})", node=n.name)
            return f"{n.name}: {what} killed (pid {pid})"
        if verb == "stop":
            lab.backend.stop_process(n, pid)
            _set_process(lab, n.name, "stopped")
            lab.note("fault", f"stop {n.name} (SIGTERM to {what} pid {pid})", node=n.name)
            return f"{n.name}: {what} stopped"
        if current == "paused":   # pause
            raise ChaosError(f"{n.name} is already paused")
        lab.backend.signal(n, pid, signal.SIGSTOP)
        _set_process(lab, n.name, "paused")
        lab.note("fault", f"pause {n.name} (SIGSTOP to {what} pid {pid})", node=n.name)
        return f"{n.name}: paused (pid {pid})"

    @staticmethod
    def _alive(lab: Lab, node, pid: int | None) -> bool:
        return pid is not None and pid in lab.backend.pids(node) and lab.backend.signal(node, pid, 0)

    def _start(self, lab: Lab, n, pid: int | None, current: str | None, what: str) -> str:
        if current == "paused":
            raise ChaosError(f"{n.name} is paused: resume it")
        if self._alive(lab, n, pid):
            raise ChaosError(f"{n.name}'s {what} is already running (pid {pid})")
        pid = start(lab, n, lab.faults().get("versions", {}).get(n.name))
        _set_process(lab, n.name, None)
        lab.note("repair", f"start {n.name} ({what} pid {pid})", node=n.name)
        return f"{n.name}: {what} started (pid {pid})"

    def describe(self, lab, faults):
        return [f"{state} {n}" for n, state in sorted(faults.get("processes", {}).items())]

    def repair(self, lab, faults):
        done = []
        for n, st in list(faults.get("processes", {}).items()):
            verb = "resume" if st == "paused" else "start"
            self.inject(lab, verb, self.parse(verb, [n]))
            done.append(f"{verb} {n}")
        return done


@register
class Version(Fault):
    """Restart a bigip's daemon speaking another iQuery protocol version (`reset`: this build's)."""
    verbs = ("version",)
    usage = (("version NODE MAJOR.MINOR|reset", "restart the daemon speaking another iQuery version"),)

    def arguments(self, p, verb):
        p.add_argument("node")
        p.add_argument("version", metavar="MAJOR.MINOR|reset")

    def inject(self, lab, verb, args):
        return self.set(lab, args.node, args.version)

    def set(self, lab: Lab, node: str, value: str) -> str:
        n = bigip(lab, node, "only bigip nodes speak iQuery")
        if value != "reset":
            parts = value.split(".")
            if len(parts) != 2 or not all(p.isdigit() for p in parts):
                raise ChaosError(f"{value!r}: give a protocol version as MAJOR.MINOR (e.g. 2.0), or reset")
        faults = lab.faults()
        if faults.get("processes", {}).get(n.name) == "paused":
            raise ChaosError(f"{n.name} is paused: resume it first")
        pid = pid_of(lab, n)
        if pid is not None:
            lab.backend.stop_process(n, pid)
        versions = faults.setdefault("versions", {})
        if value == "reset":
            versions.pop(n.name, None)
        else:
            versions[n.name] = value
        faults.get("processes", {}).pop(n.name, None)
        lab.save_faults(faults)
        pid = start(lab, n, None if value == "reset" else value)
        lab.note("repair" if value == "reset" else "fault",
                 f"version {n.name} {value} (daemon restarted, pid {pid})", node=n.name)
        return f"{n.name}: daemon restarted speaking iQuery " + ("this build's version" if value == "reset" else value)

    def describe(self, lab, faults):
        return [f"version {n} {v}" for n, v in sorted(faults.get("versions", {}).items())]

    def repair(self, lab, faults):
        done = []
        for n in list(faults.get("versions", {})):
            self.set(lab, n, "reset")
            done.append(f"version {n} reset")
        return done
