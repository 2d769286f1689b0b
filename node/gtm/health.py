"""What the GTM knows of each LTM's virtual servers, from iQuery (sans-IO: fed messages and times).

An LTM (big3d on a BIG-IP) sends `gtm-health` on its 4353 channel to each GTM that subscribed:
its addresses and, per virtual server, destination, availability, reason and statistics; on
every change and at least every `interval` seconds. The GTM keeps the latest per device. Data older
than `stale_after`, or from a device whose channel is down, no longer counts: its virtual servers
are unknown.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..iquery.messages import GtmHealth

PUBLISH_INTERVAL = 2.0     # seconds between updates when nothing changes
STALE_AFTER = 7.0          # a little over three missed updates


@dataclass
class DeviceHealth:
    device: str
    addresses: tuple = ()
    virtuals: dict = field(default_factory=dict)   # name -> {destination, availability, reason, ...}
    at: float = 0.0                                # when the last update arrived
    updates: int = 0


@dataclass(frozen=True)
class ServerView:
    """What one gtm server of product bigip sees of its LTM."""
    device: str | None
    state: str            # connected, stale, disconnected, unknown (no LTM has its addresses)
    reason: str
    virtuals: dict
    age: float | None


class HealthTable:
    def __init__(self, stale_after: float = STALE_AFTER):
        self.stale_after = stale_after
        self.devices: dict[str, DeviceHealth] = {}

    def update(self, device: str, msg: GtmHealth, now: float) -> bool:
        """Take a gtm-health message; True if availability (not just statistics) changed."""
        d = self.devices.setdefault(device, DeviceHealth(device))
        before = ({n: v.get("availability") for n, v in d.virtuals.items()}, d.addresses)
        d.addresses = tuple(msg.addresses)
        d.virtuals = {str(n): dict(v) for n, v in msg.virtuals.items() if isinstance(v, dict)}
        d.at = now
        d.updates += 1
        return before != ({n: v.get("availability") for n, v in d.virtuals.items()}, d.addresses)

    def device_for(self, addresses) -> DeviceHealth | None:
        wanted = set(addresses)
        for d in self.devices.values():
            if wanted & set(d.addresses):
                return d
        return None

    def server(self, addresses, now: float, connected) -> ServerView:
        d = self.device_for(addresses)
        if d is None:
            return ServerView(None, "unknown", "no iQuery data from a device with these addresses yet", {}, None)
        age = now - d.at
        if not connected(d.device):
            return ServerView(d.device, "disconnected", f"iQuery channel to {d.device} is down", {}, age)
        if age > self.stale_after:
            return ServerView(d.device, "stale", f"no update from {d.device} for {age:.1f} s", {}, age)
        return ServerView(d.device, "connected", "iQuery data current", d.virtuals, age)
