"""Device Service Clustering on a node (trio): config sync over 4353, failover over UDP 1026,
floating addresses with gratuitous ARP. Decisions live in sync.py and failover.py; this module
moves messages, addresses and timers.

4353 messages (each device sends on its own outbound channel; replies go back on the same one):
  cm-status     {cid, synced, device, failover}  on connect and on every change
  trust-config  {gen, objects}                   device groups and traffic groups
  sync-push     {group, mode, cid, commits|objects, auto}
  sync-result   {group, cid, ok, error, need_full}
  sync-request  {group}                          "from-group": please push to me
"""
from __future__ import annotations

import ipaddress
import time

import trio

from ..config.schema import LOCAL_ONLY, base_name
from ..config.store import Cid, ConfigError, ConfigStore, SyncRefused
from ..events import (ChannelClosed, ChannelOpened, ConfigCommitted, FailoverStateChanged, HealthChanged, Hub,
                      SyncStatusChanged)
from ..iquery import messages as m
from . import sync
from .failover import ACTIVE, Announce, BecomeActive, BecomeStandby, Failover, FailoverError, Log, TrafficGroup
from .floating import REFRESH, Interfaces
from .heartbeat import Heartbeats


class CMError(Exception):
    pass


class CM:
    def __init__(self, device: str, store: ConfigStore, iquery, log, settings: dict, own_addresses: set,
                 save_config, events: Hub):
        self.device, self.store, self.iquery, self.log, self.events = device, store, iquery, log, events
        self.interval = float(settings.get("heartbeat_interval", 0.2))
        self.timeout = float(settings.get("timeout", 3.0))
        garp = settings.get("garp") or {}
        self.garp = {"repeat": int(garp.get("repeat", 5)), "interval": float(garp.get("interval", 0.1)),
                     "delay": float(garp.get("delay", 5.0)), "refresh": float(garp.get("refresh", 0.0))}
        self.own_addresses = own_addresses    # "10.1.10.11" ... : never removed
        self.save_config = save_config
        self.sync = sync.ConfigSync(device)   # peers' statuses, pushes in flight, failures
        self.failover: Failover | None = None
        self.floating: dict[tuple[str, str, int], str] = {}  # (iface, address, plen) -> tg
        self.garp_scopes: dict[str, trio.CancelScope] = {}
        self.garps_sent = 0
        self.ifaces = Interfaces()
        self.heartbeats = Heartbeats()
        self._wake = trio.Event()
        self._nursery = None
        self.forced_offline_path = None
        self._sync_was: str | None = None     # the overall sync status last published
        self.boot = f"{time.time():.6f}"   # tells peers this daemon run from the previous one
        self.seq = 0                          # numbers our statuses within this run

    @property
    def peers(self) -> dict[str, dict]:
        """name -> the peer's last cm-status (cid, synced, device, failover, boot, seq, at)."""
        return self.sync.peers

    # -- running --------------------------------------------------------------------------------
    async def run(self, forced_offline: bool = False, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        self.failover = Failover(self.device, trio.current_time(), timeout=self.timeout,
                                 forced_offline=forced_offline)
        self._clear_stale_addresses()
        await self.heartbeats.bind()
        for kind, handler in ((m.CmStatus, self._on_status), (m.TrustConfig, self._on_trust),
                              (m.SyncPush, self._on_push), (m.SyncResult, self._on_result),
                              (m.SyncRequest, self._on_request)):
            self.iquery.handle(kind, handler)
        self.events.subscribe(ChannelOpened, self._opened)
        self.events.subscribe(ChannelClosed, lambda _e: self._check_sync_status())
        self.events.subscribe(ConfigCommitted, self._on_commit)
        self.events.subscribe(HealthChanged, lambda _e: self._broadcast_status())
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            self._reconfigure()
            self._sync_was = self.sync_status()["status"]
            nursery.start_soon(self._receive_heartbeats)
            nursery.start_soon(self._send_heartbeats)
            nursery.start_soon(self._ticker)
            nursery.start_soon(self._refresh_addresses)
            task_status.started()

    def _clear_stale_addresses(self) -> None:
        """After a restart the device is standby: drop floating addresses a previous run left."""
        for ifname, addr, plen in self.ifaces.addresses():
            if ifname != "lo" and addr not in self.own_addresses:
                self.ifaces.remove(ifname, addr, plen)

    # -- groups ---------------------------------------------------------------------------------
    def my_groups(self) -> dict[str, dict]:
        return sync.member_groups(self.store, self.device)

    def failover_group(self) -> tuple[str, dict] | None:
        for p, v in sorted(self.my_groups().items()):
            if v.get("type") == "sync-failover":
                return p, v
        return None

    def _reconfigure(self) -> None:
        fg = self.failover_group()
        peers: dict[str, list[str]] = {}
        groups = []
        if fg and fg[1].get("network-failover") == "enabled":
            for name in fg[1]["devices"]:
                if name != self.device:
                    info = self.peers.get(name, {}).get("device", {})
                    peers[name] = list(info.get("unicast-address") or [])
            for path, tg in sorted(self.store.of_type("cm traffic-group").items()):
                if path == LOCAL_ONLY:
                    continue
                groups.append(TrafficGroup(base_name(path), tuple(tg.get("ha-order") or ()),
                                           tg.get("auto-failback-enabled") == "true",
                                           float(tg.get("auto-failback-time", 60)), int(tg.get("ha-load-factor", 1))))
        self._act(self.failover.configure(groups, peers, trio.current_time()))
        self._reconcile_addresses()
        self._wake.set()

    # -- failover -------------------------------------------------------------------------------
    async def _send_heartbeats(self) -> None:
        while True:
            addresses = [a for p in self.failover.peers.values() for a in p.paths]
            if addresses:
                await self.heartbeats.send(self.failover.payload(), addresses)
            await trio.sleep(self.interval)

    async def _receive_heartbeats(self) -> None:
        async for addr, msg in self.heartbeats.receive():
            self._act(self.failover.heartbeat(msg["device"], addr, msg, trio.current_time()))

    async def _ticker(self) -> None:
        while True:
            with trio.move_on_at(self.failover.next_deadline(trio.current_time())):
                await self._wake.wait()
            self._act(self.failover.tick(trio.current_time()))
            self._wake = trio.Event()   # after _act: its own wake-up is no news (else this loop spins)

    def _act(self, actions: list) -> None:
        changed = False
        for a in actions:
            if isinstance(a, Log):
                self.log.log(a.level, "sod", a.text, a.msgid, event="failover-path")
            elif isinstance(a, BecomeActive):
                self.log.log("notice", "sod", f"Active for traffic group {a.tg}: {a.reason}",
                             event="failover", tg=a.tg, state="active")
                changed = True
            elif isinstance(a, BecomeStandby):
                self.log.log("notice", "sod", f"Standby for traffic group {a.tg}: {a.reason}",
                             event="failover", tg=a.tg, state="standby")
                changed = True
            elif isinstance(a, Announce):
                self.log.log("warning", "sod", f"Announcing {a.tg} again: {a.reason}", event="announce", tg=a.tg)
                self._start_garp(a.tg)
        if changed:
            self._reconcile_addresses()
            self._broadcast_status()
            self.events.publish(FailoverStateChanged())
        self._wake.set()

    def active_groups(self) -> set[str]:
        return {tg for tg, s in self.failover.state.items() if s == ACTIVE}

    def _desired_addresses(self) -> dict[tuple[str, str, int], str]:
        active = {f"/Common/{tg}" for tg in self.active_groups()}
        want = {}
        for _path, v in self.store.of_type("net self").items():
            if v.get("traffic-group") in active:
                iface = ipaddress.ip_interface(v["address"])
                want[(base_name(v["vlan"]), str(iface.ip), iface.network.prefixlen)] = base_name(v["traffic-group"])
        if active:
            nets = [(n, ipaddress.ip_network(f"{a}/{p}", strict=False)) for n, a, p in self.ifaces.addresses()
                    if a in self.own_addresses and n != "lo"]
            for _path, v in self.store.of_type("ltm virtual-address").items():
                if v.get("traffic-group") in active and v.get("enabled", "yes") == "yes":
                    ip = ipaddress.ip_address(v["address"])
                    for ifname, net in nets:
                        if ip in net:
                            want[(ifname, str(ip), 32)] = base_name(v["traffic-group"])
                            break
        return want

    def _reconcile_addresses(self) -> None:
        want = self._desired_addresses()
        for key in [k for k in self.floating if k not in want]:
            self.ifaces.remove(*key)
            del self.floating[key]
        fresh = set()
        for key, tg in want.items():
            if key not in self.floating and self.ifaces.add(*key):
                self.floating[key] = tg
                fresh.add(tg)
        for tg in list(self.garp_scopes):
            if tg not in self.active_groups():
                self.garp_scopes.pop(tg).cancel()
        for tg in fresh:
            self._start_garp(tg)

    async def _refresh_addresses(self) -> None:
        while True:
            await trio.sleep(REFRESH)
            for key in list(self.floating):
                self.ifaces.add(*key)

    def _start_garp(self, tg: str) -> None:
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

    def standby(self, tg: str | None) -> None:
        try:
            self._act(self.failover.standby(f"{base_name(tg)}" if tg else None, trio.current_time()))
        except FailoverError as exc:
            raise CMError(str(exc)) from None

    def offline(self) -> None:
        """Forced Offline: gives up every traffic group and stays so across restarts."""
        if self.forced_offline_path:
            self.forced_offline_path.write_text("forced offline\n")
        self._act(self.failover.offline(trio.current_time()))
        self._broadcast_status()

    def online(self) -> None:
        if self.forced_offline_path:
            self.forced_offline_path.unlink(missing_ok=True)
        self._act(self.failover.online(trio.current_time()))
        self._broadcast_status()

    # -- status messages ------------------------------------------------------------------------
    def _device_info(self) -> dict:
        own = self.store.get("cm device", f"/Common/{self.device}") or {}
        return {k: own.get(k) for k in ("configsync-ip", "unicast-address", "management-ip")}

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def _status_message(self) -> m.CmStatus:
        return m.CmStatus(self.boot, self._next_seq(), self.store.cid.to_list() if self.store.cid else None,
                          dict(self.store.synced), self._device_info(),
                          self.failover.payload() if self.failover else {})

    def _trust_message(self) -> m.TrustConfig:
        return m.TrustConfig(list(self.store.trust_gen), self.store.snapshot("trust"))

    def _opened(self, event: ChannelOpened) -> None:
        if event.outbound:
            self.sync.opened(event.peer)
            self._nursery.start_soon(self._hello, event.peer)
        self._check_sync_status()

    async def _hello(self, peer: str) -> None:
        await self.iquery.send_to(peer, self._status_message())
        await self.iquery.send_to(peer, self._trust_message())

    def _broadcast_status(self) -> None:
        if self._nursery is None:
            return
        msg = self._status_message()
        for peer in self.iquery.store.peers():
            self._nursery.start_soon(self.iquery.send_to, peer.name, msg)
        self._check_sync_status()

    def _check_sync_status(self) -> None:
        """Publish SyncStatusChanged if the overall sync status is not what it was."""
        if self._sync_was is None:
            return
        status = self.sync_status()["status"]
        if status != self._sync_was:
            was, self._sync_was = self._sync_was, status
            self.events.publish(SyncStatusChanged(status, was))

    async def _on_status(self, channel, msg: m.CmStatus) -> None:
        peer = channel.peer
        device = self.peers.get(peer, {}).get("device")
        self.store.observe(Cid.of(msg.cid))
        actions = self.sync.status(self._local(), peer, msg, self.iquery.connected, time.time())
        if device != self.peers.get(peer, {}).get("device"):
            self._reconfigure()
        for action in actions:
            if isinstance(action, sync.SendStatus):   # the peer (re)started: it may know nothing of us
                await channel.send(self._status_message())
        self._sync_act(actions)
        self._check_sync_status()

    async def _on_trust(self, channel, msg: m.TrustConfig) -> None:
        try:
            changed = self.store.apply_trust(msg.objects, msg.gen)
        except ConfigError as exc:
            self.log.log("err", "mcpd", f"Device group configuration from {channel.peer} refused: {exc}")
            return
        if changed:
            self.log.log("notice", "mcpd", f"Device group configuration updated from {channel.peer}",
                         event="trust-config")

    # -- commits and pushes ---------------------------------------------------------------------
    def _on_commit(self, result: ConfigCommitted) -> None:
        if self._nursery is None:
            return
        local = result.origin == self.device
        if result.trust and local:
            msg = self._trust_message()
            for peer in self.iquery.store.peers():
                self._nursery.start_soon(self.iquery.send_to, peer.name, msg)
        if any(c.type in ("cm device-group", "cm traffic-group", "cm device", "net self", "ltm virtual-address")
               for c in result.changes):
            self._reconfigure()
        self._broadcast_status()
        if result.synced and local:
            self._sync_act(self.sync.committed(self._local(), self.iquery.connected))

    def _local(self) -> sync.Local:
        groups = {p: sync.Group(p, tuple(dg.get("devices", [])), dg.get("type"), dg.get("auto-sync") == "enabled",
                                dg.get("full-sync") == "enabled")
                  for p, dg in self.my_groups().items()}
        synced = {g: Cid.of(c) for g, c in self.store.synced.items()}
        return sync.Local(self.device, self.store.cid, synced, groups)

    def _sync_act(self, actions: list) -> None:
        for a in actions:
            if isinstance(a, sync.Push):
                self._nursery.start_soon(self._push, a)
            elif isinstance(a, sync.MarkSynced):
                self.store.mark_synced(a.group, a.cid)
                self._broadcast_status()
            elif isinstance(a, sync.Refused):
                self.log.log("err", "mcpd", f"Sync Failure: {a.peer} refused the configuration: {a.error}",
                             event="sync-failure", peer=a.peer)
                self._check_sync_status()

    async def _push(self, push: sync.Push) -> None:
        """Send our synced configuration (the commits the peer lacks, or all of it) to one peer."""
        them = self.sync.peer_side(push.group, push.peer)
        commits = None if push.full or them is None else self.store.commits_since(them.cid)
        cid = self.store.cid
        dg = self.store.get("cm device-group", push.group) or {}
        cid = cid.to_list() if cid else None
        save = dg.get("save-on-auto-sync") == "true"
        if commits is None:
            msg = m.SyncPush(push.group, "full", cid, objects=self.store.snapshot("synced"), auto=push.auto, save=save)
        else:
            msg = m.SyncPush(push.group, "incremental", cid, commits=commits, auto=push.auto, save=save)
        self.sync.sent(push, await self.iquery.send_to(push.peer, msg))

    async def _on_push(self, channel, msg: m.SyncPush) -> None:
        group, peer = msg.group, channel.peer
        cid = Cid.of(msg.cid)
        outcome = {}
        try:
            if msg.mode == "full":
                self.store.apply_full(msg.objects, cid, peer, group)
            else:
                self.store.apply_incremental(msg.commits, peer, group)
            outcome["ok"] = True
            how = "auto-sync" if msg.auto else "config-sync"
            self.log.log("notice", "mcpd", f"Configuration {msg.mode} {how} from {peer} "
                         f"to group {base_name(group)} applied (commit {cid})", event="sync-applied",
                         peer=peer, mode=msg.mode)
            if msg.auto and msg.save:
                self.save_config()
        except SyncRefused:
            outcome["need_full"] = True
        except ConfigError as exc:
            outcome["error"] = str(exc)
            self.log.log("err", "mcpd", f"Configuration sync from {peer} refused: {exc}", event="sync-refused",
                         peer=peer)
        # seq orders this result among our statuses
        await channel.send(m.SyncResult(group, msg.cid, seq=self._next_seq(), **outcome))
        self._broadcast_status()

    async def _on_result(self, channel, msg: m.SyncResult) -> None:
        self._sync_act(self.sync.result(self._local(), channel.peer, msg, self.iquery.connected))

    async def _on_request(self, channel, msg: m.SyncRequest) -> None:
        await self._push(self.sync.requested(msg.group, channel.peer))

    # -- commands -------------------------------------------------------------------------------
    def _group(self, name: str) -> tuple[str, dict]:
        path = name if name.startswith("/") else f"/Common/{name}"
        dg = self.store.get("cm device-group", path)
        if dg is None:
            raise CMError(f"01070734:3: Configuration error: device group {name} was not found")
        if self.device not in dg.get("devices", []):
            raise CMError(f"01070734:3: Configuration error: this device is not a member of {name}")
        return path, dg

    async def config_sync(self, direction: str, group: str) -> str:
        path, dg = self._group(group)
        peers = [d for d in dg.get("devices", []) if d != self.device]
        down = [p for p in peers if not self.iquery.connected(p)]
        if down:
            raise CMError(f"01070712:3: Caught configuration exception (0), Cannot sync: {', '.join(down)} "
                          "disconnected")
        if direction == "to-group":
            for push in self.sync.to_group(path, peers):
                await self._push(push)
            self._check_sync_status()
            return f"syncing {self.device} to group {group}"
        source = self.sync.newest(peers)
        await self.iquery.send_to(source, m.SyncRequest(path))
        return f"syncing group {group} from {source} to {self.device}"

    def sync_status(self) -> dict:
        groups = {}
        local = self._local()
        for path, g in sorted(local.groups.items()):
            pairs = self.sync.pairs(local, path, self.iquery.connected)
            status = sync.group_status(pairs)
            groups[base_name(path)] = {"status": status, "type": g.type,
                                       "details": {p: s.detail for p, s in pairs.items()},
                                       "pairs": {p: s.status for p, s in pairs.items()}}
        real = [g for g in groups.values()]
        overall = sync.group_status({n: sync.PairStatus(g["status"], "") for n, g in groups.items()}) \
            if real else "Standalone"
        return {"status": overall, "color": sync.COLOR.get(overall, "gray"), "groups": groups,
                "in_flight": sorted(f"{base_name(g)}->{p}" for g, p in self.sync.in_flight),
                "peers": {n: {"cid": i.get("cid"), "synced": i.get("synced")} for n, i in self.peers.items()},
                "synced": dict(self.store.synced),
                "cid": str(self.store.cid) if self.store.cid else None}

    def failover_status(self) -> dict:
        fo = self.failover
        peers = {}
        for name, p in fo.peers.items():
            peers[name] = {"alive": p.alive, "state": p.payload.get("state"),
                           "paths": {a: ("up" if not path.lost else "down") for a, path in p.paths.items()}}
        split = {}
        for tg, st in fo.state.items():
            if st != ACTIVE:
                continue
            also = [n for n, info in self.peers.items() if self.iquery.connected(n)
                    and info.get("failover", {}).get("tgs", {}).get(tg) == ACTIVE]
            also += [n for n in fo.split_brain.get(tg, ()) if n not in also]
            lost = [n for n, p in fo.peers.items() if not p.alive]
            if also:
                split[tg] = f"SPLIT BRAIN: {tg} is also active on {', '.join(also)}"
            elif lost:
                split[tg] = f"possible split brain: no failover status from {', '.join(lost)} on any path"
        return {"device": self.device, "state": fo.device_state(), "traffic_groups": dict(fo.state),
                "peers": peers, "split_brain": split, "timeout": self.timeout, "interval": self.interval,
                "floating": [f"{a}/{pl} on {i} ({tg})" for (i, a, pl), tg in sorted(self.floating.items())],
                "garps_sent": self.garps_sent, "bad_heartbeats": self.heartbeats.bad}
