"""The failover driver (trio): heartbeats over UDP 1026, the failover machine's timers, and what
its decisions do (logs, floating addresses, GARP, FailoverStateChanged). Decisions live in
failover.py; heartbeat framing in heartbeat.py."""
from __future__ import annotations

import ipaddress

import trio

from ..config.ha_checks import MGMT_INTERFACE, multicast_path
from ..config.schema import LOCAL_ONLY, base_name
from ..config.store import Op
from ..events import ConfigCommitted, FailoverStateChanged, HealthChanged, Hub, PeerDeviceChanged
from .failover import ACTIVE, STANDBY, Announce, BecomeActive, BecomeStandby, Failover, Log, TrafficGroup
from .floating_driver import FloatingDriver
from .failsafe import Failsafes
from .hagroup import group_score
from .heartbeat import Heartbeats
from .sync import member_groups

# what a change to these types can change for failover: groups, peers' addresses, floating addresses
FAILOVER_TYPES = ("cm device-group", "cm traffic-group", "cm device", "net self", "ltm virtual-address",
                  "ltm snat-translation", "sys db")   # snat-translation: floating addresses too
NET_TIMEOUT = "/Common/failover.nettimeoutsec"   # sys db: the heartbeat timeout
SCORE_TYPES = ("sys ha-group", "ltm pool")   # what can change an HA group's score
FAILSAFE_POLL = 0.25   # seconds between looks at the VLAN counters, gateway pools and subsystems


