"""The netns backend's fork server: one warm interpreter that every BIG-IP daemon is forked from
(Android's zygote, gunicorn's preload). It imports what a daemon needs once, scapy's L2 layer
included, freezes those objects out of the garbage collector, and then forks a child per request;
the children share the imported pages copy-on-write, so each daemon's own memory (USS) is only
what it writes.

    python -m lab.runtime.forkserver SOCKET

One server serves every lab of the host that runs the same code: its socket (in the run root,
`bl-forkserver-<key>.sock`) is keyed by the interpreter and a fingerprint of the code and the
installed packages, so a change to either starts a fresh server. It outlives the lab that started
it while another lab's daemons run from it, so labs brought up side by side share its pages.
It ends itself, with its files, IDLE seconds after its last daemon ended, so the next `up` within
that time (a test suite's, a user's `down` and `up` again) finds it warm; `down --all` ends it at
once.

A request is one JSON line on the unix socket: the node's namespace, what to run (a module of RUNS
and its arguments: the daemon and its node.json, or the web server) and its log. The child enters
the namespace (setns), starts its own session, works in its log's directory with stdio on the log,
and runs the module's main; the answer is the child's pid, which the lab keeps in the node's
daemon.pid (web.pid) as before. The server
stays single-threaded and starts no trio (a fork copies only the calling thread); it reaps its
children, so a killed daemon leaves no zombie. While idle it makes RSA keys ahead for daemons' first
starts, one per child.

`start`, `spawn` and `sweep` are the server's lifecycle as the lab runs it.
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import gc
import hashlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import traceback
from pathlib import Path

from ..model import state
from ..model.plan import PREFIX
from . import samepage
from .backends import BackendError
from .namespaces import enter as enter_netns, leave_for_empty
from .processes import alive, stop_processes

MODULE = "lab.runtime.forkserver"
PRELOAD = ("node.daemon", "node.webserver", "lab.runtime.ntpd", "scapy.layers.l2", "jsonschema")   # what every daemon imports,
# scapy for GARP, jsonschema for AS3 and DO (imported at the first declaration otherwise: 0.3 to 0.7 s of it)
# What a child may run: a BIG-IP's daemon, a `server` node's web server and the lab's NTP server
# (forked too, so the imported pages have more sharers and neither is an interpreter of its own).
RUNS = ("node.daemon", "node.webserver", "lab.runtime.ntpd")
IDLE = 60.0   # seconds without a daemon or a request before the server ends itself
SPARE_KEYS, QUIET = 24, 2.0   # RSA keys made ahead for first starts (gtm-10dc has 24 BIG-IPs), once no request came for QUIET s


class ForkServerError(BackendError):
    """The lab's fork server is not there or refused a request."""


@functools.cache
def key() -> str:
    """The code a server runs: the interpreter, every module of node/ and lab/ (path, mtime,
    size) and the installed packages (their directory's mtime changes on an install)."""
    digest = hashlib.sha1(os.path.realpath(sys.executable).encode())   # python and python3 alike
    for top in ("node", "lab"):
        for path in sorted((state.PROJECT / top).rglob("*.py")):
            st = path.stat()
            digest.update(f"{path}:{st.st_mtime_ns}:{st.st_size}".encode())
    digest.update(str(os.stat(sysconfig.get_paths()["purelib"]).st_mtime_ns).encode())
    return digest.hexdigest()[:12]


def socket_path(code: str | None = None) -> Path:
    return state.run_root() / f"{PREFIX}forkserver-{code or key()}.sock"


