"""BIG-IP DNS on a node (trio): listeners, health from the LTMs over iQuery, the GTM sync group.

Decisions live in topology.py, lb.py, view.py and answer.py; this module moves messages and
keeps the answerer's view current: compiled again after every configuration change, every
health message that changes an availability, whenever a channel opens or closes, and when an
LTM's data goes stale (a deadline: the next moment some device's last update gets too old).

GTM sync group (gtm global-settings general synchronization yes, synchronization-group-name G):
GTMs in one group share their gtm configuration; the newest (a Lamport generation, bumped on every
local gtm change) wins. Messages on 4353:
  gtm-subscribe {sync: {group, enabled, gen}}   on channel open and after each gtm change
  gtm-config    {group, gen, objects}            to a group member that is behind
"""
from __future__ import annotations

import math
import time

import trio

from ..config.schema import GTM_SETTINGS, base_name
from ..config.store import ConfigError
from ..events import ChannelClosed, ChannelOpened, ConfigCommitted, GtmPeerStatus, Hub
from ..iquery import messages as m
from ..reconcile import reconcile
from . import probes
from .answer import Answerer
from .health import HealthTable
from .listener import Listener
from .view import compile_view, vs_status

COLOUR = {"available": "green", "offline": "red", "unknown": "blue"}


