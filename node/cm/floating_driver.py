"""The floating-address driver (trio): the active traffic groups' floating self IPs, virtual
addresses and SNAT translation addresses on this device's VLAN interfaces, kept alive and announced with gratuitous ARP
(the frames and netlink calls are in floating.py)."""
from __future__ import annotations

import ipaddress
import threading

import trio

from ..config import route_domains
from ..config.schema import base_name, plain, rd_of
from .floating import REFRESH, Interfaces, plan


class FloatingDriver:
    def __init__(self, store, log, own_addresses: set, garp: dict, active_groups):
        """`own_addresses`: this device's own (non-floating) addresses, never removed;
        `active_groups()`: the traffic groups this device is active for."""
        self.store, self.log, self.own_addresses, self.active_groups = store, log, own_addresses, active_groups
        self.garp = {"repeat": int(garp.get("repeat", 5)), "interval": float(garp.get("interval", 0.1)),
                     "delay": float(garp.get("delay", 5.0)), "refresh": float(garp.get("refresh", 0.0))}
        self.floating: dict[tuple[str, str, int], str] = {}  # (iface, address, plen) -> tg
        self.garp_scopes: dict[str, trio.CancelScope] = {}
        self.garps_sent = 0
        self.ifaces = Interfaces()
        # the refresh's netlink calls run in a worker thread, on their own socket, off the trio loop;
        # the lock keeps a renewal from re-adding an address reconcile() is removing
        self._renewer: Interfaces | None = None
        self._held = threading.Lock()
        self._nursery: trio.Nursery | None = None

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        self._clear_stale()
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            nursery.start_soon(self._refresh)
            task_status.started()

    def _clear_stale(self) -> None:
        """After a restart the device is standby: drop floating addresses a previous run left."""
        for ifname, addr, plen in self.ifaces.addresses():
            if ifname != "lo" and addr not in self.own_addresses:
                self.ifaces.remove(ifname, addr, plen)

    def _desired(self) -> dict[tuple[str, str, int], str]:
        active = {f"/Common/{tg}" for tg in self.active_groups()}
        want = {}
        for _path, v in self.store.of_type("net self").items():
            if v.get("traffic-group") in active:
                iface = ipaddress.ip_interface(plain(v["address"]))
                want[(base_name(v["vlan"]), str(iface.ip), iface.network.prefixlen)] = base_name(v["traffic-group"])
        if active:
            rds = route_domains.interfaces_rd(self.store.of_type)   # an address goes on its route domain's VLAN
            nets = [(n, ipaddress.ip_network(f"{a}/{p}", strict=False)) for n, a, p in self.ifaces.addresses()
                    if a in self.own_addresses and n != "lo"]
            # virtual addresses, and SNAT addresses (servers answer them: this device must own them)
            for _path, v in [*self.store.of_type("ltm virtual-address").items(),
                             *self.store.of_type("ltm snat-translation").items()]:
                if v.get("traffic-group") in active and v.get("enabled", "yes") == "yes":
                    ip, rd = ipaddress.ip_address(plain(v["address"])), rd_of(v["address"])
                    for ifname, net in nets:
                        if ip in net and rds.get(ifname, 0) == rd:
                            want[(ifname, str(ip), 32)] = base_name(v["traffic-group"])
                            break
        return want

    def reconcile(self) -> None:
        """Hold exactly the active groups' addresses; announce the groups that got new ones."""
        gone, new = plan(self.floating, self._desired())
        for key in gone:
            with self._held:
                self.ifaces.remove(*key)
                del self.floating[key]
        fresh = set()
        for key, tg in new.items():
            if self.ifaces.add(*key):
                self.floating[key] = tg
                fresh.add(tg)
        for tg in list(self.garp_scopes):
            if tg not in self.active_groups():
                self.garp_scopes.pop(tg).cancel()
        for tg in fresh:
            self.announce(tg)

    async def _refresh(self) -> None:
        """Renew the addresses' lifetime: a dead daemon's addresses go away on their own. Every
        held address is renewed each round (renewing is what keeps it), off the trio loop."""
        limiter = trio.CapacityLimiter(1)
        try:
            while True:
                await trio.sleep(REFRESH)
                if self.floating:
                    await trio.to_thread.run_sync(self._renew, list(self.floating), limiter=limiter)
        finally:
            if self._renewer is not None:
                self._renewer.close()

    def _renew(self, keys: list) -> None:
        """In the worker thread: re-add each address still held."""
        if self._renewer is None:
            self._renewer = Interfaces()
        for key in keys:
            with self._held:
                if key in self.floating:
                    self._renewer.add(*key)

    def announce(self, tg: str) -> None:
        """Send gratuitous ARP for a traffic group's addresses (again, if a burst is under way)."""
        if tg in self.garp_scopes:
            self.garp_scopes.pop(tg).cancel()
        scope = trio.CancelScope()
        self.garp_scopes[tg] = scope
        self._nursery.start_soon(self._garp, tg, scope)

    async def _garp(self, tg: str, scope: trio.CancelScope) -> None:
        g = self.garp
        with scope:
            bursts = 0
            while True:
                for i in range(g["repeat"]):
                    sent = [(ifname, addr) for (ifname, addr, _), t in list(self.floating.items()) if t == tg
                            and self.ifaces.send_garp(ifname, addr)]
                    self.garps_sent += len(sent)
                    if i == 0 and sent:
                        self.log.log("info", "sod", f"Gratuitous ARP for {tg}: "
                                     + ", ".join(f"{a} on {n}" for n, a in sent), event="garp", tg=tg)
                    if i + 1 < g["repeat"]:
                        await trio.sleep(g["interval"])
                bursts += 1
                if bursts == 1 and g["delay"] > 0:
                    await trio.sleep(g["delay"])
                elif g["refresh"] > 0:
                    await trio.sleep(g["refresh"])
                else:
                    return

    def describe(self) -> list[str]:
        return [f"{a}/{pl} on {i} ({tg})" for (i, a, pl), tg in sorted(self.floating.items())]
