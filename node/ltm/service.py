"""The LTM data plane (trio): monitors on every device, virtual servers on the active one.

A virtual server listens on its destination only while this device is active for its virtual
address's traffic group, proxies each connection to a member chosen by the pool's method, and
counts connections and bytes. With no available member a connection is reset. Disabling a member
stops new connections to it; forcing it offline (state user-down) also ends its connections.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Callable

import dns.exception
import trio

from ..events import ConfigCommitted, EphemeraChanged, FailoverStateChanged, HealthChanged, Hub, PeerDeviceChanged
from ..reconcile import reconcile
from ..config import monitor_rules, profiles, route_domains
from ..config.fqdn_checks import is_template
from ..config.schema import (LOCAL_ONLY, PERSIST_BUILTINS, TYPES, base_name, folder_of, full_path, mask_prefix,
                             plain, rd_of, split_destination)
from . import adapt, explicit, fastl4, forge, h2gate, http1, icap, ldap, mirror, mqtt, persist, policies, proxy, snat, tls
from .sip_driver import SipGate, is_sip_udp
from .hooks import Flow, Hook, Outcome, Request, Response, Server
from .http import answer
from .fqdn_driver import FqdnResolution
from .irules import IRules
from .kernel import TRANSPARENT, Kernel, NftError, transparent_return
from .proxy import Refused, fire
from .lb import Balancer, MemberView, pool_status
from .mirror_driver import Mirror
from .monitors import MonitorState, combined, probe

IP_FREEBIND = proxy.IP_FREEBIND  # bind the virtual's address before the failover machine has added it
MONITOR_TYPES = [t for t in TYPES if t.startswith("ltm monitor ")]
# changes the data plane never looks at when it reconciles: data groups are read when a rule runs
# (AS3 keeps its declarations and tasks in data groups), GTM and users are others' business
IGNORED = ("ltm data-group ", "gtm ", "auth user")


def concerns_ltm(changes) -> bool:
    """Whether a commit's changes (store.Change) can change what the data plane serves."""
    return any(not c.type.startswith(IGNORED) for c in changes)


@dataclass
class Stats:
    current: int = 0
    total: int = 0
    bytes_in: int = 0    # client -> server
    bytes_out: int = 0   # server -> client
    refused: int = 0

    def to_dict(self) -> dict:
        return {"cur_conns": self.current, "tot_conns": self.total, "bytes_in": self.bytes_in,
                "bytes_out": self.bytes_out, "refused": self.refused}


def _add(total: Stats, k: Stats) -> None:
    for f in ("current", "total", "bytes_in", "bytes_out"):
        setattr(total, f, getattr(total, f) + getattr(k, f))


@dataclass
class Monitor:
    key: tuple
    state: MonitorState
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)


