"""Network namespaces entered and made by the calling thread, with no fork.

A network namespace belongs to a thread, not to the whole process: setns(2) and
unshare(CLONE_NEWNET) move only the caller. So `up` wires many nodes at once from a thread pool,
each thread stepping into its node and back, where pyroute2's `netns.create` and
`IPRoute(netns=...)` fork a helper process per call (and forking from threads is unsafe).
"""
from __future__ import annotations

import contextlib
import ctypes
import os
from pathlib import Path

CLONE_NEWNET = 0x40000000
MS_BIND, MS_REC, MS_SHARED = 0x1000, 0x4000, 0x100000
NETNS_DIR = Path("/run/netns")
_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def path_of(ref: str | Path) -> Path:
    """A namespace's file: a name under /run/netns (as `ip netns` names them), or a path as it
    is (/proc/PID/ns/net of a container)."""
    return Path(ref) if "/" in str(ref) else NETNS_DIR / ref


def enter(ref: str | Path) -> None:
    """Move the calling thread into the network namespace `ref`."""
    fd = os.open(path_of(ref), os.O_RDONLY | os.O_CLOEXEC)
    try:
        _check(_libc.setns(fd, CLONE_NEWNET), f"setns({ref})")
    finally:
        os.close(fd)


def leave_for_empty() -> None:
    """Move the calling thread into a new, empty network namespace (only `lo`, down)."""
    _check(_libc.unshare(CLONE_NEWNET), "unshare")


@contextlib.contextmanager
def inside(ref: str | Path):
    """The calling thread in namespace `ref` for the block (sockets opened there stay there)."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        enter(ref)
        try:
            yield
        finally:
            _check(_libc.setns(home, CLONE_NEWNET), "setns back")
    finally:
        os.close(home)


def share_rundir() -> None:
    """/run/netns as iproute2 makes it: a shared mount, so the namespaces bound there show in
    every mount namespace (`ip netns` finds ours)."""
    NETNS_DIR.mkdir(exist_ok=True)
    rundir = str(NETNS_DIR).encode()
    if _libc.mount(b"", rundir, b"none", MS_SHARED | MS_REC, None) != 0:
        _check(_libc.mount(rundir, rundir, b"none", MS_BIND | MS_REC, None), "bind /run/netns")
        _check(_libc.mount(b"", rundir, b"none", MS_SHARED | MS_REC, None), "share /run/netns")


def create(name: str) -> None:
    """A new named network namespace (`ip netns add`), made by this thread, which stays where it
    was. `share_rundir()` first, once."""
    path = NETNS_DIR / name
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))
    try:
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            leave_for_empty()
            try:
                _check(_libc.mount(b"/proc/thread-self/ns/net", str(path).encode(), b"none", MS_BIND, None),
                       f"bind {path}")
            finally:
                _check(_libc.setns(home, CLONE_NEWNET), "setns back")
        finally:
            os.close(home)
    except OSError:
        path.unlink(missing_ok=True)
        raise
