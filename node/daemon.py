"""The node daemon: one emulated BIG-IP, one OS process, one trio nursery.

    python -m node.daemon /run/biglab/<lab>/<node>/node.json

Started by the lab inside the node's network namespace. Stops cleanly on SIGTERM/SIGINT.
"""
from __future__ import annotations

import functools
import os
import signal
import ssl
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import trio

from .clock import PersistentClock, write_atomically
from .cm.hbauth import HeartbeatAuth
from .cm.service import CM
from .config import ssl_files
from .config.access import CURRENT
from .config.schema import PASSWORD_POLICY, PROVISION_MODULES, base_name
from .config.store import ConfigStore, Op
from .shell import Shell, ShellError
from .settings import NodeConfig
from .subsystems import Subsystems
from .control import CommandError, ControlServer
from .events import GtmPeerStatus, Hub, MessageReceived, SyncStatusChanged
from .iquery.channel import IQuery
from .iquery.join import TrustJoin
from .iquery.protocol import PROTOCOL_VERSION
from .iquery.trust import TrustError, TrustStore
from . import looplag
from .log import Log
from .logins import LoginFailures
from .ltm import mirror
from .ltm.external import probe_external
from .ltm.service import LTM
from .rest.app import RestApp
from .rest.parts import CMCluster, Device
from .routes import Routes
from .rest.server import RestServer
from .iquery.recorder import Recorder
from .gtm.publish import Publisher
from .gtm.service import GTM
from .ntp_service import NtpService
from .sysconfig import SysConfig