class LTM:
    def __init__(self, device: str, store, active_groups, log, events: Hub):
        """`active_groups()`: the traffic groups this device is active for (CM's failover)."""
        self.device, self.store, self.active_groups, self.log = device, store, active_groups, log
        self.events = events
        self.balancer = Balancer()
        self.stats: dict[tuple, Stats] = {}
        self.monitors: dict[tuple[str, str, str], Monitor] = {}     # (pool, member, monitor) -> its probing
        self.listeners: dict[str, tuple[tuple, trio.CancelScope]] = {}
        self._listening: dict[str, trio.CancelScope] = {}   # the listeners whose socket listens now
        self.connections: dict[tuple[str, str], set[trio.CancelScope]] = {}
        self.kernel = Kernel()
        self.idle = proxy.Idle()   # oneconnect's reusable server connections
        self.tls = tls.Contexts(store)   # client-ssl and server-ssl
        self.persist = persist.Table()
        self._l4_wanted: list[fastl4.L4Virtual] | None = None
        self._l4_loaded: frozenset[str] = frozenset()   # the virtuals the kernel's table has now
        self._l4_changed = trio.Event()
        self.transparent = False   # SNAT none keeps the client's address (kernel.transparent_return)
        self._l4_renewals = mirror.Renewals()   # kernel persistence records sent to the mirroring peer
        self._paths: dict[tuple, str] = {}   # data_path's answers at store generation _paths_at
        self._paths_at = -1
        self._nursery = None
        self.irules = IRules(store, log)
        # where external monitors' scripts are written to run (the device's own file store)
        self.scripts = store.path.parent / "config/filestore/files_d/external_monitor_run" if store.path else None
        self.stopped: set[str] = set()   # crashed parts: "tmm" (the data plane), "bigd" (the monitors)
        # the published policies, then the iRules, of a virtual server (hooks.Hook), or None
        self.hook_for: Callable[[str], Hook | None] = lambda virtual: policies.hook_for(
            store.get, virtual, self.irules.hook_for(virtual))
        self.mirror = Mirror(log, on_persist=self._mirrored_persist)
        # a traffic group's mirroring peer: its next-active device's mirroring address (set by the daemon)
        self.mirror_peer: Callable[[str], str | None] = lambda traffic_group: None
        self.fqdn = FqdnResolution(store, log, events)   # FQDN nodes, resolved on this device
        self.sip = SipGate(self)   # virtuals with a SIP profile (node/ltm/sip_driver.py)

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                self.events.subscribe(ConfigCommitted, lambda e: self.reconcile() if concerns_ltm(e.changes) else None)
                self.events.subscribe(FailoverStateChanged, lambda _e: self.reconcile())
                self.events.subscribe(EphemeraChanged, lambda _e: self.reconcile())   # FQDN members came or went
                self.events.subscribe(HealthChanged, lambda _e: self._reconcile_fastl4())   # at once
                self.events.subscribe(PeerDeviceChanged, lambda _e: self._reconcile_mirror())
                await nursery.start(self.mirror.run)
                await nursery.start(self.fqdn.run)
                with trio.CancelScope(shield=True):   # a table a killed predecessor left: a standby forwards nothing
                    await self._kernel_start()
                nursery.start_soon(self._fastl4_writer)
                nursery.start_soon(self._fastl4_stats)
                self.reconcile()
                task_status.started()
                await trio.sleep_forever()
        finally:
            with trio.CancelScope(shield=True):
                if self.kernel.chains:
                    await self.kernel.remove()

    async def _kernel_start(self) -> None:
        """The fastL4 table made empty and transparent return's mark rule, in one `nft` run (each
        run is 30 to 70 ms of a daemon's start-up); each on its own if the two fail together, so
        a kernel without the socket expression still gets its table."""
        marked = False
        try:
            await self.kernel.reset(TRANSPARENT)
            marked = True
        except NftError:
            try:
                await self.kernel.reset()
            except NftError:
                pass
        try:
            await transparent_return(marked)
            self.transparent = True
        except (NftError, OSError) as exc:   # SNAT none then leaves from this device's address
            self.log.log("err", "tmm", f"SNAT none cannot keep the client's address: {exc}")

    def stat(self, *key) -> Stats:
        return self.stats.setdefault(key, Stats())

    # -- views ------------------------------------------------------------------------------------
    def monitors_of(self, pool: dict, member: dict | None = None) -> tuple[list[tuple[str, str, dict]], int]:
        """A member's monitors, each (path, kind, settings), and how many of them must find it up
        (its monitor rule: all of them, or `min N of`): its own rule if it has one, else its pool's."""
        rule = (member or {}).get("monitor") or pool.get("monitor", "none")
        listed, need = monitor_rules.quorum(rule)
        found = []
        for path in listed:
            for t in MONITOR_TYPES:
                if (settings := self.store.get(t, path)) is not None:
                    if t == "ltm monitor external":   # its script's text and its name (a changed script restarts it)
                        script = self.store.get("sys file external-monitor", settings.get("run") or "") or {}
                        settings = {**settings, "script": script.get("content"), "name": path}
                    found.append((path, t.removeprefix("ltm monitor "), settings))
                    break
        return found, min(need, len(found))

    def has_monitor(self, pool: dict) -> bool:
        """Whether any member of the pool is monitored (by the pool's rule or its own)."""
        return any(self.monitors_of(pool, m)[0] for m in pool.get("members") or [{}])

    def member_monitor(self, pool_path: str, member: str, monitors: list, need: int) -> tuple[str, Monitor | None]:
        """A member's monitor state under its pool's rule, and its first monitor that finds it down."""
        probes = [self.monitors.get((pool_path, member, path)) for path, _, _ in monitors]
        states = [p.state.state if p else "checking" for p in probes]
        return combined(states, need), next((p for p, st in zip(probes, states) if st == "down"), None)

    def members(self, pool_path: str) -> list[MemberView]:
        pool = self.store.get("ltm pool", pool_path) or {}
        views = []
        for m in pool.get("members") or []:
            if is_template(m):    # an FQDN member: its ephemeral members carry the traffic
                continue
            state = "unchecked"
            monitors, need = self.monitors_of(pool, m)
            if monitors:
                state = self.member_monitor(pool_path, m["name"], monitors, need)[0]
            views.append(MemberView(m["name"], m["address"], int(m["name"].rsplit(":", 1)[1]),
                                    m.get("session", "user-enabled"), m.get("state", "user-up"), state,
                                    int(m.get("ratio", 1)), self.stat("member", pool_path, m["name"]).current))
        return views

    def fqdn_state(self, node: str) -> str:
        """An FQDN node's state as F5 shows it: fqdn-checking, fqdn-up, fqdn-up-no-addr, fqdn-down."""
        return self.fqdn.state(node)

    def virtual_health(self) -> dict:
        """Each virtual server (by full path) with its availability and reason: what GTM reads over
        iQuery. Keyed by full path, as every report here, so `/P1/vs` and `/P2/vs` stay apart."""
        out = {}
        kernel = self._kernel_totals()
        for path, vs in sorted(self.store.of_type("ltm virtual").items()):
            addr, port = split_destination(vs["destination"])
            va = self.store.get("ltm virtual-address", f"{folder_of(vs['destination'])}/{addr}") or {}
            tg = base_name(va.get("traffic-group", "/Common/traffic-group-1"))
            if vs.get("status") == "disabled":
                avail, reason = "offline", "The virtual server is disabled"
            elif vs.get("pool") in (None, "none"):
                avail, reason = "unknown", "The virtual server has no pool"
            else:
                pool = self.store.get("ltm pool", vs["pool"]) or {}
                avail, reason = pool_status(self.members(vs["pool"]), self.has_monitor(pool))
            out[path] = {"destination": f"{addr}:{port}", "pool": vs.get("pool") or "none",
                         "availability": avail, "reason": reason, "traffic_group": tg,
                         "serving": path in self._listening or path in self._l4_loaded,
                         "mirror": vs.get("mirror", "disabled"), "internal": bool(vs.get("internal")),
                         "stats": self.stats_of("virtual", path, kernel=kernel)}
        return out

    def rule_report(self) -> dict:
        """Per iRule, per event: priority, executions, failures, aborts."""
        return self.irules.show()

    def pool_report(self) -> dict:
        """Each pool (by full path) and its members (by full name, `/P/10.1.20.21:80`)."""
        out = {}
        kernel = self._kernel_totals()
        for path, pool in sorted(self.store.of_type("ltm pool").items()):
            members = self.members(path)
            avail, reason = pool_status(members, self.has_monitor(pool))
            out[path] = {
                "availability": avail, "reason": reason, "mode": pool.get("load-balancing-mode"),
                "monitor": monitor_rules.relative(pool.get("monitor") or "none", base_name), "stats": self.stats_of("pool", path, kernel=kernel),
                "members": {m.name: {"availability": m.status[0], "reason": self._reason(path, m),
                                                "session": m.session, "state": m.state, "monitor": m.monitor,
                                                "stats": self.stats_of("member", path, m.name, kernel=kernel)}
                            for m in members}}
        return out

    def pool_counts(self) -> dict[str, tuple[int, int]]:
        """Each pool (full path): (members available, members); what HA groups and gateway
        failsafes read several times a second, so without the statistics pool_report adds."""
        out = {}
        for path in self.store.of_type("ltm pool"):
            views = self.members(path)
            out[path] = (sum(m.status[0] == "available" for m in views), len(views))
        return out

    def _reason(self, pool: str, m: MemberView) -> str:
        mon = None
        if m.monitor == "down":
            values = self.store.get("ltm pool", pool) or {}
            member = next((x for x in values.get("members") or [] if x["name"] == m.name), None)
            mon = self.member_monitor(pool, m.name, *self.monitors_of(values, member))[1]
        reason = m.status[1]
        if mon and mon.state.reason:
            reason += f": {mon.state.reason}"
        return reason

    # -- reconciling ------------------------------------------------------------------------------
    def reconcile(self) -> None:
        self.irules.reconcile()
        if self._nursery is None:
            return
        self._reconcile_monitors()
        self._reconcile_listeners()
        self._reconcile_fastl4()
        self._reconcile_mirror()
        self._end_forced_down()

    def stop(self, part: str) -> None:
        """A part crashed (system failsafe): `tmm` serves nothing, `bigd` runs no monitor."""
        self.stopped.add(part)
        self.reconcile()

    def start(self, part: str) -> None:
        self.stopped.discard(part)
        self.reconcile()

    def _reconcile_monitors(self) -> None:
        want = {}
        for path, pool in self.store.of_type("ltm pool").items() if "bigd" not in self.stopped else ():
            for m in pool.get("members") or []:
                if is_template(m):
                    continue
                for mon_path, kind, settings in self.monitors_of(pool, m)[0]:
                    want[(path, m["name"], mon_path)] = (kind, tuple(sorted(settings.items())), m["address"])
        previous = {}
        for key in list(self.monitors):
            if key not in want or self.monitors[key].key != want[key]:
                old = self.monitors.pop(key)
                old.scope.cancel()
                previous[key] = old.state.state
        for key, spec in want.items():
            if key not in self.monitors:
                settings = dict(spec[1])
                state = MonitorState(trio.current_time(), float(settings.get("timeout", 16)))
                if previous.get(key) == "up":  # a changed monitor does not take a healthy member out
                    state.state, state.last_ok = "up", trio.current_time()
                monitor = Monitor(spec, state)
                self.monitors[key] = monitor
                self._nursery.start_soon(self._monitor, key, monitor)

    async def _monitor(self, key: tuple[str, str, str], monitor: Monitor) -> None:
        kind, settings, address = monitor.key
        settings = dict(settings)
        port = int(key[1].rsplit(":", 1)[1])
        interval = float(settings.get("interval", 5))
        with monitor.scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._monitor_deadline, key, monitor, interval)
                while True:
                    started = trio.current_time()
                    failure = await probe(kind, settings, address, port, self.scripts)
                    if monitor.state.result(failure, trio.current_time()):
                        self._monitor_changed(key, monitor, failure)
                    await trio.sleep_until(started + interval)   # a probe every interval, as bigd's

    async def _monitor_deadline(self, key: tuple[str, str, str], monitor: Monitor, interval: float) -> None:
        """Down the moment `timeout` passes with no success (the HA group scores and the pool's
        members follow at once), not at the result of the probe after it."""
        while True:
            await trio.sleep_until(min(monitor.state.deadline(), trio.current_time() + interval))
            if monitor.state.expire(trio.current_time()):
                self._monitor_changed(key, monitor, monitor.state.reason)

    def _monitor_changed(self, key: tuple[str, str, str], monitor: Monitor, failure: str | None) -> None:
        (pool, member, _), st = key, monitor.state.state
        detail = f"; last error: {failure}" if failure else ""
        self.log.log("notice", "mcpd", f"Pool {pool} member {member} monitor status {st}. "
                     f"[ /Common/{monitor.key[0]}: {st}{detail} ]", "01070638", event="monitor",
                     pool=pool, member=member, state=st)
        self.events.publish(HealthChanged(pool, member, st))

    def serving(self) -> dict[str, tuple[dict, str, int, str]]:
        """The virtuals this device serves now: enabled, on a virtual address of a traffic group
        it is active for. path -> (virtual, address, port, traffic group)."""
        active = {f"/Common/{tg}" for tg in self.active_groups()}
        out = {}
        if "tmm" in self.stopped:
            return out
        for path, vs in self.store.of_type("ltm virtual").items():
            if vs.get("status") == "disabled" or vs.get("internal"):   # an internal one takes no clients
                continue
            addr, port = split_destination(vs["destination"])
            va = self.store.get("ltm virtual-address", f"{folder_of(vs['destination'])}/{addr}") or {}
            if va.get("traffic-group") in active and va.get("enabled", "yes") == "yes":
                out[path] = (vs, addr, port, va["traffic-group"])
        return out

    def data_path(self, vs: dict) -> str:
        """As the profiles say, except that iRules take a fastL4 virtual off the kernel path onto
        the full proxy (as they take one off a BIG-IP's hardware acceleration): its L4 events run.
        Remembered per virtual until the configuration changes (every report asks, for every row)."""
        if self._paths_at != self.store.generation:
            self._paths, self._paths_at = {}, self.store.generation
        key = (tuple(vs.get("profiles") or ()), bool(vs.get("rules")))
        if key not in self._paths:   # a PPTP virtual stays in the kernel (its helper), iRules or not
            path = profiles.data_path(self.store.get, vs)
            self._paths[key] = "tcp" if path == "fastl4" and vs.get("rules") and not profiles.helper(
                self.store.get, vs) else path
        return self._paths[key]

    def in_kernel(self, vs: dict) -> bool:
        """Whether the kernel serves the virtual: a fastL4 one, an ip-forward one (it routes), a
        stateless one (each packet rewritten), a UDP one (the proxy takes TCP, and SIP's datagrams, only)."""
        return bool(vs.get("ip-forward") or vs.get("stateless")) or self.forwards(vs)

    def forwards(self, vs: dict) -> bool:
        """A virtual whose connections the kernel forwards to a member (DNAT, conntrack): a fastL4
        one, and a UDP one without a SIP profile (the proxy serves those), whose datagrams pass as
        they are (DTLS is not ended: its client-ssl and server-ssl profiles are attached, not acting)."""
        if self.data_path(vs) == "fastl4":
            return True
        return vs.get("ip-protocol") == "udp" and not vs.get("ip-forward") and not is_sip_udp(self, vs)

    def _reconcile_listeners(self) -> None:
        want = {path: (addr, port, "udp") if is_sip_udp(self, vs) else (addr, port)
                for path, (vs, addr, port, _) in self.serving().items() if not self.in_kernel(vs)}
        reconcile(self.listeners, want, self._start_listener)

    # -- fastL4: the kernel forwards ------------------------------------------------------------
    def _reconcile_fastl4(self) -> None:
        want = []
        rd_ifaces = route_domains.vrfs(self.store.of_type)
        for path, (vs, addr, port, tg) in sorted(self.serving().items()):
            vlans = {"vlans": tuple(base_name(v) for v in vs.get("vlans") or ()), "vlans_enabled": bool(vs.get("vlans-enabled")),
                     "clones": self._clones(vs)}
            rd, addr = rd_of(addr), plain(addr)
            if rd and not vlans["vlans"]:   # another route domain's: the kernel takes it on that domain's VLANs only
                vlans = {**vlans, "vlans": rd_ifaces.get(rd, ()), "vlans_enabled": True}
            if vs.get("ip-forward"):
                want.append(replace(self._forwarder(path, vs, addr, port, tg), **vlans))
                continue
            pool_path = vs.get("pool")
            pool = self.store.get("ltm pool", pool_path) if pool_path not in (None, "none") else None
            members = [m for m in self.members(pool_path) if m.available] if pool else []
            if not self.forwards(vs) and not vs.get("stateless"):
                if vlans["vlans"] or vlans["vlans_enabled"] or vlans["clones"]:   # the proxy's listener: the kernel
                    # keeps it to its VLANs, and copies its packets to its clone pools (the members: serverside's)
                    want.append(fastl4.L4Virtual(path, addr, port, vs.get("ip-protocol", "tcp"), "round-robin", tuple(
                        fastl4.L4Member(m.name, plain(m.address), m.port) for m in sorted(members, key=lambda m: m.name)),
                        proxied=True, **vlans))
                continue
            mode = (pool or {}).get("load-balancing-mode", "round-robin")
            pooled = tuple(self.snatpool_addresses(vs))
            want.append(fastl4.L4Virtual(path, addr, port, vs.get("ip-protocol", "tcp"),
                                         "ratio-member" if mode == "ratio-member" else "round-robin",
                                         tuple(fastl4.L4Member(m.name, plain(m.address), m.port, m.ratio,
                                                               self._l4_snat(vs, tg, m.address, pooled))
                                               for m in sorted(members, key=lambda m: m.name)),
                                         self._l4_persist(path), stateless=bool(vs.get("stateless")),
                                         helper=profiles.helper(self.store.get, vs),
                                         translate=(vs.get("translate-address") != "disabled",
                                                    vs.get("translate-port") != "disabled"), **vlans))
        if want != self._l4_wanted:
            self._l4_wanted = want
            self._l4_changed.set()

    def _clones(self, vs: dict) -> tuple[fastl4.Clone, ...]:
        """The available members of the virtual's clone pools, each with the interface of the VLAN
        its address is on (a self IP's network), where the kernel sends the copies."""
        out = []
        for item in vs.get("clone-pools") or ():
            for m in sorted(self.members(item["name"]), key=lambda m: m.name):
                if m.available:
                    out.append(fastl4.Clone(plain(m.address), self.vlan_toward(m.address), item.get("context", "clientside"),
                                            item["name"]))
        return tuple(out)

    def vlan_toward(self, address: str) -> str | None:
        """The VLAN (its interface's name) whose self IP's network holds the address, if any."""
        target, rd = ipaddress.ip_address(plain(address)), rd_of(address)
        for s in self.store.of_type("net self").values():
            if target in ipaddress.ip_interface(plain(s["address"])).network and rd_of(s["address"]) == rd \
                    and s.get("vlan"):
                return base_name(s["vlan"])
        return None

    def _forwarder(self, path: str, vs: dict, addr: str, port: int, tg: str) -> fastl4.L4Virtual:
        """An ip-forward virtual for the kernel. SNAT automap leaves from the floating self IP on
        the destination network's VLAN (else from the outgoing interface's address), a snatpool from
        its addresses."""
        how = (vs.get("source-address-translation") or {}).get("type", "none")
        prefix = mask_prefix(vs.get("mask"))
        snat = None
        if how == "automap":
            near = self.automap(tg, addr) if prefix else None
            snat = (near,) if near else ()
        elif how == "snat":
            snat = tuple(plain(a) for a in self.snatpool_addresses(vs)) or None
        return fastl4.L4Virtual(path, addr, port, vs.get("ip-protocol", "tcp"), "round-robin", (), forward=True,
                                prefix=prefix, source=plain(vs.get("source") or "0.0.0.0/0"), snat=snat)

    def _l4_persist(self, path: str) -> tuple[str, int] | None:
        """source_addr persistence of a fastL4 virtual, for the kernel: (mask, timeout; 0 indefinite)."""
        prof = self.persistence(path)
        if prof is None or prof[0] != "source-addr":
            return None
        life = persist.lifetime(prof[1].get("timeout", "180"))
        return prof[1].get("mask", "none"), int(life or 0)

    # -- connection mirroring ---------------------------------------------------------------------
    def _reconcile_mirror(self) -> None:
        """Mirror the connections of the mirrored virtuals served here, one channel a traffic group to
        that group's next-active device; receive on our own mirroring address, on every group's
        channel port, whatever a peer mirrors."""
        if self._nursery is None:
            return
        unit = {path: int(tg.get("unit-id") or 1) for path, tg in self.store.of_type("cm traffic-group").items()
                if tg.get("is-floating", "true") == "true"}
        channels: dict[str, mirror.Channel] = {}
        for path, (vs, addr, port, tg) in sorted(self.serving().items()):
            if vs.get("mirror") != "enabled" or tg not in unit:
                continue
            ch = channels.get(tg) or mirror.Channel(self.mirror_peer(tg), mirror.port_of(unit[tg]))
            if self.forwards(vs):
                ch = replace(ch, virtuals=ch.virtuals | {(addr, port, 17 if vs.get("ip-protocol") == "udp" else 6)})
            channels[tg] = ch
        own = (self.store.get("cm device", f"/Common/{self.device}") or {}).get("mirror-ip")
        self.mirror.configure(channels, {tg: mirror.port_of(n) for tg, n in unit.items()}, mirror.usable(own))

    def _seeds(self, want: list[fastl4.L4Virtual]) -> tuple[dict[str, list[fastl4.Seed]], list[persist.Record]]:
        """Records the peer mirrored for fastL4 virtuals now loaded here, as seeds for their kernel maps."""
        now, seeds, used = trio.current_time(), {}, []
        paths = {vs.path: vs for vs in want if vs.persist is not None}
        for r in self.persist.live(now):
            vs = paths.get(r.virtual)
            if vs is not None and any(m.name == r.member for m in vs.members):
                left = None if r.expires is None else r.expires - now
                seeds.setdefault(vs.path, []).append(fastl4.Seed(r.value, fastl4.mark_of(r.member), left))
                used.append(r)
        return seeds, used

    def _mirror_kernel_records(self) -> None:
        """The kernel's persistence records of mirrored fastL4 virtuals, new or renewed, to the peer."""
        records = {(r.virtual, r.value): r for r in self._kernel_records()
                   if (self.store.get("ltm virtual", r.virtual) or {}).get("mirror") == "enabled"}
        now = trio.current_time()
        for key in self._l4_renewals.due({k: (r.member, r.expires) for k, r in records.items()}):
            r = records[key]
            self.mirror.persist(persist.to_wire(r, None if r.expires is None else r.expires - now),
                                self.traffic_group_of(self.store.get("ltm virtual", r.virtual) or {}))

    def _mirrored_persist(self, r: dict) -> None:
        """A persistence record the peer mirrored to us (its remaining lifetime, or None)."""
        try:   # a fastL4 virtual's record goes into the kernel's map when this device takes the virtual over
            self.persist.put(persist.from_wire(r, trio.current_time()))
        except (KeyError, TypeError, ValueError):
            self.log.log("warning", "tmm", "Connection mirroring: a malformed persistence record was dropped")

    def automap(self, traffic_group: str, toward: str) -> str | None:
        """SNAT automap's source toward an address: the floating self IP of the virtual's traffic
        group on that address's VLAN (return traffic then survives a failover), else the
        device's own self IP there (never another group's floating one: the device active for that
        group, perhaps another, would get the answers)."""
        target, rd = ipaddress.ip_address(plain(toward)), rd_of(toward)
        mine = []
        for s in self.store.of_type("net self").values():
            iface = ipaddress.ip_interface(plain(s["address"]))
            tg = s.get("traffic-group", LOCAL_ONLY)
            if target in iface.network and rd_of(s["address"]) == rd and tg in (traffic_group, LOCAL_ONLY):
                mine.append((tg != traffic_group, str(iface.ip)))
        return min(mine)[1] if mine else None

    async def _fastl4_writer(self) -> None:
        while True:
            await self._l4_changed.wait()
            self._l4_changed = trio.Event()
            want = self._l4_wanted or []
            if not want and not self.kernel.chains:
                continue
            seeds, used = self._seeds(want)
            try:
                await self.kernel.apply(want, seeds)
                self.persist.drop(used)     # in the kernel's maps now
            except NftError as exc:
                self.log.log("err", "tmm", f"fastL4 rules could not be loaded: {exc}")
            else:
                self._l4_loaded = frozenset(v.path for v in want)   # serving once the kernel has its rules
                self.log.log("info", "tmm", f"fastL4: {len(want)} virtual server(s) in the kernel",
                             event="fastl4", virtuals=[v.path for v in want])

    async def _fastl4_stats(self) -> None:
        while True:
            await trio.sleep(1)
            if self._l4_wanted:   # two processes a second (nft, conntrack): only while the kernel forwards a virtual
                try:
                    await self.kernel.refresh()
                except (NftError, OSError) as exc:
                    self.log.log("warning", "tmm", f"fastL4 statistics could not be read: {exc}")
                else:
                    self._mirror_kernel_records()

    def _kernel_stats(self, path: str, vs: dict) -> dict[tuple, Stats]:
        """The kernel's counters for one fastL4 virtual, as the proxy's Stats (virtual, pool, members)."""
        values = self.kernel.values
        out: dict[tuple, Stats] = {}
        pool_path = vs.get("pool")
        addr, port = split_destination(vs["destination"])
        addr = plain(addr)

        def read(key, conns, bin_, bout, current):
            s = out.setdefault(key, Stats())
            s.total += values.get(conns, (0, 0))[0]
            s.bytes_in += values.get(bin_, (0, 0))[1]
            s.bytes_out += values.get(bout, (0, 0))[1]
            s.current += current

        if vs.get("ip-forward"):   # connections into its network (to its port)
            network = ipaddress.ip_network(f"{addr}/{mask_prefix(vs.get('mask'))}", strict=False)
            opened = {k: n for k, n in self.kernel.open.items()
                      if ipaddress.ip_address(k[0]) in network and port in (0, k[1])}
        else:
            opened = {k: n for k, n in self.kernel.open.items() if k[0] == addr and k[1] == port}
        read(("virtual", path), *fastl4.virtual_counters(path), sum(opened.values()))
        for m in (self.store.get("ltm pool", pool_path) or {}).get("members") or [] if pool_path else []:
            if is_template(m):
                continue
            mport = int(m["name"].rsplit(":", 1)[1])
            current = sum(n for k, n in opened.items() if k[2] == plain(m["address"]) and k[3] == mport)
            read(("member", pool_path, m["name"]), *fastl4.member_counters(path, m["name"]), current)
            read(("pool", pool_path), *fastl4.member_counters(path, m["name"]), current)
        return out

    def _kernel_totals(self) -> dict[tuple, Stats]:
        """The kernel's counters of every fastL4 virtual, summed per statistics key; a report reads
        them once for all its rows."""
        out: dict[tuple, Stats] = {}
        for path, vs in self.store.of_type("ltm virtual").items():
            if self.in_kernel(vs):
                for key, k in self._kernel_stats(path, vs).items():
                    _add(out.setdefault(key, Stats()), k)
        return out

    def stats_of(self, *key, kernel: dict[tuple, Stats] | None = None) -> dict:
        """Proxy and kernel statistics together, as `show ltm` prints them (`kernel`: the
        report's _kernel_totals, else read now)."""
        total = Stats(**vars(self.stat(*key)))
        k = (self._kernel_totals() if kernel is None else kernel).get(key)
        if k:
            _add(total, k)
        return total.to_dict()

    def _start_listener(self, path: str, spec: tuple) -> tuple:
        scope = trio.CancelScope()
        self._nursery.start_soon(self.sip.listen_udp if len(spec) == 3 else self._listen, path, spec, scope)
        return spec, scope

    def _end_forced_down(self) -> None:
        for (pool, member), scopes in self.connections.items():
            m = next((x for x in (self.store.get("ltm pool", pool) or {}).get("members") or []
                      if x["name"] == member), None)
            if m is None or m.get("state") == "user-down":
                for scope, _ in scopes:
                    scope.cancel()

    # -- the proxy ------------------------------------------------------------------------------
    async def _listen(self, path: str, spec: tuple[str, int], scope: trio.CancelScope) -> None:
        addr, port = spec
        with scope:
            sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
            try:
                await sock.bind((proxy.in_route_domain(sock, addr), port))   # a route domain's: in its VRF
            except OSError as exc:
                self.log.log("err", "tmm", f"Virtual server {path} cannot listen on {addr}:{port}: {exc}")
                self.listeners.pop(path, None)
                return
            sock.listen(256)
            self._listening[path] = scope   # serving only now: a client's first connection is never refused
            self.log.log("info", "tmm", f"Virtual server {path} serving {addr}:{port}", event="virtual-up")
            try:
                async with trio.open_nursery() as handlers:
                    await trio.serve_listeners(partial(self._connection, path), [trio.SocketListener(sock)],
                                               handler_nursery=handlers)
            finally:
                if self._listening.get(path) is scope:   # not a newer listener of the same virtual
                    del self._listening[path]

    async def _connection(self, path: str, client: trio.SocketStream) -> None:
        """One client connection; whatever it sends, it ends this connection only."""
        vs = self.store.get("ltm virtual", path) or {}
        hook = self.hook_for(path)
        pool = vs.get("pool") if vs.get("pool") not in (None, "none") else None
        flow = Flow(path, client.socket.getpeername()[:2], client.socket.getsockname()[:2], pool,
                    snat=(vs.get("source-address-translation") or {}).get("type", "none"))
        vstats = self.stat("virtual", path)
        vstats.current += 1
        vstats.total += 1
        scope = trio.CancelScope()
        try:
            with scope:
                fire(hook, "CLIENT_ACCEPTED", flow)
                self._act(flow)
                client_ssl = self.profile_path(vs, "client-ssl")
                ready, bypass, alpn = None, False, None
                h2_profile = self.http2_profile(vs) if self.data_path(vs) == "http" else None
                if client_ssl is not None:
                    profile = self.store.get("ltm profile client-ssl", client_ssl) or {}
                    if profile.get("ssl-forward-proxy") == "enabled":
                        client, ready, bypass = await self._forward_proxy(vs, client, flow, hook, client_ssl, profile)
                    else:
                        ctx = self.tls.client_side(client_ssl, h2gate.offers_alpn(h2_profile))
                        if ctx is None:
                            raise Refused("reset")
                        ldap_mode = self.starttls_mode(vs, "client-ldap")
                        if ldap_mode is None:
                            client = await tls.accept(client, ctx, tls.handshake_timeout(profile))
                        elif ldap_mode != "none":   # none: TLS never starts
                            client = await tls.starttls_accept(client, ctx, ldap_mode, tls.handshake_timeout(profile))
                        alpn = client.selected_alpn_protocol() if isinstance(client, trio.SSLStream) else None
                if self.data_path(vs) != "http" and self.profile_path(vs, "sip") is not None:
                    await self.sip.tcp(vs, client, flow, hook, scope)
                elif h2gate.speaks_h2(h2_profile, alpn) and not bypass:
                    await self._http2(vs, client, flow, hook, scope, h2_profile)
                elif self.data_path(vs) == "http" and not bypass:
                    await self._http(vs, client, flow, hook, scope, ready)
                else:
                    await self._tcp(vs, client, flow, hook, scope, ready)
        except proxy.Answered:
            pass
        except Refused as why:
            vstats.refused += 1
            await (trio.aclose_forcefully(client) if str(why) == "drop" else proxy.reset(client))
        except (trio.BrokenResourceError, trio.ClosedResourceError, trio.TooSlowError, OSError, http1.Bad, ldap.Bad):
            await proxy.reset(client)
        except Exception as exc:   # noqa: BLE001 - garbage on a virtual's port never takes the listener down
            self.log.log("err", "tmm", f"Virtual server {path}: connection from {flow.client[0]} reset: {exc!r}")
            await proxy.reset(client)
        finally:
            vstats.current -= 1
            fire(hook, "CLIENT_CLOSED", flow)
            with trio.CancelScope(shield=True):
                await trio.aclose_forcefully(client)

    async def _forward_proxy(self, vs: dict, client, flow: Flow, hook, path: str, profile: dict):
        """SSL forward proxy: the client's ClientHello read, then bypass (the member gets the
        client's bytes untouched, no TLS ends here) or intercept: TLS to the member first (server-ssl,
        with the client's server name), its certificate forged (node/ltm/forge.py), and the client's
        handshake completed with the forged one. -> (client stream, (picked, server stream), bypass)."""
        timeout = tls.handshake_timeout(profile)
        try:
            hello, first = await proxy.read_hello(client, timeout)
        except forge.NotTls:
            raise Refused("reset") from None
        verdict = forge.decide(profile, flow.client[0], flow.local[0], hello.server_name, self._records)
        picked = self._pick(flow, hook)
        try:
            if verdict == "bypass":
                server = await proxy.connect(picked.address, picked.port, *self.source_of(flow, picked))
            else:
                server = await self._connect(vs, flow, picked, hello.server_name)
        except (OSError, trio.TooSlowError, trio.BrokenResourceError):
            fire(hook, "LB_FAILED", flow)
            raise Refused("reset") from None
        try:
            if verdict == "bypass":
                await server.send_all(first)
                return client, (picked, server), True
            ctx = self.tls.forged(path, server.getpeercert(binary_form=True))
            return await tls.accept(proxy.Prefixed(client, first), ctx, timeout), (picked, server), False
        except BaseException:
            with trio.CancelScope(shield=True):
                await trio.aclose_forcefully(server)
            raise

    def _records(self, name: str) -> list[dict] | None:
        """A data group's records (SSL forward proxy bypass lists), None if there is no such group."""
        group = self.store.get("ltm data-group internal", full_path(name))
        return None if group is None else list(group.get("records") or ())

    @staticmethod
    def _act(flow: Flow) -> None:
        """After an event: a rule's reset or drop ends the connection here."""
        if flow.outcome is not None and flow.outcome.kind in ("reset", "drop"):
            raise Refused(flow.outcome.kind)

    def _select(self, flow: Flow) -> proxy.Picked | None:
        """The member (or node) the rules chose, else the pool's next by its method."""
        t = flow.target
        if t is not None and t.address and not t.pool:     # a node: no pool, no member
            return proxy.Picked(None, None, t.address, t.port or flow.local[1])
        pool_path = t.pool if t is not None and t.pool else flow.pool
        pool = self.store.get("ltm pool", pool_path) if pool_path else None
        if pool is None:
            return None
        members = self.members(pool_path)
        if t is not None and t.address:
            members = [m for m in members if m.address == t.address and t.port in (None, m.port)]
        m = self._persisted(flow, pool_path, members)
        if m is None:
            m = self.balancer.pick(pool_path, pool.get("load-balancing-mode", "round-robin"), members)
        if m is not None:
            self._remember(flow, pool_path, m)
        return proxy.Picked(pool_path, m.name, m.address, m.port) if m else None

    # -- persistence ------------------------------------------------------------------------------
    def persistence(self, virtual: str) -> tuple[str, dict] | None:
        """The virtual's default persistence profile: (source-addr | cookie, its settings)."""
        items = (self.store.get("ltm virtual", virtual) or {}).get("persist") or ()
        for item in sorted(items, key=lambda i: i.get("default") != "yes"):
            for kind in PERSIST_BUILTINS:
                values = self.store.get(f"ltm persistence {kind}", item["name"])
                if values is not None:
                    return kind, values
        return None

    def persistence_of(self, flow: Flow) -> tuple[str, dict] | None:
        """The persistence a connection uses: an iRule's `persist` (the virtual's profile of that
        kind, else F5's built-in one, with the command's options), else the virtual's default
        profile; `persist none`: none."""
        if flow.persist == "none":
            return None
        if flow.persist in PERSIST_BUILTINS.values():
            kind = next(k for k, b in PERSIST_BUILTINS.items() if b == flow.persist)
            prof = self.persistence(flow.virtual)
            values = prof[1] if prof and prof[0] == kind else \
                self.store.get(f"ltm persistence {kind}", f"/Common/{flow.persist}") or {}
            return kind, {**values, **flow.persist_options}
        return self.persistence(flow.virtual)

    def _persisted(self, flow: Flow, pool: str, members: list[MemberView]) -> MemberView | None:
        """The available member the client persists to, if any (an iRule's `persist none` opts out)."""
        prof = self.persistence_of(flow)
        if prof is None:
            return None
        kind, values = prof
        if kind == "source-addr":
            key = persist.source_key(flow.client[0], values.get("mask", "none"))
            r = self.persist.find(flow.virtual, pool, key, trio.current_time())
            where = (r.address, r.port) if r else None
        else:
            cookie = persist.request_cookie(flow.request.headers.value("Cookie") if flow.request else None,
                                            persist.cookie_name(pool, values.get("cookie-name", "none")))
            where = persist.decode(cookie) if cookie else None
        return next((m for m in members if (m.address, m.port) == where and m.available), None)

    def _remember(self, flow: Flow, pool: str, m: MemberView) -> None:
        prof = self.persistence_of(flow)
        if prof is None or prof[0] != "source-addr":
            return
        life = persist.lifetime(prof[1].get("timeout", "180"))
        record = persist.Record("source-address", persist.source_key(flow.client[0], prof[1].get("mask", "none")),
                                flow.virtual, pool, m.name, m.address, m.port,
                                None if life is None else trio.current_time() + life)
        self.persist.put(record)
        vs = self.store.get("ltm virtual", flow.virtual) or {}
        if vs.get("mirror") == "enabled":
            self.mirror.persist(persist.to_wire(record, life), self.traffic_group_of(vs))

    def persist_records(self) -> list[persist.Record]:
        """The proxy's records (and those the peer mirrored) and those of the kernel's persistence maps."""
        return self.persist.live(trio.current_time()) + self._kernel_records()

    def _kernel_records(self) -> list[persist.Record]:
        """The records of the kernel's persistence maps (fastL4 virtuals)."""
        now, out = trio.current_time(), []
        for vs in self._l4_wanted or ():
            if vs.persist is None:
                continue
            pool = (self.store.get("ltm virtual", vs.path) or {}).get("pool", "none")
            by_mark = {fastl4.mark_of(m.name): m for m in vs.members}
            for value, left, mark in fastl4.records(self.kernel.maps.get(vs.persist_map()) or {}):
                if (m := by_mark.get(mark)) is not None:
                    out.append(persist.Record("source-address", value, vs.path, pool, m.name, m.address, m.port,
                                              None if left is None else now + left))
        return out

    def _insert_cookie(self, flow: Flow) -> None:
        """Cookie insert: Set-Cookie with the member's address and port unless the client sent it."""
        prof = self.persistence_of(flow)
        if prof is None or prof[0] != "cookie" or prof[1].get("method", "insert") != "insert" or \
                flow.server is None or not flow.server.pool:
            return
        values = prof[1]
        name = persist.cookie_name(flow.server.pool, values.get("cookie-name", "none"))
        value = persist.encode(flow.server.address, flow.server.port)
        sent = persist.request_cookie(flow.request.headers.value("Cookie") if flow.request else None, name)
        if sent == value and values.get("always-send") != "enabled":
            return
        attrs = "; path=/" + ("; HttpOnly" if values.get("httponly", "enabled") == "enabled" else "")
        flow.response.headers.insert("Set-Cookie", f"{name}={value}{attrs}")

    def _pick(self, flow: Flow, hook) -> proxy.Picked:
        """Load balancing, then LB_SELECTED or LB_FAILED; a rule that changes the target there
        gets one more selection. Raises Refused when nothing is selected."""
        for _ in range(2):
            target = flow.target
            picked = self._select(flow)
            if picked is not None:
                flow.server = Server(picked.pool, picked.member, picked.address, picked.port)
                fire(hook, "LB_SELECTED", flow)
                self._act(flow)
                if flow.target != target:
                    picked = self._select(flow)
            if picked is not None:
                if picked.pool:
                    picked.counters = [self.stat("pool", picked.pool), self.stat("member", picked.pool, picked.member)]
                return picked
            fire(hook, "LB_FAILED", flow)
            self._act(flow)
            if flow.target == target:
                break
        raise Refused("reset")

    def _opened(self, picked: proxy.Picked, scope: trio.CancelScope) -> tuple:
        for s in picked.counters:
            s.current += 1
            s.total += 1
        entry = (scope, ())
        if picked.pool:
            self.connections.setdefault((picked.pool, picked.member), set()).add(entry)
        return entry

    def _closed(self, picked: proxy.Picked, entry: tuple) -> None:
        for s in picked.counters:
            s.current -= 1
        if picked.pool:
            self.connections[(picked.pool, picked.member)].discard(entry)

    def profile_path(self, vs: dict, kind: str) -> str | None:
        """The path of the virtual's profile of one kind (client-ssl, server-ssl, http), if it has one."""
        for name in vs.get("profiles") or ():
            if profiles.kind_of(self.store.get, name) == kind:
                return full_path(name.split()[0])
        return None

    def starttls_mode(self, vs: dict, kind: str) -> str | None:
        """The activation-mode of the virtual's client-ldap or server-ldap profile, None without one."""
        path = self.profile_path(vs, kind)
        if path is None:
            return None
        return (self.store.get(f"ltm profile {kind}", path) or {}).get("activation-mode", "allow")

    def source_of(self, flow: Flow, picked: proxy.Picked) -> tuple[str | None, bool]:
        """The address the proxy connects to a member from, by the virtual's source-address-translation
        (an iRule's `snat` first): automap (the floating self IP toward the member), an address of
        its snatpool (the same for a client), an address; none: the client's own (transparent: True),
        as a BIG-IP keeps it (the server routes back through the floating self IP)."""
        how = flow.snat_rule or flow.snat or "none"   # an iRule's `snat` first
        vs = self.store.get("ltm virtual", flow.virtual) or {}
        if how == "automap":
            return self.automap(self.traffic_group_of(vs), picked.address), False
        if how == "snat":
            addresses = self.snatpool_addresses(vs)
            return (snat.pick(addresses, flow.client[0]) if addresses else None), False
        if how == "none" and self.transparent:
            return flow.client[0], True
        return snat.address(how), False

    def snatpool_addresses(self, vs: dict) -> list[str]:
        """The enabled translation addresses of the virtual's snatpool (none: [])."""
        name = (vs.get("source-address-translation") or {}).get("pool") or "none"
        pool = self.store.get("ltm snatpool", full_path(name)) if name != "none" else None
        return sorted((t["address"] for m in (pool or {}).get("members") or ()
                       if (t := self.store.get("ltm snat-translation", m)) and t.get("enabled", "yes") == "yes"),
                      key=lambda a: ipaddress.ip_address(plain(a)))

    def _l4_snat(self, vs: dict, tg: str, toward: str, pooled: tuple[str, ...]) -> tuple[str, ...]:
        """A fastL4 virtual's source toward a member: automap's address, its snatpool's, or none (the client's)."""
        how = (vs.get("source-address-translation") or {}).get("type", "none")
        if how == "automap":
            return tuple(a for a in [self.automap(tg, toward)] if a)
        return tuple(plain(a) for a in pooled) if how == "snat" else ()

    def traffic_group_of(self, vs: dict) -> str:
        if not vs.get("destination"):
            return "/Common/traffic-group-1"
        addr, _ = split_destination(vs["destination"])
        va = self.store.get("ltm virtual-address", f"{folder_of(vs['destination'])}/{addr}") or {}
        return va.get("traffic-group", "/Common/traffic-group-1")

    async def _connect(self, vs: dict, flow: Flow, picked: proxy.Picked, server_name: str | None = None):
        """A connection to the member from the SNAT address, TLS when the virtual has a server-ssl
        profile (`server_name`: the client's, which an SSL forward proxy passes on)."""
        server = await proxy.connect(picked.address, picked.port, *self.source_of(flow, picked))
        server_ssl = self.profile_path(vs, "server-ssl")
        if server_ssl is None:
            return server
        try:
            profile = self.store.get("ltm profile server-ssl", server_ssl) or {}
            name, timeout = server_name or profile.get("server-name"), tls.handshake_timeout(profile)
            ldap_mode = self.starttls_mode(vs, "server-ldap")
            if ldap_mode is None:
                return await tls.wrap(server, self.tls.server_side(server_ssl), name, timeout)
            if ldap_mode == "none":   # TLS never starts
                return server
            return await tls.starttls_wrap(server, self.tls.server_side(server_ssl), ldap_mode, name, timeout)
        except BaseException:
            await trio.aclose_forcefully(server)
            raise

    async def _tcp(self, vs: dict, client, flow: Flow, hook, scope: trio.CancelScope, ready=None) -> None:
        """`ready`: (picked, server stream) already connected (SSL forward proxy)."""
        if ready is not None:
            picked, server = ready
        else:
            picked = self._pick(flow, hook)
            try:
                server = await self._connect(vs, flow, picked)
            except (OSError, trio.TooSlowError, trio.BrokenResourceError):
                fire(hook, "LB_FAILED", flow)
                raise Refused("reset") from None
        fire(hook, "SERVER_CONNECTED", flow)
        self._act(flow)
        entry = self._opened(picked, scope)
        counters = [self.stat("virtual", flow.virtual), *picked.counters]
        try:
            if self.profile_path(vs, "mqtt") is not None:
                await self._mqtt(client, server, flow, hook, counters)
            else:
                await proxy.splice(client, server, counters)
        finally:
            self._closed(picked, entry)
            with trio.CancelScope(shield=True):
                await trio.aclose_forcefully(server)

    async def _mqtt(self, client, server, flow: Flow, hook, counters) -> None:
        """An MQTT virtual: each side's bytes read into whole packets (node/ltm/mqtt.py), each packet
        through MQTT_CLIENT_INGRESS or MQTT_SERVER_INGRESS (and _DATA after MQTT::collect), then sent
        on unless a rule dropped it. A malformed packet (or a rule's reject or drop) ends both sides."""
        session = mqtt.Session()
        failed: list[str] = []

        async def relay(src, dst, side: str, field_: str) -> None:
            reader = mqtt.Reader(side, session)
            ingress, data_event = f"MQTT_{side.upper()}_INGRESS", f"MQTT_{side.upper()}_DATA"
            try:
                while True:
                    data = await src.receive_some(proxy.CHUNK)
                    if not data:
                        break
                    proxy.count(counters, field_, len(data))
                    out = []
                    for packet in reader.feed(data):
                        flow.mqtt = (packet, session)
                        fire(hook, ingress, flow)
                        if packet.collected and flow.outcome is None:
                            fire(hook, data_event, flow)
                        flow.mqtt = None
                        if flow.outcome is not None:
                            failed.append(flow.outcome.kind)
                            pumps.cancel_scope.cancel()
                            return
                        if not packet.dropped:
                            out.append(packet.raw)
                    if out:
                        await dst.send_all(b"".join(out))
                    if reader.failed is not None:   # the good packets before a bad one went on
                        raise reader.failed
                if isinstance(dst, trio.abc.HalfCloseableStream):
                    await dst.send_eof()
            except mqtt.Malformed as why:
                self.log.log("warning", "tmm", f"Virtual server {flow.virtual}: malformed MQTT from the {side} "
                             f"{flow.client[0] if side == 'client' else 'server'}: {why}; connection reset",
                             event="mqtt-malformed", virtual=flow.virtual, reason=str(why))
                failed.append("reset")
                pumps.cancel_scope.cancel()
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                pumps.cancel_scope.cancel()

        async with trio.open_nursery() as pumps:
            pumps.start_soon(relay, client, server, "client", "bytes_in")
            pumps.start_soon(relay, server, client, "server", "bytes_out")
        if failed:
            with trio.CancelScope(shield=True):
                await proxy.reset(server)
            raise Refused("drop" if failed[0] == "drop" else "reset")

    def http_profile(self, vs: dict) -> dict:
        path = self.profile_path(vs, "http")
        return (self.store.get("ltm profile http", path) or {}) if path else {}

    def http2_profile(self, vs: dict) -> dict | None:
        path = self.profile_path(vs, "http2")
        return self.store.get("ltm profile http2", path) if path else None

    async def _http2(self, vs: dict, client, flow: Flow, hook, scope, profile: dict) -> None:
        """A client speaking HTTP/2 (node/ltm/h2gate.py): each stream one request to a member picked for
        it, in HTTP/1.1, its response sent back on the stream; streams run side by side."""
        conn = h2gate.Connection(client, profile)
        conn.start()
        await conn.flush()
        vstats = self.stat("virtual", flow.virtual)
        requests: dict[int, tuple[list, bytearray]] = {}
        async with trio.open_nursery() as streams:
            while True:
                data = await client.receive_some(proxy.CHUNK)
                if not data:
                    break
                proxy.count([vstats], "bytes_in", len(data))
                try:
                    events = conn.conn.receive_data(data)
                except h2gate.exceptions.ProtocolError:
                    await conn.flush()    # the GOAWAY h2 wrote
                    break
                ended = False
                for ev in events:
                    if isinstance(ev, h2gate.events.RequestReceived):
                        requests[ev.stream_id] = (ev.headers, bytearray())
                    elif isinstance(ev, h2gate.events.DataReceived):
                        if ev.stream_id in requests:
                            requests[ev.stream_id][1].extend(ev.data)
                        conn.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    elif isinstance(ev, h2gate.events.WindowUpdated | h2gate.events.RemoteSettingsChanged):
                        conn.opened()
                    elif isinstance(ev, h2gate.events.StreamReset):
                        requests.pop(ev.stream_id, None)
                    elif isinstance(ev, h2gate.events.ConnectionTerminated):
                        ended = True
                    if isinstance(ev, h2gate.events.StreamEnded):
                        sid = ev.stream_id
                        if sid in requests:
                            headers, body = requests.pop(sid)
                            streams.start_soon(self._h2_stream, vs, replace(flow), hook, scope, conn, sid,
                                               headers, bytes(body))
                await conn.flush()
                if ended:
                    break
            streams.cancel_scope.cancel()

    async def _h2_stream(self, vs: dict, flow: Flow, hook, scope, conn: h2gate.Connection, sid: int,
                         headers: list, body: bytes) -> None:
        """One stream: its request to a member over HTTP/1.1, the response back; a member that
        fails ends the stream (RST_STREAM), not the connection."""
        try:
            first, head = h2gate.request_head(headers, len(body) if body else None)
        except h2gate.BadStream:
            await conn.reset(sid, h2gate.ErrorCodes.PROTOCOL_ERROR)
            return
        try:
            picked = self._pick(flow, hook)
            server = await self._connect(vs, flow, picked)
        except (Refused, OSError, trio.TooSlowError, trio.BrokenResourceError):
            fire(hook, "LB_FAILED", flow)
            await conn.reset(sid, h2gate.ErrorCodes.REFUSED_STREAM)
            return
        entry = self._opened(picked, scope)
        sside = proxy.HttpSide(server, http1.Reader(False), [self.stat("virtual", flow.virtual), *picked.counters],
                               "bytes_out")
        try:
            sside.reader.head_only = first.startswith(b"HEAD ")
            await sside.send(http1.write_head(first, head) + body)
            resp = await sside.next_head()
            while resp is not None and resp.status < 200:
                resp = await sside.next_head()
            if resp is None:
                raise http1.Bad("no response")
            conn.conn.send_headers(sid, h2gate.response_headers(resp))
            await conn.flush()
            while (data := await sside.next_data()) is not http1.END:
                await conn.send_data(sid, data)
            conn.conn.end_stream(sid)
            await conn.flush()
        except (http1.Bad, OSError, trio.BrokenResourceError, trio.ClosedResourceError):
            await conn.reset(sid, h2gate.ErrorCodes.INTERNAL_ERROR)
        except h2gate.exceptions.StreamClosedError:
            pass     # the client reset the stream
        finally:
            self._closed(picked, entry)
            with trio.CancelScope(shield=True):
                await trio.aclose_forcefully(server)

    async def _http(self, vs: dict, client: trio.SocketStream, flow: Flow, hook, scope, ready=None) -> None:
        """`ready`: (picked, server stream) already connected (SSL forward proxy), for the first request."""
        prof = self.http_profile(vs)
        enforcement = prof.get("enforcement") or {}
        max_count = int(enforcement.get("max-header-count", 64))
        # an SSL forward proxy's server connection is the one its certificate was forged from: kept
        oneconnect = "one-connect" in profiles.kinds(self.store.get, vs) and ready is None
        xff = prof.get("insert-xforwarded-for") == "enabled"
        cookie = (self.persistence(flow.virtual) or ("",))[0] == "cookie"
        rich = hook is not None or xff or cookie     # else the heads go on as bytes, not read
        vstats = self.stat("virtual", flow.virtual)
        cside = proxy.HttpSide(client, http1.Reader(True, int(enforcement.get("max-header-size", http1.MAX_HEAD))),
                               [vstats], "bytes_in")
        bound: tuple | None = None     # (picked, server side, entry) kept for the client's connection
        adapters = adapt.adapters(self.store.get, vs)   # content adaptation: whole messages, through ICAP
        if ready is not None:
            picked, stream = ready
            cside.counters = [vstats, *picked.counters]
            bound = (picked, proxy.HttpSide(stream, http1.Reader(False), [vstats, *picked.counters], "bytes_out"),
                     self._opened(picked, scope))
            fire(hook, "SERVER_CONNECTED", flow)
            self._act(flow)
        try:
            while True:
                head = await cside.next_head()
                if head is None:
                    return
                if len(head.headers) > max_count:
                    raise Refused("reset")
                if head.method == b"CONNECT" and prof.get("proxy-type") == "explicit":
                    await self._tunnel(vs, cside, head, flow, prof)
                    return
                flow.request, flow.response, flow.outcome = None, None, None
                if rich:
                    flow.request = Request(head.method.decode("latin-1"), head.target.decode("latin-1"),
                                           head.version, proxy.headers_of(head.headers))
                    if xff:
                        flow.request.headers.insert("X-Forwarded-For", flow.client[0])
                    fire(hook, "HTTP_REQUEST", flow)
                    self._act(flow)
                if flow.outcome is not None:          # a rule answers: respond / redirect
                    await self._answer(cside, flow.outcome)
                msg = None
                if adapters:
                    kind, msg = await self._adapt(adapters.get("request-adapt"), head.version,
                                                  await self._request_message(cside, head, flow, rich))
                    if kind == "response":          # the ICAP server answers the client itself
                        await cside.send(self._message_bytes(msg, head.keep_alive))
                        if not head.keep_alive:
                            return
                        continue
                if bound is None or oneconnect:
                    try:
                        picked = self._pick(flow, hook)
                    except Refused:
                        if prof.get("fallback-host") not in (None, "", "none"):
                            await self._answer(cside, Outcome("redirect", location=prof["fallback-host"]))
                        raise
                    cside.counters = [vstats, *picked.counters]
                    sside = await self._server_side(vs, flow, picked, oneconnect, [vstats, *picked.counters])
                    bound = (picked, sside, self._opened(picked, scope))   # forced offline ends it
                    fire(hook, "SERVER_CONNECTED", flow)
                    self._act(flow)
                picked, sside, _ = bound
                if msg is not None:
                    keep = await self._exchange_adapted(cside, sside, head, msg, flow, hook, adapters, rich)
                else:
                    keep = await self._exchange(cside, sside, head, flow, hook, prof, rich)
                if not keep or oneconnect:
                    if not keep or not self.idle.give(self._idle_key(vs, flow, picked), sside):
                        await trio.aclose_forcefully(sside.stream)
                    self._closed(picked, bound[2])
                    bound = None
                if not keep:
                    return
        finally:
            if bound is not None:
                self._closed(bound[0], bound[2])
                with trio.CancelScope(shield=True):
                    await trio.aclose_forcefully(bound[1].stream)

    async def _tunnel(self, vs: dict, cside, head, flow: Flow, prof: dict) -> None:
        """An explicit proxy's CONNECT (node/ltm/explicit.py): refused (403), unresolved or
        unreachable (502), or a tunnel to the host, bytes copied both ways until either side ends."""
        connect = self.profile_path(vs, "http-proxy-connect")
        if not explicit.allowed(prof, self.store.get("ltm profile http-proxy-connect", connect) if connect else None):
            await cside.send(explicit.REFUSED)
            return
        resolver = (prof.get("explicit-proxy") or {}).get("dns-resolver") or "none"
        try:
            host, port = explicit.target(head.target)
            address = await explicit.resolve(self.store.get("net dns-resolver", full_path(resolver))
                                             if resolver != "none" else None, host)
            server = await proxy.connect(address, port)
        except (ValueError, explicit.Unresolved, OSError, trio.TooSlowError, dns.exception.DNSException):
            await cside.send(explicit.UNRESOLVED)
            return
        try:
            await cside.send(explicit.ESTABLISHED)
            await proxy.splice(cside.stream, server, [self.stat("virtual", flow.virtual)])
        finally:
            with trio.CancelScope(shield=True):
                await trio.aclose_forcefully(server)

    def _idle_key(self, vs: dict, flow: Flow, picked: proxy.Picked) -> tuple:
        """oneconnect reuses a server connection for the same member over the same server-ssl (or none)."""
        return picked.address, picked.port, self.profile_path(vs, "server-ssl"), \
            flow.snat_rule or (vs.get("source-address-translation") or {}).get("type", "none")

    async def _server_side(self, vs: dict, flow: Flow, picked: proxy.Picked, oneconnect: bool,
                           counters: list) -> proxy.HttpSide:
        side = await self.idle.take(self._idle_key(vs, flow, picked)) if oneconnect else None
        if side is None:
            try:
                side = proxy.HttpSide(await self._connect(vs, flow, picked), http1.Reader(False), counters,
                                      "bytes_out")
            except (OSError, trio.TooSlowError, trio.BrokenResourceError):
                raise Refused("reset") from None
        side.counters = counters
        return side

    async def _exchange(self, cside, sside, head: http1.Head, flow: Flow, hook, prof: dict, rich: bool) -> bool:
        """One request to the server and its response to the client, bodies streamed; whether both
        connections may carry another request (neither side asked to close). `rich`: the heads are
        read and changed as flow.request and flow.response (iRules, XFF, cookie persistence); else
        they go on as they came, as bytes."""
        first, headers = self._request_head(head, flow, rich, proxy.socket_of(sside.stream).getpeername()[0])
        sside.reader.head_only = first.startswith(b"HEAD ")
        await cside.relay(sside, http1.write_head(first, headers), head.chunked)
        resp = await sside.next_head()
        while resp is not None and resp.status < 200:     # 100 Continue and the like, passed on
            await sside.relay(cside, http1.write_head(b"HTTP/1.1 %d %b" % (resp.status, resp.reason),
                                                      resp.headers), False)
            resp = await sside.next_head()
        if resp is None:
            raise Refused("reset")
        first, headers = self._response_head(resp, flow, hook, rich)
        fallback = prof.get("fallback-host") not in (None, "", "none") and \
            str(resp.status) in (prof.get("fallback-status-codes") or ())
        if flow.outcome is not None or fallback:
            await self._answer(cside, flow.outcome or Outcome("redirect", location=prof["fallback-host"]))
        keep = head.keep_alive and resp.keep_alive
        dechunk = resp.chunked and head.version == "1.0"   # an HTTP/1.0 client reads to the close instead
        if dechunk:
            headers, keep = [(k, v) for k, v in headers if k.lower() != b"transfer-encoding"], False
        if not keep:     # the client learns the connection ends, whatever the server said
            headers = [(k, v) for k, v in headers if k.lower() != b"connection"] + [(b"Connection", b"close")]
        await sside.relay(cside, http1.write_head(first, headers), resp.chunked and not dechunk)
        return keep

    @staticmethod
    def _request_head(head: http1.Head, flow: Flow, rich: bool, host: str) -> tuple[bytes, list]:
        """The client's request head as it goes on (`rich`: flow.request, as the rules left it),
        with a Host header (`host`) if it had none."""
        if rich:
            req = flow.request
            first, headers = f"{req.method} {req.uri} HTTP/1.1".encode("latin-1"), proxy.raw_headers(req.headers)
        else:
            first, headers = head.method + b" " + head.target + b" HTTP/1.1", head.headers
        if http1.value(headers, b"host") is None:
            headers = [*headers, (b"Host", host.encode())]
        return first, headers

    def _response_head(self, resp: http1.Head, flow: Flow, hook, rich: bool) -> tuple[bytes, list]:
        """The server's response head as it goes to the client; `rich`: as flow.response, after the
        cookie persistence inserts its cookie and HTTP_RESPONSE's rules change it."""
        if not rich:
            return b"HTTP/1.1 %d %b" % (resp.status, resp.reason), resp.headers
        flow.response = Response(resp.status, resp.reason.decode("latin-1"), resp.version,
                                 proxy.headers_of(resp.headers))
        self._insert_cookie(flow)
        fire(hook, "HTTP_RESPONSE", flow)
        self._act(flow)
        return f"HTTP/1.1 {flow.response.status} {flow.response.reason}".encode("latin-1"), \
            proxy.raw_headers(flow.response.headers)

    # -- content adaptation (adapt.py, icap.py): whole messages, each (first line, headers, body) --
    @staticmethod
    async def _request_message(cside, head: http1.Head, flow: Flow, rich: bool) -> tuple:
        """The client's request as it would go to the server, its body read whole (None: it has none)."""
        first, headers = LTM._request_head(head, flow, rich, flow.local[0])   # the member is not picked yet
        body = await cside.body()
        framed = head.chunked or http1.value(head.headers, b"content-length") is not None
        return first, headers, body if body or framed else None

    @staticmethod
    def _message_bytes(msg: tuple, keep: bool = True) -> bytes:
        """A whole message, framed by its Content-Length; `keep` False: Connection: close."""
        first, headers, body = msg
        headers = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"transfer-encoding")
                   and (keep or k.lower() != b"connection")]
        if body is not None:
            headers.append((b"Content-Length", str(len(body)).encode()))
        if not keep:
            headers.append((b"Connection", b"close"))
        return http1.write_head(first, headers) + (body or b"")

    @staticmethod
    def _parsed(head: bytes, requests: bool) -> tuple[bytes, list] | None:
        """An encapsulated HTTP head (from the ICAP server) -> (first line, headers); None if unreadable."""
        reader = http1.Reader(requests)
        try:
            reader.feed(head)
        except http1.Bad:
            return None
        h = next((e for e in reader.events if isinstance(e, http1.Head)), None)
        if h is None:
            return None
        first = h.method + b" " + h.target + b" HTTP/" + h.version.encode() if requests else \
            b"HTTP/%b %d %b" % (h.version.encode(), h.status, h.reason)
        return first, h.headers

    async def _adapt(self, adapter: adapt.Adapter | None, version: str, req: tuple, res: tuple | None = None):
        """One message through the ICAP service -> ("request" | "response", message): the adapted
        one, or the same when the server answers 204 or the service is down and its
        service-down-action is ignore (reset and drop end the client's connection)."""
        mine = ("response", res) if res is not None else ("request", req)
        if adapter is None or not adapter.applies(version):
            return mine
        try:
            if adapter.timeout is not None:
                with trio.fail_after(adapter.timeout):
                    answer_ = await self._icap(adapter, req, res)
            else:
                answer_ = await self._icap(adapter, req, res)
            if answer_.status not in (200, 204):
                raise icap.Bad(f"ICAP status {answer_.status} {answer_.reason}")
        except (OSError, trio.TooSlowError, trio.BrokenResourceError, icap.Bad, Refused) as exc:
            self.log.log("warning", "tmm", f"Virtual server {adapter.internal}: ICAP service down ({exc}); "
                                           f"service-down-action {adapter.down_action}")
            if adapter.down_action == "ignore":
                return mine
            raise Refused(adapter.down_action) from None
        if answer_.unmodified:
            return mine
        if answer_.req_head is not None and res is None:
            got = self._parsed(answer_.req_head, True)
            if got is not None:
                return "request", (*got, answer_.body)
        elif answer_.res_head is not None:
            got = self._parsed(answer_.res_head, False)
            if got is not None:
                return "response", (*got, answer_.body)
        if adapter.down_action == "ignore":
            return mine
        raise Refused(adapter.down_action)

    async def _icap(self, adapter: adapt.Adapter, req: tuple, res: tuple | None) -> icap.Response:
        """One ICAP exchange with the server the internal virtual's pool picks."""
        pool = adapter.virtual.get("pool") or "none"
        pool_conf = self.store.get("ltm pool", pool) if pool != "none" else None
        if pool_conf is None or adapter.virtual.get("status") == "disabled":
            raise Refused("no ICAP pool")
        m = self.balancer.pick(pool, pool_conf.get("load-balancing-mode", "round-robin"), self.members(pool))
        if m is None:
            raise Refused(f"no ICAP server available in {pool}")
        counters = [self.stat("virtual", adapter.internal), self.stat("pool", pool), self.stat("member", pool, m.name)]
        for s in counters:
            s.total += 1
        uri, headers = icap.request_headers(adapter.icap, (m.address, m.port))
        req_first, req_headers, req_body = req
        if res is None:
            first, rest = icap.encode("REQMOD", uri, headers, http1.write_head(req_first, req_headers), None,
                                      req_body, adapter.preview)
        else:
            res_first, res_headers, res_body = res
            first, rest = icap.encode("RESPMOD", uri, headers, http1.write_head(req_first, req_headers),
                                      http1.write_head(res_first, res_headers), res_body, adapter.preview)
        stream = await proxy.connect(m.address, m.port)
        try:
            proxy.count(counters, "bytes_in", len(first) + len(rest or b""))
            return await adapt.ask(stream, first, rest)
        finally:
            with trio.CancelScope(shield=True):
                await trio.aclose_forcefully(stream)

    async def _exchange_adapted(self, cside, sside, head: http1.Head, msg: tuple, flow: Flow, hook,
                                adapters: dict, rich: bool) -> bool:
        """_exchange for a virtual with adapt profiles: the (adapted) request to the server whole, its
        response read whole, through the response-adapt profile's ICAP service, to the client."""
        sside.reader.head_only = msg[0].startswith(b"HEAD ")
        await sside.send(self._message_bytes(msg))
        resp = await sside.next_head()
        while resp is not None and resp.status < 200:     # 100 Continue and the like: not passed on
            await sside.body()
            resp = await sside.next_head()
        if resp is None:
            raise Refused("reset")
        first, headers = self._response_head(resp, flow, hook, rich)
        body = await sside.body()
        keep = head.keep_alive and resp.keep_alive
        if msg[0].startswith(b"HEAD ") or resp.status in (204, 304):   # no body: the head as it came
            closing = [] if keep else [(b"Connection", b"close")]
            await cside.send(http1.write_head(first, [(k, v) for k, v in headers
                                                      if keep or k.lower() != b"connection"] + closing))
            return keep
        framed = resp.chunked or http1.value(resp.headers, b"content-length") is not None or resp.until_close
        res = (first, headers, body if body or framed else None)
        _, res = await self._adapt(adapters.get("response-adapt"), resp.version, msg, res)
        await cside.send(self._message_bytes(res, keep))
        return keep

    @staticmethod
    async def _answer(cside, outcome: Outcome) -> None:
        """The BIG-IP's own answer (HTTP::respond, HTTP::redirect, fallback-host), in F5's shape
        (HTTP/1.0, Server: BigIP); the connection ends after it."""
        await cside.stream.send_all(answer(outcome))
        raise proxy.Answered
