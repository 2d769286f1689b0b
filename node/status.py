"""Typed status snapshots: what a node daemon reports and what lab/, tests and bench read.

The daemon sends its status (`status` on the control socket) as JSON with these fields; readers
turn the JSON back into the frozen classes with `NodeStatus.from_dict`, so a renamed or missing
field fails in one place (here, validated by pydantic) instead of as a KeyError deep in a test. Field names are the JSON keys `biglab status --json` has always printed.

Sub-records whose shape belongs to another protocol (a peer's commit id, a certificate summary)
stay plain values (`Any`): this module types the status, not the wire formats it quotes.
"""
from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from functools import cache
from typing import Any, get_type_hints

frozen = dataclass(frozen=True)


class Snapshot:
    """Base of every record here: to_dict for JSON, from_dict validating against the fields."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict):
        return _adapter(cls).validate_python(data)


@cache
def _adapter(cls):
    # imported here, not at the top: a daemon only sends its status, the readers (lab/, tests,
    # bench) check it, and pydantic would cost every daemon about 8 MB and 0.1 s at start
    from pydantic import TypeAdapter
    return TypeAdapter(cls)


# -- clock and NTP --------------------------------------------------------------------------
@frozen
class ClockStatus(Snapshot):
    offset: float          # seconds the node clock is set from true time (chaos clock)
    drift_ppm: float
    now: str               # the node's time, ISO 8601 UTC


@frozen
class NtpStatus(Snapshot):
    server: str
    synchronized: bool
    stratum: int
    refid: str
    poll: float
    reach: str             # octal, as ntpq prints it
    when: float | None
    offset_ms: float | None
    delay_ms: float | None
    last_sync: float | None
    error: str
    drift_ppm: float
    clock_offset: float


# -- trust and the 4353 channels ------------------------------------------------------------
@frozen
class CertificateSummary(Snapshot):
    fingerprint: str
    not_after: str
    issuer: str


@frozen
class TrustMember(Snapshot):
    name: str
    address: str
    authority: bool = False


@frozen
class TrustSummary(Snapshot):
    domain_ca: str
    authority: bool
    certificate: CertificateSummary
    generation: int
    members: tuple[TrustMember, ...]

    def member_names(self) -> set[str]:
        return {m.name for m in self.members}


class LinkState(enum.StrEnum):
    """A 4353 channel's state as the daemon reports it (a str, so JSON and old readers see the word)."""
    CONNECTING = "connecting"
    CONNECTED = "connected"       # the only state that carries messages
    DISCONNECTED = "disconnected"


@frozen
class ChannelLink(Snapshot):
    """This device's outbound 4353 channel to one peer."""
    address: str
    state: LinkState
    code: str              # why not open: refused, timeout, unreachable, untrusted, expired...
    reason: str
    since: float
    certificate: Any = None


@frozen
class RefusedChannel(Snapshot):
    address: str
    code: str
    reason: str
    at: float


@frozen
class IQueryStatus(Snapshot):
    port: int
    trust: TrustSummary
    peers: dict[str, ChannelLink]
    inbound: tuple[str, ...]
    refused: tuple[RefusedChannel, ...]

    def open_peers(self) -> set[str]:
        """The peers whose channel carries messages."""
        return {name for name, link in self.peers.items() if link.state is LinkState.CONNECTED}


# -- config sync ----------------------------------------------------------------------------
@frozen
class SyncGroup(Snapshot):
    status: str            # In Sync, Changes Pending, Awaiting Initial Sync, Disconnected...
    type: str | None       # sync-failover | sync-only
    details: dict[str, str]
    pairs: dict[str, str]  # peer -> that pair's status


@frozen
class SyncPeer(Snapshot):
    cid: Any               # the peer's newest commit id, as it sent it
    synced: Any
    synced_at: dict[str, float] = dataclasses.field(default_factory=dict)   # group -> its last sync (its clock)


@frozen
class SyncStatus(Snapshot):
    status: str
    color: str
    groups: dict[str, SyncGroup]
    in_flight: tuple[str, ...]
    peers: dict[str, SyncPeer]
    synced: dict[str, Any]
    cid: str | None
    summary: str = ""               # F5's summary and detail lines (sync.describe)
    details: tuple[str, ...] = ()
    synced_at: dict[str, float] = dataclasses.field(default_factory=dict)   # group -> when it last synced


# -- failover -------------------------------------------------------------------------------
@frozen
class FailoverPeer(Snapshot):
    alive: bool
    state: str | None
    paths: dict[str, str]  # heartbeat path -> up | down
    ages: dict[str, float | None] = dataclasses.field(default_factory=dict)   # path -> s since heard
    local: dict[str, str | None] = dataclasses.field(default_factory=dict)   # path -> ours (multicast: interface)


@frozen
class TrafficGroupRow(Snapshot):
    """One row of `show cm traffic-group`: a traffic group on one device."""
    tg: str
    device: str
    state: str
    next_active: bool
    load: int | None
    next_active_load: int | None
    ha_score: int | None = None


