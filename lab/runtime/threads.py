"""Independent steps of bring-up run side by side (containerlab's parallel node creation)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")
R = TypeVar("R")
WORKERS = 8   # netlink and fork requests are short; more threads only queue on the kernel's locks


def each(step: Callable[[T], R], items: Iterable[T], workers: int = WORKERS) -> list[R]:
    """`step` for every item, at most `workers` at once; their results in order. The first
    failure is raised once every started step has ended (nothing is left half-running)."""
    items = list(items)
    if len(items) <= 1:
        return [step(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        futures = [pool.submit(step, item) for item in items]
    return [f.result() for f in futures]
