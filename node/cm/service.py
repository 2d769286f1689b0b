"""Device Service Clustering on a node: config sync over 4353, failover over UDP 1026, floating
addresses with gratuitous ARP. CM wires three drivers and is what the shell, REST and the daemon
call:

    sync_driver.py      SyncDriver      4353 sync messages, `run cm config-sync`; decides with sync.py
    failover_driver.py  FailoverDriver  heartbeats, timers, `run sys failover`; decides with failover.py
    floating_driver.py  FloatingDriver  floating addresses and GARP (netlink and frames: floating.py)

They talk through the event hub (node/events.py): FailoverStateChanged makes the sync driver send
its status; PeerDeviceChanged (a peer's new failover addresses) makes the failover driver
reconfigure; ConfigCommitted reaches both.
"""
from __future__ import annotations

import trio

from ..config.store import ConfigStore
from ..events import Hub
from .failover import Failover
from .failover_driver import FailoverDriver
from .floating_driver import FloatingDriver
from .sync import member_groups
from .sync_driver import SyncDriver

__all__ = ["CM"]


class CM:
    def __init__(self, device: str, store: ConfigStore, iquery, log, settings: dict, own_addresses: set,
                 save_config, events: Hub):
        """`own_addresses`: this device's own interface addresses ("10.1.10.11" ...), never removed;
        `settings`: the topology's ha section (heartbeat interval, timeout, garp)."""
        self.device, self.store = device, store
        self.floating = FloatingDriver(store, log, own_addresses, settings.get("garp") or {},
                                       lambda: self.failover_driver.active_groups())
        self.sync_driver = SyncDriver(device, store, iquery, log, events, save_config,
                                      lambda: self.failover.payload() if self.failover else {})
        self.failover_driver = FailoverDriver(device, store, log, settings, self.floating, events,
                                              lambda: self.sync_driver.peers, iquery.connected)

    async def run(self, forced_offline: bool = False, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(self.floating.run)
            await nursery.start(self.failover_driver.run, forced_offline)   # reconfigures first on a commit
            await nursery.start(self.sync_driver.run)
            task_status.started()

    @property
    def failover(self) -> Failover | None:
        return self.failover_driver.failover

    @property
    def peers(self) -> dict[str, dict]:
        """name -> the peer's last cm-status (cid, synced, device, failover, boot, seq, at)."""
        return self.sync_driver.peers

    @property
    def forced_offline_path(self):
        return self.failover_driver.forced_offline_path

    @forced_offline_path.setter
    def forced_offline_path(self, path) -> None:
        self.failover_driver.forced_offline_path = path

    def my_groups(self) -> dict[str, dict]:
        return member_groups(self.store, self.device)

    def active_groups(self) -> set[str]:
        return self.failover_driver.active_groups()

    async def config_sync(self, direction: str, group: str) -> str:
        return await self.sync_driver.config_sync(direction, group)

    def standby(self, tg: str | None) -> None:
        self.failover_driver.standby(tg)

    def offline(self) -> None:
        self.failover_driver.offline()

    def online(self) -> None:
        self.failover_driver.online()

    def restart(self) -> None:
        """The configuration was reloaded (mcpd's restart, a UCS load): sync is decided afresh."""
        self.sync_driver.restart()

    def sync_status(self) -> dict:
        return self.sync_driver.sync_status()

    def failover_status(self) -> dict:
        return self.failover_driver.status()

    def ha_groups(self) -> dict[str, dict]:
        return self.failover_driver.ha_groups()
