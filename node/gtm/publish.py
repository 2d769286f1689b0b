"""The LTM side of GTM health (F5's big3d): publish virtual servers' availability over iQuery.

Runs on every BIG-IP node. A GTM subscribes with `gtm-subscribe` when its 4353 channel to this
device opens; from then on this device sends it `gtm-health` (its addresses, and per virtual
server destination, availability, reason and statistics) whenever an availability changes (it
looks on each HealthChanged or ConfigCommitted event), and at least every PUBLISH_INTERVAL seconds
so the GTM can tell live data from stale.

    gtm-subscribe  {sync: {group, enabled, gen}}      GTM -> any device (also the GTM sync status)
    gtm-health     {seq, addresses, virtuals}         device -> subscribed GTM
"""
from __future__ import annotations

import dataclasses
import math

import trio

from ..events import ChannelOpened, ConfigCommitted, GtmPeerStatus, HealthChanged, Hub
from ..iquery import messages as m
from .health import PUBLISH_INTERVAL


class Publisher:
    def __init__(self, device: str, iquery, ltm, addresses: list[str], log, events: Hub):
        """`ltm.virtual_health()` is what is published; `iquery` handles and sends messages."""
        self.device, self.iquery, self.ltm, self.log = device, iquery, ltm, log
        self.events = events            # publishes GtmPeerStatus: a local GTM hears its sync peers
        self.addresses = addresses
        self.subscribers: set[str] = set()
        self.seq = 0
        self._last: dict[str, tuple] = {}
        self._sent_at: dict[str, float] = {}
        self._wake = trio.Event()
        # Taken from the start: a restarted device's channels open before its publisher runs, and a
        # GTM subscribes once per channel, so a subscription ignored then would be lost for good.
        self.iquery.handle(m.GtmSubscribe, self._on_subscribe)

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        for kind in (HealthChanged, ConfigCommitted, ChannelOpened):
            self.events.subscribe(kind, lambda _e: self._wake.set())
        task_status.started()
        while True:
            with trio.move_on_at(self._next_refresh()):
                await self._wake.wait()
            self._wake = trio.Event()
            await self.publish()

    def _next_refresh(self) -> float:
        return min((self._sent_at.get(p, -math.inf) + PUBLISH_INTERVAL for p in self.subscribers),
                   default=math.inf)

    async def _on_subscribe(self, channel, msg: m.GtmSubscribe) -> None:
        peer = channel.peer
        if peer not in self.subscribers:
            self.log.log("info", "big3d", f"GTM {peer} subscribed to this device's virtual server status",
                         event="gtm-subscribed", peer=peer)
        self.subscribers.add(peer)
        self._last.pop(peer, None)     # send it everything now
        self.events.publish(GtmPeerStatus(peer, msg.sync))
        self._wake.set()

    def message(self) -> m.GtmHealth:
        virtuals = {}
        for name, v in self.ltm.virtual_health().items():
            virtuals[name] = {"destination": v["destination"], "availability": v["availability"],
                              "reason": v["reason"], "stats": v["stats"]}
        return m.GtmHealth(self.device, list(self.addresses), virtuals)

    async def publish(self) -> None:
        if not self.subscribers:
            return
        msg = self.message()
        key = tuple(sorted((n, v["availability"], v["destination"]) for n, v in msg.virtuals.items()))
        now = trio.current_time()
        for peer in list(self.subscribers):
            if self._last.get(peer) == key and now - self._sent_at.get(peer, 0) < PUBLISH_INTERVAL:
                continue
            self.seq += 1
            if await self.iquery.send_to(peer, dataclasses.replace(msg, seq=self.seq)):
                self._last[peer], self._sent_at[peer] = key, now
            else:   # channel down: all again when it is back (ChannelOpened), or at the interval
                self._last.pop(peer, None)
                self._sent_at[peer] = now
