"""The lab's NTP server: SNTP answers on UDP 123 of the host's management-VLAN address, from the
host clock (stratum 1, refid LOCL). Started by `biglab up` when the topology has `ntp:`, stopped
and started by `biglab chaos LAB ntp stop|start`, removed by `biglab down`.

    python -m lab.runtime.ntpd ADDRESS [PORT]

`start`, `stop` and `pid` are the server's lifecycle as the lab runs it (a detached process whose
pid is kept in the lab's run directory).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from node.ntp import NtpError, server_reply

from ..model import state
from ..model.plan import Plan
from . import forkserver
from .processes import stop_processes

MODULE = "lab.runtime.ntpd"


def _pidfile(lab: str):
    return state.lab_dir(lab) / "ntpd.pid"


def pid(lab: str) -> int | None:
    """The lab's NTP server's pid, if it runs."""
    try:
        found = int(_pidfile(lab).read_text())
        with open(f"/proc/{found}/cmdline", "rb") as f:
            argv = f.read()
            return found if MODULE.encode() in argv or forkserver.MODULE.encode() in argv else None
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None


def start(plan: Plan) -> int | None:
    """The lab's NTP server on the host's management address (if the topology asks for one)."""
    if not plan.ntp:
        return None
    address = plan.bridge(plan.mgmt_vlan).host_address.split("/")[0]
    if plan.forkserver:   # forked as the nodes' processes are, into this command's (the host's) namespace
        found = forkserver.spawn(f"/proc/{os.getpid()}/ns/net", [MODULE, address], state.lab_dir(plan.lab) / "ntpd.out")
        _pidfile(plan.lab).write_text(str(found))
        return found
    with open(state.lab_dir(plan.lab) / "ntpd.out", "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", MODULE, address], stdin=subprocess.DEVNULL,
                                stdout=out, stderr=out, start_new_session=True, close_fds=True,
                                cwd=str(state.PROJECT))
    proc.returncode = 0  # detached on purpose: the lab tracks its pid
    _pidfile(plan.lab).write_text(str(proc.pid))
    return proc.pid


def stop(lab: str) -> bool:
    found = pid(lab)
    if found is None:
        return False
    stop_processes([found])
    _pidfile(lab).unlink(missing_ok=True)
    return True


def serve(address: str, port: int = 123) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((address, port))
        print(f"ntpd: serving on {address}:{port}", flush=True)
        while True:
            data, peer = sock.recvfrom(512)
            now = time.time()
            try:
                sock.sendto(server_reply(data, now), peer)
            except NtpError as exc:
                print(f"ntpd: ignored a packet from {peer[0]}: {exc}", flush=True)
            except OSError:
                pass


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) not in (1, 2):
        print(f"usage: python -m {MODULE} ADDRESS [PORT]", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    serve(argv[0], int(argv[1]) if len(argv) == 2 else 123)
    return 0


if __name__ == "__main__":
    sys.exit(main())
