"""How late the trio loop runs a task that asks to wake every millisecond: a debug figure for
whatever blocks the loop (a netlink dump, a large reconcile), read on demand by the benches
(control command `loop-lag`), so it costs nothing when nobody asks."""
from __future__ import annotations

import time

import trio

PERIOD = 0.001


def summary(late: list[float]) -> dict:
    """Lateness samples (seconds) -> count, p50/p99/max in milliseconds."""
    if not late:
        return {"samples": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    s = sorted(late)

    def at(p: float) -> float:
        return round(s[min(len(s) - 1, int(p * (len(s) - 1) + 0.5))] * 1000, 3)

    return {"samples": len(s), "p50_ms": at(0.50), "p99_ms": at(0.99), "max_ms": round(s[-1] * 1000, 3)}


async def probe(seconds: float) -> dict:
    """Sleep PERIOD again and again for `seconds` of wall time, and summarise how late each wake-up was."""
    late = []
    end = time.monotonic() + seconds
    while (asked := time.monotonic()) < end:
        await trio.sleep(PERIOD)
        late.append(max(0.0, time.monotonic() - asked - PERIOD))
    return summary(late)
