"""The last iQuery messages from each peer, kept for `iqdump PEER` (node/iqdump_cli.py), which
long-polls the daemon's `iqdump` control command. It shows messages from the moment it starts and
asks again at least every 10 s, so messages are kept only while an iqdump asked within AGE
seconds, each for AGE seconds (and at most KEEP of a peer): a device of gtm-10dc hears 23 peers,
and holding each one's last 500 messages grew every daemon by megabytes within minutes of `up`."""
from __future__ import annotations

import time
from collections import deque

import trio

from ..errors import CommandError

KEEP, AGE = 500, 30.0


class Recorder:
    def __init__(self, peers=lambda: None, now=time.time):
        self.peers = peers          # () -> the trust domain's other device names (None: any)
        self.now = now
        self.seq = 0
        self.watched_until = float("-inf")   # an iqdump asked within AGE seconds before this
        self.messages: dict[str, deque] = {}
        self._arrived = trio.Event()

    def record(self, peer: str | None, body: dict) -> None:
        self.seq += 1
        now = self.now()
        if now > self.watched_until:   # no iqdump is watching: nothing is kept
            self.messages.clear()
            return
        kept = self.messages.setdefault(peer or "?", deque(maxlen=KEEP))
        while kept and kept[0][1] < now - AGE:
            kept.popleft()
        kept.append((self.seq, now, body))
        self._arrived.set()
        self._arrived = trio.Event()

    async def cmd(self, peer: str, after: int = -1, wait: float = 2.0) -> dict:
        """Messages from `peer` newer than `after` (-1: only from now on), waiting up to `wait` s."""
        known = self.peers()
        if known is not None and peer not in known:
            raise CommandError(f"{peer!r} is not a device of this trust domain (peers: {', '.join(sorted(known)) or 'none'})")
        self.watched_until = self.now() + AGE
        after = self.seq if int(after) < 0 else int(after)
        with trio.move_on_after(min(float(wait), 10.0)):
            while not any(s > after for s, _, _ in self.messages.get(peer, ())):
                await self._arrived.wait()
        new = [{"seq": s, "time": t, "message": m} for s, t, m in self.messages.get(peer, ()) if s > after]
        return {"seq": max([after] + [m["seq"] for m in new]), "messages": new}
