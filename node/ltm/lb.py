"""Member availability and load balancing, sans-IO.

A member is *available* when its session is user-enabled, its state user-up, and its monitor
says up (or it has no monitor: "unchecked"). Load-balancing modes: round-robin, ratio-member
(weighted round robin by ratio) and least-connections-member (fewest current connections, then
round robin among equals).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MemberView:
    name: str               # /Common/10.1.20.21:80
    address: str
    port: int
    session: str            # user-enabled / user-disabled
    state: str              # user-up / user-down
    monitor: str            # up / down / unchecked / checking
    ratio: int = 1
    connections: int = 0

    @property
    def available(self) -> bool:
        return self.session == "user-enabled" and self.state == "user-up" and self.monitor in ("up", "unchecked")

    @property
    def status(self) -> tuple[str, str]:
        """F5's availability and the reason, as `show ltm pool` prints them."""
        if self.state == "user-down":
            return "offline", "Forced down"
        if self.monitor == "down":
            return "offline", "Pool member has been marked down by a monitor"
        if self.monitor == "checking":
            return "unknown", "Pool member is being checked"
        if self.session == "user-disabled":
            return ("available" if self.monitor == "up" else "unknown"), "Pool member is disabled"
        if self.monitor == "unchecked":
            return "unknown", "Pool member does not have service checking enabled"
        return "available", "Pool member is available"


class Balancer:
    """Remembers where each pool's rotation stands; `pick` is deterministic given the same calls."""

    def __init__(self):
        self._next: dict[str, int] = {}

    def pick(self, pool: str, mode: str, members: list[MemberView]) -> MemberView | None:
        candidates = sorted((m for m in members if m.available), key=lambda m: m.name)
        if not candidates:
            return None
        if mode == "ratio-member":
            candidates = [m for m in candidates for _ in range(max(1, m.ratio))]
        elif mode == "least-connections-member":
            fewest = min(m.connections for m in candidates)
            candidates = [m for m in candidates if m.connections == fewest]
        i = self._next.get(pool, 0) % len(candidates)
        self._next[pool] = i + 1
        return candidates[i]


def pool_status(members: list[MemberView], has_monitor: bool) -> tuple[str, str]:
    """A pool's (and so its virtual server's) availability: what GTM will read over iQuery."""
    if not members:
        return "unknown", "The pool has no members"
    if any(m.available and m.monitor == "up" for m in members):
        return "available", "The pool is available"
    if any(m.available for m in members):
        return "unknown", "The children pool member(s) either don't have service checking enabled, or service check results are not available yet"
    if not has_monitor and all(m.state == "user-up" for m in members):
        return "unknown", "The children pool member(s) are disabled"
    return "offline", "The children pool member(s) are down"
