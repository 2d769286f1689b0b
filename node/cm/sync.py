"""Config sync decisions, sans-IO: statuses in F5's words and what to send to a peer.

Inputs are commit ids (see node/config/store.py): ours, the peer's, and the one the group last
agreed on. A side whose commit id differs from the last synced one has changes; when both do,
that is a "possible change conflict", which is never resolved silently: the user picks a side
with `run cm config-sync to-group G` (push ours) or `from-group G` (take theirs).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..config.store import Cid

IN_SYNC = "In Sync"
CHANGES_PENDING = "Changes Pending"
AWAITING = "Awaiting Initial Sync"
NOT_ALL = "Not All Devices Synced"
DISCONNECTED = "Disconnected"
FAILURE = "Sync Failure"

COLOR = {IN_SYNC: "green", CHANGES_PENDING: "blue", AWAITING: "blue", NOT_ALL: "yellow",
         DISCONNECTED: "red", FAILURE: "red"}


@dataclass(frozen=True)
class Side:
    name: str
    cid: Cid | None
    synced: Cid | None        # the commit the group last agreed on, as this side recorded it
    ever_synced: bool = True


@dataclass(frozen=True)
class PairStatus:
    status: str
    detail: str


def pair_status(me: Side, peer: Side | None, connected: bool, failure: str | None = None) -> PairStatus:
    """How the local device stands with one peer of a device group."""
    if peer is None:
        return PairStatus(DISCONNECTED, "no status from this peer yet" if connected else "disconnected")
    if not connected:
        return PairStatus(DISCONNECTED, f"{peer.name}: disconnected")
    if failure:
        return PairStatus(FAILURE, f"{peer.name}: {failure}")
    if me.cid == peer.cid:
        if not (me.ever_synced and peer.ever_synced) and me.cid is None:
            return PairStatus(AWAITING, f"{peer.name}: awaiting the initial sync")
        return PairStatus(IN_SYNC, f"{peer.name}: connected, in sync")
    if not me.ever_synced and not peer.ever_synced:
        return PairStatus(AWAITING, f"{peer.name}: awaiting the initial sync")
    base = me.synced if me.synced == peer.synced else None
    mine_changed = me.cid != base
    theirs_changed = peer.cid != base
    if mine_changed and theirs_changed:
        return PairStatus(CHANGES_PENDING,
                          f"possible change conflict between {me.name} and {peer.name}: "
                          f"sync one to the group (run cm config-sync to-group / from-group)")
    newer = me.name if mine_changed else peer.name
    return PairStatus(CHANGES_PENDING, f"{newer} has changes pending: sync {newer} to the group")


def group_status(pairs: dict[str, PairStatus]) -> str:
    if not pairs:
        return IN_SYNC
    statuses = [p.status for p in pairs.values()]
    if all(s == IN_SYNC for s in statuses):
        return IN_SYNC
    if FAILURE in statuses:
        return FAILURE
    if all(s == DISCONNECTED for s in statuses):
        return DISCONNECTED
    if AWAITING in statuses and IN_SYNC not in statuses:
        return AWAITING
    if len(pairs) > 1 and IN_SYNC in statuses:
        return NOT_ALL
    if CHANGES_PENDING in statuses:
        return CHANGES_PENDING
    return DISCONNECTED


def should_push(me: Side, peer: Side, auto_sync: bool) -> bool:
    """Auto-sync pushes only when the peer has nothing of its own since the last agreed commit."""
    return (auto_sync and me.ever_synced and peer.ever_synced and me.cid != peer.cid
            and me.cid != me.synced and peer.cid == me.synced and peer.synced == me.synced)