class GTM:
    def __init__(self, device: str, store, iquery, log, events: Hub, subscribed=lambda peer: False, run_external=None):
        """`subscribed(peer)`: whether that peer's GTM takes this device's health (status only);
        `run_external(settings, address, port, timeout)`: runs an external monitor's script once
        (the LTM's runner), None when it finds the target up, else why not."""
        self.device, self.store, self.iquery, self.log, self.events = device, store, iquery, log, events
        self.subscribed = subscribed
        self.run_external = run_external
        self.probes: dict[probes.Key, tuple[probes.Spec, trio.CancelScope, probes.Probe]] = {}
        self.health = HealthTable()
        self.answerer = Answerer()
        self.view = self.answerer.view
        self.listeners: dict[str, tuple[tuple, trio.CancelScope, Listener]] = {}
        self.listeners_stopped = False   # the DNS listeners crashed (system failsafe)
        self.sync_peers: dict[str, dict] = {}     # peer -> {group, enabled, gen, at}
        self.synced_from: dict[str, float] = {}
        self._nursery = None
        self._unsent: list[tuple[str, m.Message]] = []   # sends decided before run's nursery opened
        self._states = None
        self._wake = trio.Event()
        # Taken from construction: the 4353 channels open before this service's task starts, and a
        # GTM configuration push or health message that arrived then would be lost until the next.
        self.iquery.handle(m.GtmHealth, self._on_health)
        self.iquery.handle(m.GtmConfig, self._on_config)
        self.events.subscribe(ChannelOpened, self._opened)
        self.events.subscribe(ChannelClosed, lambda _e: self._wake.set())
        self.events.subscribe(GtmPeerStatus, self._on_peer_status)
        self.events.subscribe(ConfigCommitted, self._on_commit)

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            for peer, msg in self._unsent:
                nursery.start_soon(self.iquery.send_to, peer, msg)
            self._unsent.clear()
            self.reconcile_listeners()
            self.reconcile_probes()
            self.recompile()
            nursery.start_soon(self._ticker)
            task_status.started()

    # -- the view ---------------------------------------------------------------------------------
    def recompile(self) -> None:
        now = trio.current_time()
        old = self.view
        self.view = compile_view(self.store.objects, self.health, now, self.iquery.connected,
                                 probes.verdicts(self.store.objects, {k: p for k, (_, _, p) in self.probes.items()}))
        self.answerer.set_view(self.view)
        self._states = self._server_states()
        self._log_changes(old, self.view)

    def _log_changes(self, old, new) -> None:
        """Status changes as gtmd logs them (SNMP_TRAP lines, colours green/red/blue)."""
        for (pool, member), st in new.members.items():
            before = old.members.get((pool, member))
            if before is not None and before.state != st.state:
                server, vs = member.rsplit(":", 1)
                self.log.log("alert", "gtmd", f"SNMP_TRAP: VS /Common/{vs} (Server {server}) in pool {pool} state "
                             f"change {COLOUR[before.state]} --> {COLOUR[st.state]} ({st.reason})", "011a1004",
                             event="gtm-member", member=f"{pool} {member}", state=st.state)
        for key, pool in new.pools.items():
            before = old.pools.get(key)
            if before is not None and before.available != pool.available:
                colours = ("red", "green") if pool.available else ("green", "red")
                self.log.log("alert", "gtmd", f"SNMP_TRAP: Pool {pool.name} state change {colours[0]} --> "
                             f"{colours[1]}" + ("" if pool.available else " (No enabled pool members available)"),
                             "011a3004", event="gtm-pool", pool=pool.name, available=pool.available)

    def _server_states(self) -> dict:
        return {p: s.state for p, s in self.view.servers.items()}

    async def _ticker(self) -> None:
        """Look again when woken (a channel closed) or when some device's data turns stale."""
        while True:
            with trio.move_on_at(self._next_stale()):
                await self._wake.wait()
            self._wake = trio.Event()
            self._recheck()

    def _next_stale(self) -> float:
        now = trio.current_time()
        later = [d.at + self.health.stale_after for d in self.health.devices.values()
                 if d.at + self.health.stale_after >= now]
        return min(later, default=math.inf) + 0.001   # just past: stale is "older than"

    def _recheck(self, force: bool = False) -> None:
        """Compile the view again if a server's iQuery state changed (logging it), or if `force`."""
        now = trio.current_time()
        states = {p: self.health.server([a["name"] for a in s.get("addresses") or []], now,
                                        self.iquery.connected).state
                  for p, s in self.store.of_type("gtm server").items()}
        if force or states != self._states:
            for p, st in states.items():
                if self._states is not None and self._states.get(p) not in (None, st):
                    self.log.log("notice", "gtmd", f"Server {p} iQuery state {self._states.get(p)} -> {st}",
                                 event="gtm-server-state", server=p, state=st)
            self.recompile()

    # -- iQuery -----------------------------------------------------------------------------------
    def _sync_status(self) -> dict:
        s = self.store.get("gtm global-settings", GTM_SETTINGS) or {}
        return {"group": s.get("synchronization-group-name", "default"),
                "enabled": s.get("synchronization") == "yes", "gen": list(self.store.gtm_gen)}

    def _opened(self, event: ChannelOpened) -> None:
        if event.outbound:
            self._send(event.peer, m.GtmSubscribe(self._sync_status()))
        self._wake.set()

    async def _on_health(self, channel, msg: m.GtmHealth) -> None:
        changed = self.health.update(channel.peer, msg, trio.current_time())
        if changed or any(p.mode == "least-connections" or p.alternate == "least-connections"
                          for p in self.view.pools.values()):
            self._recheck(force=True)   # statistics matter only to least-connections
        else:
            self._recheck()             # stale data may be current again

    def _on_peer_status(self, event: GtmPeerStatus) -> None:
        peer, sync = event.peer, event.sync
        self.sync_peers[peer] = {"group": sync.get("group"), "enabled": bool(sync.get("enabled")),
                                 "gen": list(sync.get("gen") or [0, ""]), "at": time.time()}
        self._maybe_push(peer)

    def group_peers(self) -> list[str]:
        me = self._sync_status()
        if not me["enabled"]:
            return []
        return sorted(p for p, s in self.sync_peers.items() if s["enabled"] and s["group"] == me["group"])

    def sync_group(self) -> dict[str, tuple]:
        """The GTM sync group as a BIG-IP's sync status shows it, the device group `gtm`: our
        generation and each member's ({} while sync is off or no member has spoken)."""
        peers = self.group_peers()
        return {"gtm": (list(self.store.gtm_gen), {p: self.sync_peers[p]["gen"] for p in peers})} if peers else {}

    def _maybe_push(self, peer: str) -> None:
        if peer in self.group_peers() and tuple(self.store.gtm_gen) > tuple(self.sync_peers[peer]["gen"]):
            me = self._sync_status()
            msg = m.GtmConfig(me["group"], list(self.store.gtm_gen), self.store.snapshot("gtm"))
            self.sync_peers[peer]["gen"] = list(self.store.gtm_gen)   # assumed until it says otherwise
            self._send(peer, msg)

    async def _on_config(self, channel, msg: m.GtmConfig) -> None:
        me = self._sync_status()
        if not me["enabled"] or msg.group != me["group"]:
            return
        try:
            changed = self.store.apply_shared("gtm", msg.objects, msg.gen)
        except ConfigError as exc:
            self.log.log("err", "gtmd", f"GTM configuration from {channel.peer} refused: {exc}",
                         event="gtm-sync-refused", peer=channel.peer)
            return
        if changed:
            self.synced_from[channel.peer] = time.time()
            self.log.log("notice", "gtmd", f"GTM configuration synchronized from {channel.peer} "
                         f"(sync group {me['group']}, generation {msg.gen[0]})", event="gtm-synced",
                         peer=channel.peer)
            self._broadcast_status()

    def _broadcast_status(self) -> None:
        msg = m.GtmSubscribe(self._sync_status())
        for peer in self.iquery.store.peers():
            self._send(peer.name, msg)

    def _send(self, peer: str, msg: m.Message) -> None:
        if self._nursery is None:
            self._unsent.append((peer, msg))
        else:
            self._nursery.start_soon(self.iquery.send_to, peer, msg)

    def _on_commit(self, result: ConfigCommitted) -> None:
        if self._nursery is None:
            return
        if any(c.type == "gtm listener" for c in result.changes):
            self.reconcile_listeners()
        if any(c.type.startswith("gtm ") or c.type == "sys file external-monitor" for c in result.changes):
            self.reconcile_probes()
            self.recompile()
        if result.gtm and result.origin == self.device:
            self._broadcast_status()
            for peer in self.group_peers():
                self._maybe_push(peer)

    # -- the prober: external gtm monitors --------------------------------------------------------
    def reconcile_probes(self) -> None:
        """One task per (server, virtual server, external monitor) the configuration asks for; a
        changed monitor or script starts its probe afresh."""
        want = probes.wanted(self.store.objects) if self.run_external is not None else {}
        for key in [k for k, (spec, _, _) in self.probes.items() if want.get(k) != spec]:
            self.probes.pop(key)[1].cancel()
        for key, spec in want.items():
            if key not in self.probes:
                settings = probes.settings_of(spec)
                probe = probes.Probe(trio.current_time(), float(settings.get("timeout") or 120))
                scope = trio.CancelScope()
                self.probes[key] = (spec, scope, probe)
                self._nursery.start_soon(self._probe, key, spec, scope, probe)

    async def _probe(self, key: probes.Key, spec: probes.Spec, scope: trio.CancelScope, probe: probes.Probe) -> None:
        settings = probes.settings_of(spec)
        interval = float(settings.get("interval") or 30)
        with scope:
            while True:
                started = trio.current_time()
                failure = await self.run_external(settings, spec.address, spec.port,
                                                  float(settings.get("probe-timeout") or 5) or interval)
                if probe.took(failure, trio.current_time()):
                    self.log.log("notice", "gtmd", f"Monitor {key[2]} on {key[0]}:{key[1]} ({spec.address}:{spec.port}) "
                                 f"{probe.state}" + (f": {failure}" if failure else ""), event="gtm-monitor",
                                 monitor=key[2], server=key[0], vs=key[1], state=probe.state)
                    self.recompile()
                await trio.sleep_until(started + interval)

    # -- listeners --------------------------------------------------------------------------------
    def reconcile_listeners(self) -> None:
        want = {p: (v["address"], v["port"]) for p, v in self.store.of_type("gtm listener").items()
                if v.get("status", "enabled") == "enabled" and not self.listeners_stopped}
        reconcile(self.listeners, want, self._start_listener)

    def stop_listeners(self) -> None:
        """The DNS listeners crashed (system failsafe): none answers until start_listeners."""
        self.listeners_stopped = True
        self.reconcile_listeners()

    def start_listeners(self) -> None:
        self.listeners_stopped = False
        self.reconcile_listeners()

    def _start_listener(self, path: str, spec: tuple) -> tuple:
        scope = trio.CancelScope()
        listener = Listener(spec[0], spec[1], self.answerer, self.log)
        self._nursery.start_soon(self._listen, path, listener, scope)
        return spec, scope, listener

    async def _listen(self, path: str, listener: Listener, scope: trio.CancelScope) -> None:
        with scope:
            try:
                await listener.run()
            except OSError as exc:
                self.log.log("err", "gtm", f"Listener {base_name(path)} {listener.address}:{listener.port} "
                             f"cannot start: {exc}", event="listener-failed")

    # -- status -----------------------------------------------------------------------------------
    def virtual_status(self, server: str, vs: str):
        """A virtual server's MemberStatus (iControl REST's gtm stats), or None if it is not declared."""
        cfg, sv = self.store.get("gtm server", server), self.view.servers.get(server)
        if cfg is None or sv is None or vs not in {i["name"] for i in cfg.get("virtual-servers") or []}:
            return None
        return vs_status(cfg, vs, sv, self.view.probed.get((server, vs)))[1]

    def status(self) -> dict:
        now = trio.current_time()
        iq = {}
        links = self.iquery.status()["peers"]
        for name, link in links.items():
            d = self.health.devices.get(name)
            iq[name] = {"state": link["state"], "reason": link["reason"], "address": link["address"],
                        "certificate": link.get("certificate"),
                        "last_update_age": round(now - d.at, 3) if d else None,
                        "updates": d.updates if d else 0,
                        "subscribed": self.subscribed(name),
                        "sync": self.sync_peers.get(name)}
        return {"iquery": iq, "sync": {**self._sync_status(), "peers": self.group_peers()},
                "servers": {p: {"device": s.device, "state": s.state, "reason": s.reason,
                                "age": None if s.age is None else round(now - self.health.devices[s.device].at, 3)}
                            for p, s in self.view.servers.items()},
                "members": {f"{p}/{m}": {"state": st.state, "reason": st.reason, "usable": st.usable}
                            for (p, m), st in self.view.members.items()},
                "listeners": {base_name(p): l.stats() for p, (_, _, l) in self.listeners.items()},
                "answerer": {"queries": self.answerer.queries, "misses": self.answerer.misses,
                             "cached": len(self.answerer.cache)},
                "wideips": self.answerer.wideip_stats()}
