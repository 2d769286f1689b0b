"""The config sync driver (trio): cm-status, trust-config and sync messages on 4353, and the
commands `run cm config-sync`. Decisions (what to push, to whom, statuses) live in sync.py's
ConfigSync; this module builds and sends the messages and applies what peers send.

4353 messages (node/iquery/messages.py; replies go back on the channel they came on):
  CmStatus      {boot, seq, cid, synced, device, failover, synced_at}  on connect, on every change
                                                 and every RECHECK seconds
  TrustConfig   {gen, objects}                   device groups and traffic groups
  SyncPush      {group, mode, cid, commits|objects, auto, save}
  SyncResult    {group, cid, ok, error, need_full, seq}
  SyncRequest   {group}                          "from-group": please push to me
"""
from __future__ import annotations

import time

import trio

from ..config.schema import base_name
from ..config.store import ANY, Cid, ConfigError, ConfigStore, SyncRefused
from ..events import (ChannelClosed, ChannelOpened, ConfigCommitted, FailoverStateChanged, HealthChanged, Hub,
                      PeerDeviceChanged, SyncStatusChanged)
from ..iquery import messages as m
from . import sync
from ..errors import Invalid, SyncFailed
from .sync import member_groups


# seconds between the cm-status each device sends its peers unasked, as mcpd rechecks its peers'
# commit ids now and then: a device that missed a commit's status (a datagram, a channel that
# dropped just then) sees the change within this
RECHECK = 5.0