class FailoverDriver:
    def __init__(self, device: str, store, log, settings: dict, floating: FloatingDriver, events: Hub,
                 peers, connected):
        """`peers()`: the peers' last cm-status (their device info and failover state, see
        sync.ConfigSync.peers); `connected(peer)`: whether a 4353 channel to it is up."""
        self.device, self.store, self.log, self.floating, self.events = device, store, log, floating, events
        self.peers, self.connected = peers, connected
        self.interval = float(settings.get("heartbeat_interval", 0.2))
        self.timeout = float(settings.get("timeout", 3.0))
        self.failover: Failover | None = None
        self.heartbeats = Heartbeats()
        self.forced_offline_path = None
        self._wake = trio.Event()
        self._send_now = trio.Event()     # what our heartbeats say changed: tell the peers now
        self._said: dict | None = None
        self._device_state = STANDBY      # as last logged (010c0019 Active / 010c0018 Standby)
        self._state_since = 0.0
        self.pool_counts = lambda: {}     # pool path -> (members up, members): set by the daemon (LTM)
        self.dead_subsystems = lambda: {}  # subsystem -> failsafe action, for those that stopped: set by the daemon
        self.restart_all = lambda: None    # restarts every subsystem (failsafe action restart-all): set by the daemon
        self.failsafes = Failsafes()
        self.mgmt_interface = "mgmt"       # the node's management interface (eth0 on a BIG-IP): set by the daemon
        self._nursery = None
        self._multicast: tuple[tuple[str, str, int] | None, trio.CancelScope | None] = (None, None)

    async def run(self, forced_offline: bool = False, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        self.failover = Failover(self.device, trio.current_time(), timeout=self.timeout,
                                 forced_offline=forced_offline)
        self._state_since = trio.current_time()
        await self.heartbeats.bind()
        self.events.subscribe(ConfigCommitted, self._on_commit)
        self.events.subscribe(PeerDeviceChanged, lambda _e: self.reconfigure())
        self.events.subscribe(HealthChanged, lambda _e: self.rescore())
        self.show_timeout()
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            self.reconfigure()
            nursery.start_soon(self._receive_heartbeats)
            nursery.start_soon(self._send_heartbeats)
            nursery.start_soon(self._ticker)
            nursery.start_soon(self._watch_failsafes)
            task_status.started()

    def _on_commit(self, result: ConfigCommitted) -> None:
        if any(c.type in FAILOVER_TYPES for c in result.changes):
            self.reconfigure()
        elif any(c.type in SCORE_TYPES for c in result.changes):
            self.rescore()

    def reconfigure(self) -> None:
        """Give the machine the sync-failover group's peers (and their failover addresses) and the
        traffic groups, as the configuration has them now."""
        fg = next((g for _, g in sorted(member_groups(self.store, self.device).items())
                   if g.get("type") == "sync-failover"), None)
        own = self.store.get("cm device", f"/Common/{self.device}") or {}
        mine = multicast_path(own)
        peers: dict[str, list[str]] = {}
        multicast: dict[str, tuple[str, str]] = {}
        groups = []
        if fg and fg.get("network-failover") == "enabled":
            for name in fg["devices"]:
                if name != self.device:
                    info = self.peers().get(name, {}).get("device", {})
                    peers[name] = list(info.get("unicast-address") or [])
                    theirs = multicast_path(info)
                    if mine and theirs and theirs[1:] == mine[1:]:   # both on the same group and port
                        multicast[name] = (mine[0], f"{mine[1]}:{mine[2]}")
            for path, tg in sorted(self.store.of_type("cm traffic-group").items()):
                if path == LOCAL_ONLY:
                    continue
                groups.append(TrafficGroup(base_name(path), tuple(base_name(d) for d in tg.get("ha-order") or ()),
                                           tg.get("auto-failback-enabled") == "true",
                                           float(tg.get("auto-failback-time", 60)), int(tg.get("ha-load-factor", 1)),
                                           tg.get("failover-method", "ha-order"),
                                           None if tg.get("ha-group", "none") == "none" else tg["ha-group"]))
        self.failover.timeout = self.net_timeout()
        self.failover.capacity = int(own.get("ha-capacity", 0))
        self._act(self.failover.configure(groups, peers, trio.current_time(), self._local_addresses(peers), multicast))
        self._open_multicast(mine)
        self.rescore()
        self.floating.reconcile()
        self._wake.set()

    def net_timeout(self) -> float:
        """The heartbeat timeout: `sys db failover.nettimeoutsec` (the lab's until set, show_timeout)."""
        db = self.store.get("sys db", NET_TIMEOUT) or {}
        try:
            value = float(db.get("value"))
        except (TypeError, ValueError):
            return self.timeout
        return value if value > 0 else self.timeout

    def show_timeout(self) -> None:
        """At start, a failover.nettimeoutsec still at its default shows the timeout in effect, the
        lab's (ha.timeout_ms), not 3 whatever it is (a local db variable: nothing to sync)."""
        db = self.store.get("sys db", NET_TIMEOUT) or {}
        if db.get("value") == db.get("default-value") and f"{self.timeout:g}" != db.get("value"):
            self.store.commit([Op("modify", "sys db", NET_TIMEOUT, {"value": ("set", f"{self.timeout:g}")})])

    def ha_groups(self) -> dict[str, dict]:
        """Each HA group: its score now and each pool's part (`show sys ha-group`)."""
        groups = self.store.of_type("sys ha-group")
        counts = self.pool_counts() if groups else {}
        out = {}
        for path, group in sorted(groups.items()):
            score, parts = group_score(group, counts)
            out[base_name(path)] = {"score": score, "active-bonus": int(group.get("active-bonus", 10)),
                                    "status": group.get("status", "enabled"),
                                    "pools": {p["name"]: {"score": parts[p["name"]], "weight": int(p.get("weight", 10)),
                                                          "up": counts.get(p["name"], (0, 0))[0],
                                                          "total": counts.get(p["name"], (0, 0))[1]}
                                              for p in group.get("pools") or []}}
        return out

    def rescore(self) -> None:
        """Give the machine this device's HA group score of each traffic group that has one."""
        if self.failover is None:
            return
        groups = self.ha_groups()
        scores, bonus = {}, {}
        for tg, g in self.failover.groups.items():
            if g.ha_group:
                hg = groups.get(base_name(g.ha_group), {"score": 0, "active-bonus": 0})
                scores[tg], bonus[tg] = hg["score"], hg["active-bonus"]
        if (scores, bonus) != (self.failover.scores, self.failover.bonus):
            self._act(self.failover.set_scores(scores, bonus, trio.current_time()))

    def _open_multicast(self, want: tuple[str, str, int] | None) -> None:
        """Join the multicast path's group (or leave it) when the device's multicast settings change."""
        current, scope = self._multicast
        if want == current or self._nursery is None:
            return
        if scope is not None:
            scope.cancel()
        scope = trio.CancelScope() if want else None
        self._multicast = (want, scope)
        if want:
            self._nursery.start_soon(self._receive_multicast, want, scope)

    async def _receive_multicast(self, want: tuple[str, str, int], scope: trio.CancelScope) -> None:
        iface, group, port = want
        ifname = self.mgmt_interface if iface == MGMT_INTERFACE else iface
        with scope:
            try:
                sock = await self.heartbeats.join(ifname, group, port)
            except OSError as exc:
                self.log.log("err", "sod", f"Multicast failover on {iface} {group}:{port} cannot start: {exc}",
                             event="failover-path")
                return
            try:
                async for path, msg in self.heartbeats.receive_multicast(sock, f"{group}:{port}"):
                    self._act(self.failover.heartbeat(msg["device"], path, msg, trio.current_time()))
            finally:
                self.heartbeats.leave(sock)

    def _local_addresses(self, peers: dict[str, list[str]]) -> dict[str, str]:
        """Each peer failover address -> this device's self IP on the same network."""
        selfs = [ipaddress.ip_interface(v["address"]) for v in self.store.of_type("net self").values()
                 if "%" not in v["address"]]   # failover talks in route domain 0
        out = {}
        for addresses in peers.values():
            for a in addresses:
                mine = next((s.ip for s in selfs if ipaddress.ip_address(a) in s.network), None)
                if mine is not None:
                    out[a] = str(mine)
        return out

    async def _watch_failsafes(self) -> None:
        while True:
            self.check_failsafes()
            await trio.sleep(FAILSAFE_POLL)

    def check_failsafes(self) -> None:
        """Read what the failsafes watch, log what trips or recovers, and tell the machine."""
        vlans = {path: (float(v.get("failsafe-timeout", 90)), v.get("failsafe-action", "failover-restart-tm"))
                 for path, v in self.store.of_type("net vlan").items() if v.get("failsafe") == "enabled"}
        rx = self.floating.ifaces.rx_packets() if vlans else {}
        checked = {path: p for path, p in self.store.of_type("ltm pool").items()
                   if p.get("min-up-members-checking") == "enabled" and int(p.get("min-up-members", 0)) > 0}
        counts = self.pool_counts() if checked else {}
        gateways = {path: (int(p["min-up-members"]), counts.get(path, (0, 0))[0], p.get("min-up-members-action", "failover"))
                    for path, p in checked.items()}
        before, restarting = self.failsafes.failing_over(), self.failsafes.restarting_all()
        for log in self.failsafes.update(trio.current_time(), vlans, {v: rx.get(base_name(v)) for v in vlans},
                                         gateways, self.dead_subsystems()):
            self.log.log(log.level, "sod", log.text, log.msgid, event="failsafe")
        if set(self.failsafes.restarting_all()) - set(restarting):
            self.restart_all()
        if self.failsafes.failing_over() != before:
            self._act(self.failover.set_failsafe(self.failsafes.failing_over(), trio.current_time()))

    async def _send_heartbeats(self) -> None:
        while True:
            addresses = [a for p in self.failover.peers.values() for a, path in p.paths.items() if not path.multicast]
            self._said = self.failover.payload()
            if addresses or self.heartbeats.mgroup:
                await self.heartbeats.send(self._said, addresses, self.heartbeats.mgroup)
            with trio.move_on_after(self.interval):
                await self._send_now.wait()
            self._send_now = trio.Event()

    async def _receive_heartbeats(self) -> None:
        async for addr, msg in self.heartbeats.receive():
            self._act(self.failover.heartbeat(msg["device"], addr, msg, trio.current_time()))

    async def _ticker(self) -> None:
        while True:
            with trio.move_on_at(self.failover.next_deadline(trio.current_time())):
                await self._wake.wait()
            self._act(self.failover.tick(trio.current_time()))
            self._wake = trio.Event()   # after _act: its own wake-up is no news (else this loop spins)

    def _act(self, actions: list) -> bool:
        """Carry out the machine's actions; True if a traffic group changed state."""
        changed = False
        for a in actions:
            if isinstance(a, Log):
                self.log.log(a.level, "sod", a.text, a.msgid, event="failover-path")
            elif isinstance(a, BecomeActive):
                self.log.log("notice", "sod", f"Active for traffic group {a.tg}.", "010c0053",
                             event="failover", tg=a.tg, state="active", reason=a.reason)
                changed = True
            elif isinstance(a, BecomeStandby):
                self.log.log("notice", "sod", f"Standby for traffic group {a.tg}: {a.reason}",
                             event="failover", tg=a.tg, state="standby")
                changed = True
            elif isinstance(a, Announce):
                self.log.log("warning", "sod", f"Announcing {a.tg} again: {a.reason}", event="announce", tg=a.tg)
                self.floating.announce(a.tg)
        now = self.failover.device_state()
        if now != self._device_state and now in (ACTIVE, STANDBY):   # the device's own state, as sod logs it
            self._device_state, self._state_since = now, trio.current_time()
            self.log.log("notice", "sod", now.capitalize(), "010c0019" if now == ACTIVE else "010c0018",
                         event="device-state", state=now)
        if changed:
            self.floating.reconcile()
            self.events.publish(FailoverStateChanged())
        if self._said is not None and self.failover.payload() != self._said:
            self._send_now.set()   # a group given up (or a score) is news now, not a heartbeat later
        self._wake.set()
        return changed

    def active_groups(self) -> set[str]:
        return {tg for tg, s in self.failover.state.items() if s == ACTIVE}

    # -- commands ---------------------------------------------------------------------------------
    def standby(self, tg: str | None) -> None:
        self._act(self.failover.standby(f"{base_name(tg)}" if tg else None, trio.current_time()))

    def offline(self) -> None:
        """Forced Offline: gives up every traffic group and stays so across restarts."""
        if self.forced_offline_path:
            self.forced_offline_path.write_text("forced offline\n")
        if not self._act(self.failover.offline(trio.current_time())):
            self.events.publish(FailoverStateChanged())    # peers learn the device state all the same

    def online(self) -> None:
        if self.forced_offline_path:
            self.forced_offline_path.unlink(missing_ok=True)
        if not self._act(self.failover.online(trio.current_time())):
            self.events.publish(FailoverStateChanged())

    # -- status -----------------------------------------------------------------------------------
    def status(self) -> dict:
        fo = self.failover
        peers = {}
        for name, p in fo.peers.items():
            peers[name] = {"alive": p.alive, "state": p.payload.get("state"),
                           "paths": {a: ("up" if not path.lost else "down") for a, path in p.paths.items()},
                           "ages": {a: None if path.last is None else round(trio.current_time() - path.last, 3)
                                    for a, path in p.paths.items()},
                           "local": {a: path.local for a, path in p.paths.items()}}
        split = {}
        for tg, st in fo.state.items():
            if st != ACTIVE:
                continue
            also = [n for n, info in self.peers().items() if self.connected(n)
                    and info.get("failover", {}).get("tgs", {}).get(tg) == ACTIVE]
            also += [n for n in fo.split_brain.get(tg, ()) if n not in also]
            lost = [n for n, p in fo.peers.items() if not p.alive]
            if also:
                split[tg] = f"SPLIT BRAIN: {tg} is also active on {', '.join(also)}"
            elif lost:
                split[tg] = f"possible split brain: no failover status from {', '.join(lost)} on any path"
        return {"device": self.device, "state": fo.device_state(), "traffic_groups": dict(fo.state),
                "peers": peers, "split_brain": split, "failsafe": dict(self.failsafes.tripped), "timeout": self.failover.timeout, "interval": self.interval,
                "floating": self.floating.describe(), "garps_sent": self.floating.garps_sent,
                "bad_heartbeats": self.heartbeats.bad, "forged_heartbeats": self.heartbeats.forged,
                "replayed_heartbeats": self.heartbeats.replayed, "groups": fo.group_rows(), "state_for": trio.current_time() - self._state_since,
                "multicast": ":".join(map(str, self._multicast[0])) if self._multicast[0] and self.heartbeats.mgroup else None}
