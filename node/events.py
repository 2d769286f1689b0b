"""The daemon's one event path: a typed in-process hub (h11's _events.py as the model).

A service publishes what happened as one of the frozen classes below; the others subscribe by
class and are called once per event, in the order they subscribed, synchronously inside
`publish` (so a subscriber that must do IO starts a task in its own nursery). Nothing polls: a
service that waits for a change waits for its event.

    ConfigCommitted       the store   -> CM (push, reconfigure), LTM (reconcile), GTM, publisher
    ChannelOpened/Closed  iQuery      -> CM (hello, sync status), GTM (subscribe, server states)
    MessageReceived       iQuery      -> iqdump's recorder
    FailoverStateChanged  CM failover -> CM sync (status to peers), LTM (virtuals follow the groups)
    PeerDeviceChanged     CM sync     -> CM failover (the peer's failover addresses)
    SyncStatusChanged     CM sync     -> the daemon's log (`biglab events`)
    HealthChanged         LTM         -> CM (status to peers), the GTM health publisher
    GtmPeerStatus         publisher   -> GTM (its sync group peers)
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    pass


@dataclass(frozen=True)
class ConfigCommitted(Event):
    """A change was installed: `changes` (store.Change) by `origin`, at commit id `cid`; whether it
    touched synced, trust-scope or gtm-scope configuration."""
    cid: object
    changes: list
    synced: bool
    trust: bool
    gtm: bool
    origin: str


@dataclass(frozen=True)
class ChannelOpened(Event):
    """A 4353 channel with `peer` (a member of the trust domain) is up: ours to it (outbound) or its to us."""
    peer: str
    outbound: bool


@dataclass(frozen=True)
class ChannelClosed(Event):
    peer: str
    outbound: bool


@dataclass(frozen=True)
class MessageReceived(Event):
    """A message from a trusted peer, as received (the wire map)."""
    peer: str | None
    body: dict


@dataclass(frozen=True)
class FailoverStateChanged(Event):
    """This device became active or standby for one or more traffic groups."""


@dataclass(frozen=True)
class PeerDeviceChanged(Event):
    """A peer's cm-status brought new device info (its ConfigSync and failover addresses)."""
    peer: str


@dataclass(frozen=True)
class SyncStatusChanged(Event):
    status: str
    was: str


@dataclass(frozen=True)
class HealthChanged(Event):
    """A pool member's monitor status changed."""
    pool: str
    member: str
    state: str


@dataclass(frozen=True)
class EphemeraChanged(Event):
    """This device's FQDN resolution changed its ephemeral nodes and members (node/ltm/fqdn.py)."""


@dataclass(frozen=True)
class GtmPeerStatus(Event):
    """A GTM subscribed to this device's health; `sync` is its GTM sync group status."""
    peer: str
    sync: dict


class Hub:
    def __init__(self):
        self._subscribers: dict[type[Event], list] = {}

    def subscribe(self, kind: type[Event], fn) -> None:
        """Call fn(event) for every event of class `kind` published from now on."""
        self._subscribers.setdefault(kind, []).append(fn)

    def publish(self, event: Event) -> None:
        for fn in list(self._subscribers.get(type(event), ())):
            fn(event)