class Daemon:
    def __init__(self, config: NodeConfig):
        self.config = config
        self.dir = config.state_dir
        self.log = Log(self.dir / "log.jsonl", config.name)
        self.clock = PersistentClock(self.dir / "clock.json", drift_ppm=config.ntp.get("drift_ppm", 0.0))
        self.trust = TrustStore(self.dir, config.name, config.mgmt_address, self.clock)
        self.events = Hub()
        self.events.subscribe(SyncStatusChanged, self._log_sync_status)
        self.iquery = IQuery(config.name, self.trust, self.log, self.events, port=config.iquery_port,
                             bind=tuple(dict.fromkeys((config.mgmt_address, configsync_address(config)))),
                             version=config.iquery_version or PROTOCOL_VERSION)
        self.ntp = NtpService(config.ntp["server"], self.clock, self.log, poll=config.ntp.get("poll", 2.0)) \
            if config.ntp.get("server") else None
        self.join = TrustJoin(config.name, self.trust, self.log, config.admin, self.iquery, self.events)
        self.store = ConfigStore(self.dir / "running.json", config.name, now=self.clock.time, events=self.events)
        if not (self.dir / "running.json").exists():
            self.store.commit(base_config(config))
        if not (self.store.get(ssl_files.CERT, ssl_files.DEFAULT_CERT) or {}).get("pem"):   # first start
            self.store.commit([Op("modify" if self.store.get(t, path) else "create", t, path,
                                  {"source-path": ("set", source)}) for t, path, source in ssl_files.write_own_pair(self.dir)])
        own = {i["address"].split("/")[0] for i in config.interfaces.values()}
        mgmt_net = next((i["address"] for i in config.interfaces.values()
                         if i["address"].split("/")[0] == config.mgmt_address), f"{config.mgmt_address}/32")
        self.routes = Routes(self.store, self.events, self.log, mgmt_net)
        self.cm = CM(config.name, self.store, self.iquery, self.log, config.ha, own, self.save_config, self.events)
        self.cm.forced_offline_path = self.dir / "forced-offline"
        self.sysconfig = SysConfig(config.name, self.store, self.dir, self.log, self.trust, self._config_reloaded,
                                   self.iquery.restart, base=lambda: base_config(config))
        self.ltm = LTM(config.name, self.store, self.cm.active_groups, self.log, self.events)
        self.cm.failover_driver.pool_counts = self.pool_counts   # HA group scores read the members' health
        self.ltm.mirror_peer = self.mirror_peer
        self.ltm.mirror.server_context = self._mirror_server_context
        self.ltm.mirror.client_context = self.trust.client_context
        self.cm.failover_driver.heartbeats.auth = HeartbeatAuth(self.trust)   # signed with the trust key
        self.cm.failover_driver.mgmt_interface = next(   # the interface eth0 names (multicast failover)
            (vlan for vlan, i in config.interfaces.items() if i["address"].split("/")[0] == config.mgmt_address), "mgmt")
        self.recorder = Recorder(lambda: {m.name for m in self.trust.peers()})
        self.events.subscribe(MessageReceived, lambda e: self.recorder.record(e.peer, e.body))
        self.publisher = Publisher(config.name, self.iquery, self.ltm, sorted(own | {config.mgmt_address}), self.log,
                                   self.events)
        self.gtm = GTM(config.name, self.store, self.iquery, self.log, self.events,
                       subscribed=lambda peer: peer in self.publisher.subscribers,
                       run_external=functools.partial(probe_external, self.ltm.scripts or Path(tempfile.gettempdir()))) \
            if "gtm" in config.modules else None
        self.subsystems = Subsystems(self.store, self.log, self.ltm, self.gtm)
        self.cm.failover_driver.dead_subsystems = self.subsystems.dead_actions   # the system failsafe
        self.cm.failover_driver.restart_all = self.subsystems.restart_all
        self.shell = Shell(config.name, self.store, self.cm,
                           lambda: {m.name for m in self.trust.members}, self.save_config, self.ltm)
        self.shell.logins = LoginFailures(lambda: int(self.store.get("auth password-policy", PASSWORD_POLICY)
                                                      ["max-login-failures"]))
        self.rest = RestApp(store=self.store, shell=self.shell, cluster=CMCluster(self.cm, self.iquery), ltm=self.ltm,
                            device=Device(config.name, config.lab, config.mgmt_address,
                                          tuple(sorted(config.peers.items()))), admin=config.admin,
                            now=self.clock.time, save_config=self.save_config, log=self.log,
                            started=self.clock.time(), trust=self.join, gtm=self.gtm, status=self.status_record,
                            logins=self.shell.logins, sysconfig=self.sysconfig)
        self.https = RestServer(self.rest.app, config.mgmt_address, config.rest_port, self.dir, self.log)
        self.shell.gtm = self.gtm
        if self.gtm:
            self.cm.sync_driver.generation_groups = self.gtm.sync_group
        self.shell.ntp = self.ntp
        self.shell.sysconfig = self.sysconfig
        self.shell.clock = self.clock
        self.control = ControlServer(self.dir / "ctl.sock", self.commands(), self.log)
        self.started = time.time()

    def commands(self) -> dict:
        return {"status": self.cmd_status, "add-device": self.cmd_add_device,
                "reset-trust": self.cmd_reset_trust, "clock": self.cmd_clock, "tmsh": self.cmd_tmsh,
                "prompt": self.cmd_prompt, "cd": self.cmd_cd, "names": self.cmd_names,
                "transaction": self.cmd_transaction, "iqdump": self.recorder.cmd,
                "cert-renew": self.cmd_cert_renew, "crash": self.cmd_crash, "restart-subsystem": self.cmd_restart,
                "loop-lag": self.cmd_loop_lag}

    async def cmd_loop_lag(self, seconds: float = 5.0) -> dict:
        """How late the trio loop wakes a 1 ms sleeper over the next `seconds` (node/looplag.py)."""
        try:
            seconds = float(seconds)
        except (TypeError, ValueError):
            raise CommandError("loop-lag seconds is a number") from None
        if not 0 < seconds <= 120:
            raise CommandError(f"loop-lag seconds {seconds:g} is out of range (0 to 120)")
        return await looplag.probe(seconds)

    async def cmd_crash(self, subsystem: str) -> str:
        """Crash one critical subsystem (chaos): the system failsafe acts as its daemon-ha says."""
        return self.subsystems.crash(subsystem)

    async def cmd_restart(self, subsystem: str) -> str:
        return self.subsystems.restart(subsystem)

    async def cmd_cert_renew(self, valid: float | None = None) -> dict:
        """Renew this device's certificate (signed by the domain CA), optionally with a short
        validity in seconds; channels reconnect with it, trust is unchanged."""
        if valid is not None and (not isinstance(valid, (int, float)) or valid <= 0):
            raise CommandError(f"validity must be a positive number of seconds, not {valid!r}")
        try:
            self.trust.renew(valid)
        except TrustError as exc:
            raise CommandError(str(exc)) from None
        self.iquery.restart()
        cert = self.trust.summary()["certificate"]
        self.log.log("notice", "iquery", f"Device certificate renewed: valid until {cert['not_after']}, "
                     f"fingerprint {cert['fingerprint'][:23]}...", event="cert-renewed")
        return cert

    async def cmd_transaction(self, lines: list) -> dict:
        if not isinstance(lines, list) or not all(isinstance(l, str) for l in lines):
            raise CommandError("a transaction is a list of tmsh lines")
        try:
            return {"applied": self.shell.transaction(lines)}
        except ShellError as exc:
            raise CommandError(str(exc)) from None

    @contextmanager
    def _as(self, user: str | None):
        """tmsh for an `auth user` (`biglab shell --user U`) is held to its role and partition, as
        REST is; without one it is root's, the lab's own way in."""
        if user is None:
            yield
            return
        if not isinstance(user, str) or self.rest.auth.role(user) in (None, "no-access"):
            raise CommandError(f"tmsh: user {user} does not exist or may not log in")
        token = CURRENT.set(self.rest.auth.access(user))
        try:
            yield
        finally:
            CURRENT.reset(token)

    async def cmd_tmsh(self, line: str, folder: str = "/Common", text: str | None = None,
                       user: str | None = None) -> str:
        if not isinstance(line, str) or not isinstance(folder, str) or not isinstance(text, (str, type(None))):
            raise CommandError("tmsh takes a command line (and the folder it runs in, and terminal text)")
        with self._as(user):
            try:
                return await self.shell.run(line, folder, text)
            except ShellError as exc:
                raise CommandError(str(exc)) from None

    async def cmd_cd(self, folder: str, to: str, user: str | None = None) -> str:
        """Interactive tmsh's `cd`: the folder it moves to (tmsh keeps it between lines)."""
        if not isinstance(folder, str) or not isinstance(to, str):
            raise CommandError("cd takes the current folder and where to go")
        with self._as(user):
            try:
                return self.shell.cd(folder, to.split())
            except ShellError as exc:
                raise CommandError(str(exc)) from None

    async def cmd_prompt(self, kind: str = "bash", folder: str = "/Common", modules: list | None = None,
                         user: str | None = None) -> str:
        """The bash prompt (`[root@bigip1:Active:In Sync] ~ # `), or with kind "tmsh" tmsh's."""
        if kind == "tmsh":
            with self._as(user):
                return self.shell.tmsh_prompt(str(folder), [str(m) for m in modules or []], user or "root")
        return self.shell.prompt()

    async def cmd_names(self, type: str, folder: str = "/Common", user: str | None = None) -> list:
        with self._as(user):
            return self.shell.names(str(type), str(folder))

    def save_config(self) -> list[str]:
        """`save sys config`: every partition's bigip.conf files (node/sysconfig.py)."""
        return self.sysconfig.save()

    def _config_reloaded(self) -> None:
        """After mcpd's restart: channels reconnect, and CM recomputes sync from the configuration
        and the peers' statuses."""
        self.iquery.restart()
        self.cm.restart()

    def mirror_peer(self, traffic_group: str) -> str | None:
        """The mirroring address of a traffic group's next-active device (its peers' as they told us)."""
        tg = self.store.get("cm traffic-group", traffic_group) or {}
        members = [d for g in self.cm.my_groups().values() if g.get("type") == "sync-failover"
                   for d in g.get("devices") or ()]
        devices = {name: info.get("device") or {} for name, info in self.cm.peers.items()}
        return mirror.peer_address(self.config.name, [base_name(d) for d in tg.get("ha-order") or ()], members, devices)

    def _mirror_server_context(self):
        """The mirroring channel takes only members of our trust domain."""
        ctx = self.trust.server_context()
        ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx

    def pool_counts(self) -> dict[str, tuple[int, int]]:
        """Each LTM pool (full path): (members available, members)."""
        return self.ltm.pool_counts()

    async def cmd_status(self, part: str | None = None) -> dict | None:
        """The node's status, or one part of it ("sync", "failover"...), with the fields
        node/status.py declares (its readers check them: lab.runtime.control.node_status)."""
        parts = self.status_parts()
        if part is None:
            return self.status_record()
        if part not in parts:
            raise CommandError(f"no status part {part!r} (parts: {', '.join(parts)})")
        return parts[part]()

    def status_record(self) -> dict:
        return {"name": self.config.name, "kind": self.config.kind, "pid": os.getpid(),
                "mgmt": self.config.mgmt_address, "modules": list(self.config.modules),
                "uptime": round(time.time() - self.started, 3), **{k: f() for k, f in self.status_parts().items()}}

    def status_parts(self) -> dict:
        return {"clock": self.clock_status, "ntp": lambda: self.ntp.status() if self.ntp else None,
                "iquery": self.iquery.status, "sync": self.cm.sync_status, "failover": self.cm.failover_status,
                "ltm": lambda: {"virtuals": self.ltm.virtual_health(), "pools": self.ltm.pool_report()},
                "gtm": lambda: self.gtm.status() if self.gtm else None}

    async def cmd_add_device(self, address: str, username: str = "admin", password: str = "admin",
                             role: str = "peer") -> dict:
        try:
            return await self.join.add_device(address, username, password, role)
        except TrustError as exc:
            self.log.log("warning", "iquery", f"Add device {address} failed: {exc}", event="trust-failed")
            raise CommandError(str(exc)) from None

    async def cmd_reset_trust(self) -> dict:
        self.trust.reset()
        self.iquery.restart()
        self.log.log("notice", "iquery", "Device trust reset: this device is a trust domain of one",
                     event="trust-reset")
        return self.trust.summary()

    def _log_sync_status(self, e: SyncStatusChanged) -> None:
        """Every change of the overall sync status, as an event (for `biglab events`)."""
        self.log.log("notice", "mcpd", f"Sync status changed from {e.was} to {e.status}",
                     event="sync-status", status=e.status, was=e.was)

    def clock_status(self) -> dict:
        return {"offset": round(self.clock.current_offset(), 6), "drift_ppm": self.clock.drift_ppm,
                "now": self.clock.now().isoformat()}

    async def cmd_clock(self, offset: float | None = None, drift_ppm: float | None = None) -> dict:
        try:
            offset = None if offset is None else float(offset)
            drift_ppm = None if drift_ppm is None else float(drift_ppm)
        except (TypeError, ValueError):
            raise CommandError("clock offset and drift are numbers (seconds, ppm)") from None
        if drift_ppm is not None:
            if abs(drift_ppm) > 1e6:
                raise CommandError(f"drift {drift_ppm:g} ppm is out of range (at most 1000000)")
            self.clock.set_drift(drift_ppm)
            self.log.log("notice", "clock", f"Clock drift set to {drift_ppm:g} ppm", event="clock-drift")
        if offset is not None:
            self.clock.set_offset(offset)
            self.log.log("notice", "clock", f"Clock set {offset:+.3f} s from true time, now "
                         f"{self.clock.now():%Y-%m-%d %H:%M:%S} UTC", event="clock-offset")
        return self.clock_status()

    async def run(self) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._signals, nursery.cancel_scope)
            await nursery.start(self.iquery.run)
            await nursery.start(self.cm.run, (self.dir / "forced-offline").exists())
            self.routes.sync_route_domains()   # the route domains and routes of running.json, after a restart
            self.routes.sync()
            await nursery.start(self.ltm.run)
            await nursery.start(self.subsystems.run)
            await nursery.start(self.https.run)
            await nursery.start(self.publisher.run)
            if self.gtm:
                await nursery.start(self.gtm.run)
                # after the GTM's own handler, so the device group gtm is read as it now stands
                self.events.subscribe(GtmPeerStatus, lambda _e: self.cm.sync_driver.recheck())
            await nursery.start(self.control.run)
            if self.ntp:
                await nursery.start(self.ntp.run)
            self.log.log("notice", "daemon", f"Device {self.config.name} ready (pid {os.getpid()})",
                         event="ready")

    async def _signals(self, scope: trio.CancelScope) -> None:
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for signum in signals:
                self.log.log("notice", "daemon", f"Stopping on {signal.Signals(signum).name}", event="stop")
                scope.cancel()
                return


