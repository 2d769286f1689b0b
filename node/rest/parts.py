"""What iControl REST reads and drives on a node, as narrow interfaces (not the daemon).

The daemon builds them (node/daemon.py); a unit test builds them from a real ConfigStore and small
stand-ins for the rest.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

from ..config.store import ConfigStore
from ..logins import LoginFailures


@dataclass(frozen=True)
class Device:
    """This device, as /mgmt/shared/identified-devices shows it."""
    name: str
    lab: str
    mgmt_address: str
    peers: tuple = ()     # the lab's other BIG-IPs, (name, mgmt address) each: where AS3's targetHost may go


class Cluster(Protocol):
    """CM and failover as REST sees them: status to show, peers as they last told us."""

    def sync_status(self) -> dict: ...
    def failover_status(self) -> dict: ...
    def device_state(self) -> str: ...                 # this device: active, standby, forced-offline
    def traffic_groups(self) -> dict[str, str]: ...    # this device's state of each traffic group
    def peers(self) -> dict[str, dict]: ...            # name -> what the peer last told us
    def connected(self, name: str) -> bool: ...        # an iQuery channel to that peer is up


class Ltm(Protocol):
    """The live LTM state behind member statuses and stats."""

    def members(self, pool: str) -> list: ...
    def pool_report(self) -> dict: ...
    def virtual_health(self) -> dict: ...
    def rule_report(self) -> dict: ...
    def persist_records(self) -> list: ...
    def fqdn_state(self, node: str) -> str: ...   # an FQDN node's: fqdn-up, fqdn-down, ...


class Trust(Protocol):
    """Device trust (the 4353 add-device protocol): F5's add-to-trust and remove-from-trust."""

    def member_names(self) -> set[str]: ...
    async def add_device(self, address: str, username: str, password: str, role: str = "peer") -> dict: ...
    async def remove_device(self, device: str) -> dict: ...    # by name or address


class Gtm(Protocol):
    def virtual_status(self, server: str, vs: str): ...   # a MemberStatus, or None


class Shell(Protocol):
    async def run(self, line: str) -> str: ...


class CMCluster:
    """The Cluster of a daemon: its CM service and its iQuery channels."""

    def __init__(self, cm, iquery):
        self.cm, self.iquery = cm, iquery

    def sync_status(self) -> dict:
        return self.cm.sync_status()

    def failover_status(self) -> dict:
        return self.cm.failover_status()

    def device_state(self) -> str:
        return self.cm.failover.device_state() if self.cm.failover else "standby"

    def traffic_groups(self) -> dict[str, str]:
        return dict(self.cm.failover.state) if self.cm.failover else {}

    def peers(self) -> dict[str, dict]:
        return self.cm.peers

    def connected(self, name: str) -> bool:
        return self.iquery.connected(name)


@dataclass(frozen=True)
class Parts:
    store: ConfigStore
    shell: Shell                    # runs tmsh lines (the asynchronous tasks: config sync, failover, bash)
    cluster: Cluster
    ltm: Ltm
    device: Device
    admin: dict                     # {"username", "password"} from the topology
    now: Callable[[], float]        # the device's clock (token lifetimes)
    save_config: Callable[[], Any]
    log: Any = None
    started: float = 0.0            # the device's clock when the daemon started (/proc/uptime)
    trust: Trust | None = None      # None: a device that cannot change its trust over REST
    gtm: Gtm | None = None          # BIG-IP DNS, when the node has it
    status: Callable[[], dict] | None = None   # the node's status record (node/status.py): telemetry
    logins: LoginFailures | None = None   # failed logins and lockouts, shared with tmsh
    sysconfig: Any = None           # saved configuration and UCS archives (node/sysconfig.py)
