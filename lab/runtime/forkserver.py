"""The netns backend's fork server: one warm interpreter per lab that every BIG-IP daemon is
forked from (Android's zygote, gunicorn's preload). It imports what a daemon needs once, scapy's
L2 layer included, freezes those objects out of the garbage collector, and then forks a child per
request; the children share the imported pages copy-on-write, so each daemon's own memory (USS)
is only what it writes.

    python -m lab.runtime.forkserver SOCKET

A request is one JSON line on the unix socket (in the lab's run directory, named with the lab's
prefix so `biglab down` finds it after a crash): the node's namespace, its node.json and its log.
The child enters the namespace (setns), has scapy read its interfaces and routes there, starts
its own session, works in its state directory with stdio on the log, and runs the daemon; the
answer is the child's pid, which the lab keeps in the node's daemon.pid as before. The server
stays single-threaded and starts no trio (a fork copies only the calling thread); it reaps its
children, so a killed daemon leaves no zombie.

`start`, `stop`, `spawn` and `sweep` are the server's lifecycle as the lab runs it.
"""
from __future__ import annotations

import gc
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import traceback
from pathlib import Path

from ..model import state
from ..model.plan import prefix
from .backends import BackendError
from .namespaces import enter as enter_netns, leave_for_empty
from .processes import alive, stop_processes

MODULE = "lab.runtime.forkserver"
PRELOAD = ("node.daemon", "scapy.layers.l2")   # what every daemon imports, scapy for GARP


class ForkServerError(BackendError):
    """The lab's fork server is not there or refused a request."""


def socket_path(lab: str) -> Path:
    return state.lab_dir(lab) / f"{prefix(lab)}forkserver.sock"


def _pidfile(lab: str) -> Path:
    return state.lab_dir(lab) / "forkserver.pid"


def _is_server(pid: int, sock: Path | str | None = None) -> bool:
    """`pid` is a fork server (serving `sock`, if given)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return MODULE.encode() in argv and (sock is None or str(sock).encode() in argv) and alive(pid)


def pid(lab: str) -> int | None:
    """The lab's fork server's pid, if it runs."""
    try:
        found = int(_pidfile(lab).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return found if _is_server(found, socket_path(lab)) else None


def launch(lab: str) -> int:
    """Start the lab's fork server, if it does not run, without waiting for its imports (`up`
    wires the lab meanwhile)."""
    running = pid(lab)
    if running is not None:
        return running
    sock = socket_path(lab)
    sock.unlink(missing_ok=True)
    with open(state.lab_dir(lab) / "forkserver.out", "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", MODULE, str(sock)], stdin=subprocess.DEVNULL,
                                stdout=out, stderr=out, start_new_session=True, close_fds=True,
                                cwd=str(state.PROJECT))
    proc.returncode = 0  # detached on purpose: the lab tracks its pid
    _pidfile(lab).write_text(str(proc.pid))
    return proc.pid


def start(lab: str, timeout: float = 20.0) -> int:
    """The lab's fork server, started if it does not run, once it accepts requests."""
    server, sock = launch(lab), socket_path(lab)
    deadline = time.monotonic() + timeout
    while not sock.exists():
        if not alive(server) or time.monotonic() > deadline:
            out = (state.lab_dir(lab) / "forkserver.out").read_text(errors="replace")[-1500:]
            raise ForkServerError(f"the fork server did not start:\n{out}")
        time.sleep(0.01)
    return server


def stop(lab: str) -> bool:
    """End the lab's fork server (its children, the daemons, are the backend's to end)."""
    found = pid(lab)
    if found is not None:
        stop_processes([found])
    _pidfile(lab).unlink(missing_ok=True)
    socket_path(lab).unlink(missing_ok=True)
    return found is not None


def servers(lab_prefix: str) -> dict[int, Path]:
    """Running fork servers whose socket is named with the prefix: pid -> socket."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry.name}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if len(argv) > 3 and argv[2] == MODULE.encode() and Path(argv[3].decode()).name.startswith(lab_prefix):
            found[int(entry.name)] = Path(argv[3].decode())
    return found


def sweep(lab_prefix: str) -> list[str]:
    """Fork servers of labs named with the prefix that no lab.json knows of (after a crash)."""
    found = servers(lab_prefix)
    stop_processes(list(found))
    for sock in found.values():
        sock.unlink(missing_ok=True)
    return [f"fork server {pid}" for pid in found]


def spawn(lab: str, netns: str, config: Path, log_path: Path, timeout: float = 10.0) -> int:
    """Fork a daemon for the node in namespace `netns` from the lab's fork server; its pid."""
    request = {"netns": netns, "config": str(config), "log": str(log_path)}
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(socket_path(lab)))
            s.sendall(json.dumps(request).encode() + b"\n")
            answer = json.loads(s.makefile("rb").readline() or b"{}")
    except (OSError, ValueError) as exc:
        raise ForkServerError(f"lab {lab}'s fork server: {exc}") from None
    if "pid" not in answer:
        raise ForkServerError(f"lab {lab}'s fork server: {answer.get('error', 'no answer')}")
    return answer["pid"]


# -- the server ---------------------------------------------------------------------------------
def child(request: dict, listener: socket.socket, conn: socket.socket) -> None:
    """In the forked child: become the node's daemon, as the backend's `start` would make it."""
    code = 1
    try:
        listener.close()
        conn.close()
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        os.setsid()
        enter_netns(request["netns"])
        from scapy.config import conf   # preloaded: it read the server's interfaces and routes
        conf.ifaces.reload()
        conf.route.resync()
        log = Path(request["log"])
        os.chdir(log.parent)
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.close(null)
        from node import daemon
        sys.argv = [daemon.__file__, request["config"]]
        code = daemon.main([request["config"]])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def handle(conn: socket.socket, listener: socket.socket) -> None:
    conn.settimeout(5.0)
    try:
        request = json.loads(conn.makefile("rb").readline())
        missing = {"netns", "config", "log"} - set(request)
        if missing:
            raise ValueError(f"request lacks {', '.join(sorted(missing))}")
    except (OSError, ValueError) as exc:
        conn.sendall(json.dumps({"error": str(exc)}).encode() + b"\n")
        return
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        child(request, listener, conn)
    conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def serve(path: str) -> None:
    # Imported in an empty namespace: scapy reads every interface and route it sees at import,
    # hundreds on a host full of labs, and each child reloads its node's own anyway.
    leave_for_empty()
    for module in PRELOAD:
        __import__(module)
    gc.collect()
    gc.freeze()   # imported objects stay out of every child's collections: their pages stay shared
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)   # wakes select; the loop reaps
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path + ".new")
    os.chmod(path + ".new", 0o600)
    listener.listen(64)
    os.rename(path + ".new", path)   # the socket appears only once it accepts
    print(f"forkserver: serving on {path} (pid {os.getpid()}, preloaded {', '.join(PRELOAD)})", flush=True)
    try:
        while not stopping:
            ready, _, _ = select.select([listener, wake_r], [], [])
            if wake_r in ready:
                while True:
                    try:
                        os.read(wake_r, 512)
                    except BlockingIOError:
                        break
                reap()
            if listener in ready and not stopping:
                conn, _ = listener.accept()
                with conn:
                    try:
                        handle(conn, listener)
                    except OSError as exc:   # the client went away: its child, if any, runs
                        print(f"forkserver: {exc}", flush=True)
    finally:
        listener.close()
        Path(path).unlink(missing_ok=True)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(f"usage: python -m {MODULE} SOCKET", file=sys.stderr)
        return 2
    serve(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
