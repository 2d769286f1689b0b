"""File helpers with no dependencies on the rest of the project: crash-safe writes, and the hash
of the sources a node image is built from (the image labels itself with it; the Docker backend
refuses an image whose label differs)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


def write_atomically(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write a file so that a process killed at any moment (chaos's kill -9 too) leaves either the
    old or the new content: a whole temporary file renamed over the old. No fsync: a lab's state
    lives in /run and does not outlive the host's uptime, and an fsync per change cost 10-20 ms of
    a node's event loop on a disk-backed /run (each trust or config change of a 64-node lab)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:   # a full disk takes part of a write, then refuses the rest (ENOSPC)
            view = view[os.write(fd, view):]
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)   # the space back, and no stray file
        raise
    os.close(fd)
    os.replace(tmp, path)


def source_hash(root: Path) -> str:
    """What a node image runs: the node package, the project's declared dependencies, the image's
    own files (under the project root `root`)."""
    h = hashlib.sha256()
    files = sorted((root / "node").rglob("*.py")) + sorted((root / "image").glob("*")) + [root / "pyproject.toml"]
    for path in files:
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]
