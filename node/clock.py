"""The device clock: wall time plus an adjustable offset.

Linux time namespaces do not virtualise CLOCK_REALTIME, so a node's notion of "now" is the host's
time plus an offset that the lab can set (chaos: clock skew). Every certificate check on the node
uses this clock, never `time.time()` directly. Timers (trio) stay on the monotonic clock.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path


class NodeClock:
    def __init__(self, offset: float = 0.0, *, wall=time.time):
        self.offset = float(offset)
        self._wall = wall

    def time(self) -> float:
        """Seconds since the epoch as this device sees them."""
        return self._wall() + self.offset

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.time(), tz=dt.timezone.utc)


class PersistentClock(NodeClock):
    """A NodeClock whose offset survives a daemon restart (kept in `clock.json`)."""

    def __init__(self, path: Path, *, wall=time.time):
        self.path = Path(path)
        offset = 0.0
        if self.path.exists():
            offset = float(json.loads(self.path.read_text()).get("offset", 0.0))
        super().__init__(offset, wall=wall)

    def set_offset(self, offset: float) -> None:
        self.offset = float(offset)
        write_atomically(self.path, json.dumps({"offset": self.offset}).encode())


def write_atomically(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write a file so that a crash at any moment leaves either the old or the new content."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dirfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dirfd)
    finally:
        os.close(dirfd)