@frozen
class FailoverStatus(Snapshot):
    device: str
    state: str             # ACTIVE | STANDBY | OFFLINE | FORCED OFFLINE
    traffic_groups: dict[str, str]
    peers: dict[str, FailoverPeer]
    split_brain: dict[str, str]
    timeout: float
    interval: float
    floating: tuple[str, ...]
    garps_sent: int
    bad_heartbeats: int
    state_for: float = 0.0   # seconds in this state (sys failover: "Failover active for 0d 01:20:32")
    groups: tuple[TrafficGroupRow, ...] = ()
    forged_heartbeats: int = 0     # not signed by a device of the trust domain
    replayed_heartbeats: int = 0   # signed, but seen before
    failsafe: dict[str, str] = dataclasses.field(default_factory=dict)   # tripped failsafe -> its action
    multicast: str | None = None   # the multicast path joined, INTERFACE:GROUP:PORT (cm device multicast-*)

    def active_groups(self) -> list[str]:
        return sorted(tg for tg, st in self.traffic_groups.items() if st == "active")


# -- LTM ------------------------------------------------------------------------------------
@frozen
class TrafficStats(Snapshot):
    cur_conns: int
    tot_conns: int
    bytes_in: int
    bytes_out: int
    refused: int


@frozen
class VirtualHealth(Snapshot):
    destination: str
    pool: str
    availability: str
    reason: str
    traffic_group: str
    serving: bool
    stats: TrafficStats
    mirror: str = "disabled"   # connection mirroring (`mirror enabled`)
    internal: bool = False     # an internal virtual (content adaptation): never serves clients


@frozen
class MemberReport(Snapshot):
    availability: str
    reason: str
    session: str
    state: str
    monitor: str
    stats: TrafficStats


@frozen
class PoolReport(Snapshot):
    availability: str
    reason: str
    mode: str | None
    monitor: str
    stats: TrafficStats
    members: dict[str, MemberReport]


@frozen
class LtmStatus(Snapshot):
    virtuals: dict[str, VirtualHealth]
    pools: dict[str, PoolReport]


# -- GTM ------------------------------------------------------------------------------------
@frozen
class GtmIQueryPeer(Snapshot):
    state: str
    reason: str
    address: str
    certificate: Any
    last_update_age: float | None
    updates: int
    subscribed: bool
    sync: Any              # what that peer last said of its GTM sync group


@frozen
class GtmSync(Snapshot):
    group: str
    enabled: bool
    gen: tuple[Any, ...]
    peers: tuple[str, ...]


@frozen
class GtmServer(Snapshot):
    device: str | None
    state: str
    reason: str
    age: float | None


@frozen
class GtmMember(Snapshot):
    state: str
    reason: str
    usable: bool


@frozen
class ListenerStats(Snapshot):
    address: str
    port: int
    udp_queries: int
    tcp_queries: int
    errors: int


@frozen
class AnswererStats(Snapshot):
    queries: int
    misses: int
    cached: int


@frozen
class WideIpStats(Snapshot):
    requests: int
    resolutions: int
    dropped: int
    returnToDns: int


@frozen
class GtmStatus(Snapshot):
    iquery: dict[str, GtmIQueryPeer]
    sync: GtmSync
    servers: dict[str, GtmServer]
    members: dict[str, GtmMember]   # "pool/member" -> state
    listeners: dict[str, ListenerStats]
    answerer: AnswererStats
    wideips: dict[str, WideIpStats] = dataclasses.field(default_factory=dict)   # "a www.example.com" -> counters


# -- the node -------------------------------------------------------------------------------
@frozen
class NodeStatus(Snapshot):
    name: str
    kind: str
    pid: int
    mgmt: str
    modules: tuple[str, ...]
    uptime: float
    clock: ClockStatus
    ntp: NtpStatus | None
    iquery: IQueryStatus
    sync: SyncStatus
    failover: FailoverStatus
    ltm: LtmStatus
    gtm: GtmStatus | None = None


def read_part(name: str, data):
    """One part of a NodeStatus by its field name ("sync", "failover"...), validated as declared:
    a reader that needs one part need not build, send and check the whole node's status."""
    hint = _parts().get(name)
    if hint is None or name in HEADER:
        raise KeyError(name)
    return _adapter(hint).validate_python(data)


@cache
def _parts() -> dict:
    return get_type_hints(NodeStatus)   # evaluates every annotation's text: once


def prepare(names) -> None:
    """Build the readers of these parts now (pydantic's validators, 70 ms of CPU each), as `up`
    does on a thread while the kernel wires the lab, before its first status read."""
    for name in names:
        _adapter(_parts()[name])


def part_names() -> list[str]:
    return [f.name for f in dataclasses.fields(NodeStatus) if f.name not in HEADER]


HEADER = ("name", "kind", "pid", "mgmt", "modules", "uptime")   # not parts: each call has them
