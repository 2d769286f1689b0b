"""The kernel's same-page merging (KSM) for the fork server's children.

A forked daemon shares the fork server's pages until it writes to them, and CPython writes to
almost every object it touches (reference counts, 3.11 has no immortal objects): a daemon's own
memory is mostly copies of the server's pages, many of them equal to the server's again once
the counts went back down, and equal to each other across daemons. The server marks its
anonymous memory mergeable before it forks (its children inherit the mark), and ksmd folds the
pages that are equal back into one, as it does for virtual machines. Only marked memory is
scanned: nothing else on the host changes behaviour.

ksmd runs only while /sys/kernel/mm/ksm/run is 1. A fork server that finds it 0 starts it at a
fixed pace, 150 pages every 20 ms: about 7,500 pages a second for a tenth of a CPU (a page costs
ksmd some 13 µs here), a pass over ha-pair's marked pages in about 15 s and over gtm-10dc's in
about a minute. The kernel's scan-time advisor, asked for a pass a minute on at most a tenth of a
CPU, ran ksmd at its 30,000-page maximum instead, 40% of a CPU with no lab up, once a large lab
had come and gone. The server leaves a note of what it changed in the run root; the last fork
server to end (or `down --all`) puts it all back. Found running, ksmd and its settings are
somebody else's and left as they are.
"""
from __future__ import annotations

import ctypes
import json
from pathlib import Path

KSM = Path("/sys/kernel/mm/ksm")
MADV_MERGEABLE = 12
NOTE = "samepage-was.json"   # in the run root, with the lab prefix: what the knobs were before us
# set in this order when ksmd was off (put back in reverse); `run` last, once the pace is set
KNOBS = {"advisor_mode": "none", "sleep_millisecs": "20", "pages_to_scan": "150", "run": "1"}


def anonymous_ranges(maps: str) -> list[tuple[int, int]]:
    """The private, writable, anonymous mappings of a /proc/PID/maps text (the heap, pymalloc's
    arenas, malloc's mmaps): where a process's objects are. Stacks and the kernel's pages are left."""
    ranges = []
    for line in maps.splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) < 5:
            continue
        span, perms, _, _, inode = fields[:5]
        path = fields[5].strip() if len(fields) > 5 else ""
        if inode != "0" or not perms.startswith("rw") or perms[3] != "p":
            continue
        if path and path != "[heap]" and not path.startswith("[anon:"):
            continue   # [stack], [vvar], [vdso] and files
        start, end = (int(x, 16) for x in span.split("-"))
        ranges.append((start, end))
    return ranges


def mark_mergeable() -> int:
    """Mark this process's anonymous memory mergeable; the bytes marked. Children forked after
    inherit the mark. A range the kernel refuses is left as it is."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    marked = 0
    for start, end in anonymous_ranges(Path("/proc/self/maps").read_text()):
        if libc.madvise(start, end - start, MADV_MERGEABLE) == 0:
            marked += end - start
    return marked


def knob(name: str) -> str:
    """A knob's value; advisor_mode reads as "none [scan-time]", the one in brackets is set."""
    text = (KSM / name).read_text().strip()
    return text.split("[", 1)[1].split("]", 1)[0] if "[" in text else text


def switch_on(run_root: Path, prefix: str) -> bool:
    """Start ksmd if it is off, noting what it was; whether it runs now."""
    note = run_root / f"{prefix}{NOTE}"
    try:
        if knob("run") == "0":
            if not note.exists():   # (a note left by a server killed meanwhile holds the host's)
                note.write_text(json.dumps({name: knob(name) for name in KNOBS if (KSM / name).exists()}))
            for name, value in KNOBS.items():
                if (KSM / name).exists():
                    (KSM / name).write_text(value)
        return knob("run") == "1"
    except OSError:   # no KSM in this kernel, or /sys read-only (a container)
        return False


def restore(run_root: Path, prefix: str) -> None:
    """Put back what `run` was before a fork server started ksmd (call when none runs any more).
    Pages merged stay merged until written; ksmd only stops merging more."""
    note = run_root / f"{prefix}{NOTE}"
    try:
        was = json.loads(note.read_text())
    except (FileNotFoundError, ValueError):
        return
    for name in reversed(KNOBS):   # `run` first: ksmd stops before its pace changes
        try:
            if name in was:
                (KSM / name).write_text(was[name])
        except OSError:
            pass
    note.unlink(missing_ok=True)
