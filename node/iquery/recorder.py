"""The last iQuery messages from each peer, kept for `iqdump PEER` (node/iqdump_cli.py), which
long-polls the daemon's `iqdump` control command."""
from __future__ import annotations

import time
from collections import deque

import trio

from ..errors import CommandError

KEEP = 500


class Recorder:
    def __init__(self, peers=lambda: None):
        self.peers = peers          # () -> the trust domain's other device names (None: any)
        self.seq = 0
        self.messages: dict[str, deque] = {}
        self._arrived = trio.Event()

    def record(self, peer: str | None, body: dict) -> None:
        self.seq += 1
        self.messages.setdefault(peer or "?", deque(maxlen=KEEP)).append((self.seq, time.time(), body))
        self._arrived.set()
        self._arrived = trio.Event()

    async def cmd(self, peer: str, after: int = -1, wait: float = 2.0) -> dict:
        """Messages from `peer` newer than `after` (-1: only from now on), waiting up to `wait` s."""
        known = self.peers()
        if known is not None and peer not in known:
            raise CommandError(f"{peer!r} is not a device of this trust domain (peers: {', '.join(sorted(known)) or 'none'})")
        after = self.seq if int(after) < 0 else int(after)
        with trio.move_on_after(min(float(wait), 10.0)):
            while not any(s > after for s, _, _ in self.messages.get(peer, ())):
                await self._arrived.wait()
        new = [{"seq": s, "time": t, "message": m} for s, t, m in self.messages.get(peer, ()) if s > after]
        return {"seq": max([after] + [m["seq"] for m in new]), "messages": new}