def configsync_address(config: NodeConfig) -> str:
    """The self IP on the topology's configsync VLAN, else the management address."""
    vlan = config.ha.get("configsync_vlan")
    iface = config.interfaces.get(vlan) if vlan else None
    return iface["address"].split("/")[0] if iface else config.mgmt_address


def base_config(config: NodeConfig) -> list[Op]:
    """What a BIG-IP has after its initial set-up: a VLAN and a non-floating self IP per interface,
    and its own device object with its ConfigSync and failover (unicast) addresses."""
    ops = []
    ha = config.ha
    for index, (vlan, iface) in enumerate(config.interfaces.items()):
        ops.append(Op("create", "net interface", f"/Common/{vlan}", {"if-index": ("set", 48 + 16 * index)}))
        ops.append(Op("create", "net vlan", f"/Common/{vlan}", {"interfaces": ("set", [vlan])}))
        ops.append(Op("create", "net self", f"/Common/{vlan}-self",
                      {"address": ("set", iface["address"]), "vlan": ("set", vlan),
                       "allow-service": ("set", "default" if vlan in ha.get("failover_vlans", ()) else "none")}))
    addr = {v: i["address"].split("/")[0] for v, i in config.interfaces.items()}
    device = {"management-ip": ("set", config.mgmt_address),
              "configsync-ip": ("set", configsync_address(config)),
              "mirror-ip": ("set", configsync_address(config) if ha.get("configsync_vlan") else "any6"),
              "unicast-address": ("set", [addr[v] for v in ha.get("failover_vlans", ()) if v in addr])}
    ops.append(Op("create", "cm device", f"/Common/{config.name}", device))
    provisioned = {"ltm", *config.modules}   # every BIG-IP the lab makes runs LTM
    ops += [Op("create", "sys provision", f"/Common/{m}", {"level": ("set", "nominal")} if m in provisioned else {})
            for m in PROVISION_MODULES]
    return ops


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m node.daemon NODE_JSON", file=sys.stderr)
        return 2
    daemon = Daemon(NodeConfig.load(argv[0]))
    try:
        trio.run(daemon.run)
    finally:
        daemon.log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
