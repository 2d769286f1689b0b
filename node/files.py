"""File helpers with no dependencies on the rest of the project: crash-safe writes, and the hash
of the sources a node image is built from (the image labels itself with it; the Docker backend
refuses an image whose label differs)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


def write_atomically(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write a file so that a crash at any moment leaves either the old or the new content."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:   # a full disk takes part of a write, then refuses the rest (ENOSPC)
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)   # the space back, and no stray file
        raise
    os.close(fd)
    os.replace(tmp, path)
    dirfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dirfd)
    finally:
        os.close(dirfd)


def source_hash(root: Path) -> str:
    """What a node image runs: the node package, the project's declared dependencies, the image's
    own files (under the project root `root`)."""
    h = hashlib.sha256()
    files = sorted((root / "node").rglob("*.py")) + sorted((root / "image").glob("*")) + [root / "pyproject.toml"]
    for path in files:
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]