class SyncDriver:
    def __init__(self, device: str, store: ConfigStore, iquery, log, events: Hub, save_config,
                 failover_payload):
        """`iquery`: the 4353 transport (handle, send_to, connected, and the trust store's peers);
        `failover_payload()`: this device's failover state, carried in cm-status."""
        self.device, self.store, self.iquery, self.log, self.events = device, store, iquery, log, events
        self.save_config, self.failover_payload = save_config, failover_payload
        self.sync = sync.ConfigSync(device)   # peers' statuses, pushes in flight, failures
        self.boot = f"{time.time():.6f}"       # tells peers this daemon run from the previous one
        self.seq = 0                           # numbers our statuses within this run
        self._sync_was: str | None = None      # the overall sync status last published
        # groups synchronized outside our commits (the GTM sync group, set by the daemon):
        # name -> (our generation, {peer: its generation})
        self.generation_groups = lambda: {}
        self._nursery: trio.Nursery | None = None

    @property
    def peers(self) -> dict[str, dict]:
        """name -> the peer's last cm-status (cid, synced, device, failover, boot, seq, at)."""
        return self.sync.peers

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        for kind, handler in ((m.CmStatus, self._on_status), (m.TrustConfig, self._on_trust),
                              (m.SyncPush, self._on_push), (m.SyncResult, self._on_result),
                              (m.SyncRequest, self._on_request)):
            self.iquery.handle(kind, handler)
        self.events.subscribe(ChannelOpened, self._opened)
        self.events.subscribe(ChannelClosed, self._closed)
        self.events.subscribe(ConfigCommitted, self._on_commit)
        self.events.subscribe(HealthChanged, lambda _e: self._broadcast_status())
        self.events.subscribe(FailoverStateChanged, lambda _e: self._broadcast_status())
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            self._sync_was = self.sync_status()["status"]
            task_status.started()
            while True:   # the nursery stays open for pushes and status sends
                await trio.sleep(RECHECK)
                self._broadcast_status()

    # -- status messages ------------------------------------------------------------------------
    def _device_info(self) -> dict:
        own = self.store.get("cm device", f"/Common/{self.device}") or {}
        return {k: own.get(k) for k in ("configsync-ip", "unicast-address", "management-ip",
                                          "mirror-ip", "mirror-secondary-ip", "multicast-interface",
                                          "multicast-ip", "multicast-port")}

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def _status_message(self) -> m.CmStatus:
        return m.CmStatus(self.boot, self._next_seq(), self.store.cid.to_list() if self.store.cid else None,
                          dict(self.store.synced), self._device_info(),
                          self.failover_payload(), dict(self.store.synced_at))

    def _trust_message(self) -> m.TrustConfig:
        return m.TrustConfig(list(self.store.trust_gen), self.store.snapshot("trust"))

    def _opened(self, event: ChannelOpened) -> None:
        if event.outbound:
            self.sync.opened(event.peer)
            self._nursery.start_soon(self._hello, event.peer)
        else:   # the peer reconnected: our current status lets it decide its pushes afresh
            self._nursery.start_soon(self.iquery.send_to, event.peer, self._status_message())
        self._check_sync_status()

    def _closed(self, event: ChannelClosed) -> None:
        self.sync.closed(event.peer)
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

    def restart(self) -> None:
        """As after mcpd's restart: a new run (peers answer with their statuses), failures
        forgotten, our status sent again."""
        self.sync.restarted()
        self.boot = f"{time.time():.6f}"
        self.seq = 0
        self._broadcast_status()

    def recheck(self) -> None:
        """Something the status reads outside our own messages changed (a generation group's
        member, as the daemon tells us): publish SyncStatusChanged if the overall status moved."""
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
            self.events.publish(PeerDeviceChanged(peer))
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
        self._broadcast_status()
        if result.synced and local:
            self._sync_act(self.sync.committed(self._local(), self.iquery.connected))

    def _local(self) -> sync.Local:
        groups = {p: sync.Group(p, tuple(dg.get("devices", [])), dg.get("type"), dg.get("auto-sync") == "enabled",
                                dg.get("full-load-on-sync") == "true")
                  for p, dg in member_groups(self.store, self.device).items()}
        synced = {g: Cid.of(c) for g, c in self.store.synced.items()}
        return sync.Local(self.device, self.store.cid, synced, groups, self.store.past())

    def _sync_act(self, actions: list) -> None:
        for a in actions:
            if isinstance(a, sync.Push):
                self._nursery.start_soon(self._push, a)
            elif isinstance(a, sync.MarkSynced):
                try:
                    self.store.mark_synced(a.group, a.cid)
                except ConfigError as exc:     # a full disk: the group stays unsynced, the daemon runs
                    self.log.log("err", "mcpd", str(exc))
                    continue
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
            base = them.cid.to_list() if push.auto and them and them.cid else None
            msg = m.SyncPush(push.group, "full", cid, objects=self.store.snapshot("synced"), auto=push.auto, save=save,
                             base=base)
        else:
            msg = m.SyncPush(push.group, "incremental", cid, commits=commits, auto=push.auto, save=save)
        self.sync.sent(push, await self.iquery.send_to(push.peer, msg))

    async def _on_push(self, channel, msg: m.SyncPush) -> None:
        group, peer = msg.group, channel.peer
        cid = Cid.of(msg.cid)
        outcome = {}
        try:
            if msg.mode == "full":
                self.store.apply_full(msg.objects, cid, peer, group, base=Cid.of(msg.base) if msg.auto else ANY)
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
            raise Invalid(f"device group {name} was not found")
        if self.device not in dg.get("devices", []):
            raise Invalid(f"this device is not a member of {name}")
        return path, dg

    async def config_sync(self, direction: str, group: str) -> str:
        path, dg = self._group(group)
        peers = [d for d in dg.get("devices", []) if d != self.device]
        down = [p for p in peers if not self.iquery.connected(p)]
        if down:
            raise SyncFailed(f"{', '.join(down)} disconnected")
        if direction == "to-group":
            for push in self.sync.to_group(path, peers):
                await self._push(push)
            self._check_sync_status()
            return f"syncing {self.device} to group {group}"
        source = self.sync.newest(peers)
        await self.iquery.send_to(source, m.SyncRequest(path))
        return f"syncing group {group} from {source} to {self.device}"

    def _connected_for(self, peers: set[str]) -> dict[str, float | None]:
        """Each peer with a channel up: for how long (seconds), as the sync status says it."""
        links = getattr(self.iquery, "links", {})
        return {n: (time.time() - links[n].since if n in links else 0.0) for n in peers if self.iquery.connected(n)}

    def sync_status(self) -> dict:
        groups, all_pairs = {}, {}
        local = self._local()
        every = [(base_name(path), g.type, self.sync.pairs(local, path, self.iquery.connected))
                 for path, g in sorted(local.groups.items())]
        every += [(name, "sync-only", sync.generation_pairs(mine, peers, self.iquery.connected))
                  for name, (mine, peers) in sorted(self.generation_groups().items())]
        for name, kind, pairs in every:
            status = sync.group_status(pairs)
            all_pairs[name] = (status, pairs)
            groups[name] = {"status": status, "type": kind,
                            "details": {p: s.detail for p, s in pairs.items()},
                            "pairs": {p: s.status for p, s in pairs.items()}}
        real = [g for g in groups.values()]
        overall = sync.group_status({n: sync.PairStatus(g["status"], "") for n, g in groups.items()}) \
            if real else sync.STANDALONE
        summary, lines = sync.describe(
            overall, all_pairs, self._connected_for({p for _, pairs in all_pairs.values() for p in pairs}))
        return {"status": overall, "color": sync.COLOR.get(overall, "gray"), "summary": summary, "details": lines,
                "groups": groups,
                "in_flight": sorted(f"{base_name(g)}->{p}" for g, p in self.sync.in_flight),
                "peers": {n: {"cid": i.get("cid"), "synced": i.get("synced"), "synced_at": i.get("synced_at") or {}}
                          for n, i in self.peers.items()},
                "synced_at": dict(self.store.synced_at),
                "synced": dict(self.store.synced),
                "cid": str(self.store.cid) if self.store.cid else None}