def _is_server(pid: int, sock: Path | str | None = None) -> bool:
    """`pid` is a fork server (serving `sock`, if given)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return MODULE.encode() in argv and (sock is None or str(sock).encode() in argv) and alive(pid)


def pid(sock: Path | None = None) -> int | None:
    """The pid of the server for this code (or for `sock`), if it runs."""
    sock = sock or socket_path()
    try:
        found = int(sock.with_suffix(".pid").read_text())
    except (FileNotFoundError, ValueError):
        return None
    return found if _is_server(found, sock) else None


@contextlib.contextmanager
def locked(sock: Path, wait: bool = True):
    """Hold the server's lock. A server ending itself removes the lock file under it, so a lock
    taken on a file that is gone meanwhile is taken again on the new one. With `wait` False, the
    lock is not waited for: the block hears whether it holds it."""
    path = sock.with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        lock = open(path, "a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            lock.close()
            yield False
            return
        try:
            if os.fstat(lock.fileno()).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        lock.close()
    try:
        yield True
    finally:
        lock.close()


def launch() -> int:
    """Start the server for this code, if none runs, without waiting for its imports (`up` wires
    the lab meanwhile). Two `up`s at once start one server."""
    sock = socket_path()
    with locked(sock):
        running = pid(sock)
        if running is not None:
            return running
        sock.unlink(missing_ok=True)
        with open(sock.with_suffix(".out"), "ab") as out:
            proc = subprocess.Popen([sys.executable, "-m", MODULE, str(sock)], stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=out, start_new_session=True, close_fds=True,
                                    cwd=str(state.PROJECT))
        proc.returncode = 0  # detached on purpose: it outlives this command
        sock.with_suffix(".pid").write_text(str(proc.pid))
        return proc.pid


def start(timeout: float = 20.0, attempts: int = 3) -> Path:
    """The socket of the server for this code, started if it does not run, once it accepts. A
    server found running may end before it accepts us (another lab's `down` found it idle): then
    a fresh one is started."""
    sock = socket_path()
    deadline = time.monotonic() + timeout
    for _ in range(attempts):
        server = launch()
        while not sock.exists() and alive(server) and time.monotonic() < deadline:
            time.sleep(0.01)
        if sock.exists():
            return sock
    try:
        out = sock.with_suffix(".out").read_text(errors="replace")[-1500:]
    except FileNotFoundError:
        out = "(no output)"
    raise ForkServerError(f"the fork server did not start:\n{out}")


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
    """Fork servers whose socket is named with the prefix: the host's (`bl-`, for `down --all`),
    or a lab's own from before servers were shared."""
    found = servers(lab_prefix)
    stop_processes(list(found))
    files = [f for sock in found.values() for f in (sock, *(sock.with_suffix(x) for x in (".pid", ".out", ".lock")))]
    if lab_prefix == PREFIX:   # and what servers that ended on their own left behind
        files += state.run_root().glob(f"{PREFIX}forkserver-*")
        samepage.restore(state.run_root(), PREFIX)
    for path in files:
        path.unlink(missing_ok=True)
    return [f"fork server {pid}" for pid in found]


def spawn(netns: str, argv: list[str], log_path: Path, timeout: float = 10.0) -> int:
    """Fork a process for the node in namespace `netns` from the fork server (started if it does
    not run): argv is a module of RUNS and its arguments. Its pid."""
    request = {"netns": netns, "argv": [str(a) for a in argv], "log": str(log_path)}
    try:
        answer = ask(request, timeout)
        if not answer:   # the server ended (idle) before it read us
            answer = ask(request, timeout)
    except (OSError, ValueError) as exc:
        raise ForkServerError(f"the fork server: {exc}") from None
    if "pid" not in answer:
        raise ForkServerError(f"the fork server: {answer.get('error', 'no answer')}")
    return answer["pid"]


def ask(request: dict, timeout: float, sock: Path | None = None) -> dict:
    """One request to the server for this code (started if none runs), or to `sock`; its answer,
    empty when the server closed the connection unanswered."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        try:
            s.connect(str(sock or socket_path()))
        except (FileNotFoundError, ConnectionRefusedError):   # none runs (or it died): start one
            if sock is not None:
                return {}
            s.connect(str(start()))
        s.sendall(json.dumps(request).encode() + b"\n")
        try:
            return json.loads(s.makefile("rb").readline() or b"{}")
        except ConnectionResetError:
            return {}


# -- the server ---------------------------------------------------------------------------------
def child(request: dict, listener: socket.socket, conn: socket.socket) -> None:
    """In the forked child: become the node's daemon (or web server), as the backend's `start`
    would make it."""
    code = 1
    try:
        listener.close()
        conn.close()
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        os.setsid()
        gc.enable()
        enter_netns(request["netns"])   # scapy only builds frames (GARP): its view of interfaces is not used
        log = Path(request["log"])
        os.chdir(log.parent)
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.close(null)
        module, *args = request["argv"]
        main = sys.modules[module].main   # preloaded
        sys.argv = [sys.modules[module].__file__, *args]
        code = main(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def reap() -> bool:
    """Reap ended children; whether any child still runs."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


def fork() -> int:
    """os.fork, the last RSA key made ahead going to the child, which keeps only that one, and
    leaving the server: each key is one device's."""
    from node.config import ssl_files   # the server's, not the CLI's (cryptography: 30 ms to import)
    pid = os.fork()
    if pid == 0:
        del ssl_files.SPARE_KEYS[:-1]
    elif ssl_files.SPARE_KEYS:
        ssl_files.SPARE_KEYS.pop()
    return pid


def handle(conn: socket.socket, listener: socket.socket) -> None:
    """Answer one request: fork a daemon or web server."""
    conn.settimeout(5.0)
    try:
        request = json.loads(conn.makefile("rb").readline())
        missing = {"netns", "argv", "log"} - set(request)
        if missing:
            raise ValueError(f"request lacks {', '.join(sorted(missing))}")
        if not request["argv"] or request["argv"][0] not in RUNS:
            raise ValueError(f"runs only {', '.join(RUNS)}")
    except (OSError, ValueError) as exc:
        conn.sendall(json.dumps({"error": str(exc)}).encode() + b"\n")
        return
    sys.stdout.flush()
    sys.stderr.flush()
    pid = fork()
    if pid == 0:
        child(request, listener, conn)
    conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def end_if_idle(path: str, listener: socket.socket) -> None:
    """End the server now with its files, unless a request waits or a `launch` holds the lock (it
    found this server running and will ask it). The process exits holding the lock, so a server
    launched next never has its files removed by this one. A request that connects after the
    check is cut off unanswered, and its `spawn` asks a fresh server."""
    sock = Path(path)
    with locked(sock, wait=False) as held:
        if not held or select.select([listener], [], [], 0)[0]:
            return
        print(f"forkserver: no daemon for {IDLE:g} s, ending", flush=True)
        listener.close()
        for leftover in (sock, *(sock.with_suffix(x) for x in (".pid", ".out", ".lock"))):
            leftover.unlink(missing_ok=True)
        last_out()
        os._exit(0)


def shed() -> None:
    """Empty scapy's MAC vendor table (50,825 OUIs read at import) and Bluetooth company table,
    11 MB of objects that every child would map and GARP never reads; before the warm-up, whose
    objects then fill the freed room."""
    from scapy import data
    data.MANUFDB = data.ManufDA(_name="scapy/manufdb")
    data.BLUETOOTH_CORE_COMPANY_IDENTIFIERS = {}


def warm() -> None:
    """Work every daemon does first and libraries do once per process, done here so its memory is
    shared: a whole BIG-IP daemon built once (its trust domain's keys and certificates, config
    store, REST routes, services; OpenSSL loads its providers and curve tables at the first key
    and context, cryptography's X.509 builder fills, Python's lazy caches and type lookups fill),
    and pyroute2's netlink tables."""
    from node.netlink import IPRoute
    from node import tls
    from node.config import sealed
    from node.tcl import irule
    from node.daemon import Daemon
    from node.settings import NodeConfig
    with tempfile.TemporaryDirectory() as tmp:   # never run: no socket, thread or task is left
        Daemon(NodeConfig(name="warm", lab="warm", kind="bigip", state_dir=Path(tmp), mgmt_address="127.0.0.1",
                          interfaces={"mgmt": {"address": "127.0.0.1/8"}}, modules=("ltm", "gtm"))).log.close()
    tls.context(server=True)
    tls.unverified_client()
    sealed.unseal(sealed.seal("warm"))   # the lab's master key, made at the first secret
    irule.tcl_commands()   # what a safe Tcl interpreter offers, read from one made for it
    IPRoute().close()


def serve(path: str) -> None:
    from node.config import ssl_files
    # Imported in an empty namespace: scapy reads every interface and route it sees at import,
    # hundreds on a host full of labs, and no child uses them.
    leave_for_empty()
    # CPython's recipe for fork without exec (gc.freeze's documentation): no collection in the
    # server, so the garbage of imports leaves no freed holes in its pages for a child's objects
    # to fill (each fill copies the page); the objects frozen, so a child's collections do not
    # write their headers; the collector enabled again in the child.
    gc.disable()
    for module in PRELOAD:
        __import__(module)
    shed()
    warm()
    gc.freeze()
    samepage.mark_mergeable()   # before the first fork: the children inherit it
    samepage.switch_on(state.run_root(), PREFIX)
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
    busy = asked = time.monotonic()   # the last moment a daemon ran or a request came; a request came

    def stocking() -> bool:   # keys are made while no lab is being brought up
        return len(ssl_files.SPARE_KEYS) < SPARE_KEYS and time.monotonic() - asked > QUIET

    try:
        while not stopping:
            ready, _, _ = select.select([listener, wake_r], [], [], 0 if stocking() else QUIET)
            if not ready and stocking():
                ssl_files.SPARE_KEYS.append(ssl_files.make_rsa_key())
                continue
            if wake_r in ready:
                while True:
                    try:
                        os.read(wake_r, 512)
                    except BlockingIOError:
                        break
            if reap():
                busy = time.monotonic()
            elif time.monotonic() - busy > IDLE and not ready:
                end_if_idle(path, listener)
            if listener in ready and not stopping:
                busy = asked = time.monotonic()
                conn, _ = listener.accept()
                with conn:
                    try:
                        handle(conn, listener)
                    except OSError as exc:   # the client went away: its child, if any, runs
                        print(f"forkserver: {exc}", flush=True)
    finally:
        listener.close()
        Path(path).unlink(missing_ok=True)
        Path(path).with_suffix(".pid").unlink(missing_ok=True)
        last_out()


def last_out() -> None:
    """The last fork server of the host to end puts ksmd back as it found it."""
    if not set(servers(PREFIX)) - {os.getpid()}:
        samepage.restore(state.run_root(), PREFIX)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(f"usage: python -m {MODULE} SOCKET", file=sys.stderr)
        return 2
    serve(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
