"""Config sync decisions, sans-IO: statuses in F5's words and what to send to a peer.

Inputs are commit ids (see node/config/store.py): ours, the peer's, and the one the group last
agreed on. A side whose commit id differs from the last synced one has changes; when both do,
that is a "possible change conflict", which is never resolved silently: the user picks a side
with `run cm config-sync to-group G` (push ours) or `from-group G` (take theirs).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..config.store import Cid
from ..iquery.messages import CmStatus, SyncResult

IN_SYNC = "In Sync"
CHANGES_PENDING = "Changes Pending"
AWAITING = "Awaiting Initial Sync"
NOT_ALL = "Not All Devices Synced"
DISCONNECTED = "Disconnected"
FAILURE = "Sync Failure"
STANDALONE = "Standalone"

COLOR = {IN_SYNC: "green", STANDALONE: "green", CHANGES_PENDING: "yellow", NOT_ALL: "yellow",
         AWAITING: "red", DISCONNECTED: "red", FAILURE: "red"}
IN_SYNC_TEXT = "All devices in the device group are in sync"


@dataclass(frozen=True)
class Side:
    name: str
    cid: Cid | None
    synced: Cid | None        # the commit the group last agreed on, as this side recorded it
    ever_synced: bool = True
    past: frozenset = frozenset()   # commit ids this side's configuration went through (its recent commits' bases)


def behind(me: Side, peer: Side) -> bool:
    """The peer's configuration is one ours went through: it has nothing of its own, it only lacks
    our newer commits (as when we were killed before its sync result came back: its `synced`
    moved, ours did not)."""
    return peer.cid != me.cid and peer.cid in me.past


def moved_on(me: Side, peer: Side) -> bool:
    """The peer's configuration went on from ours: ours is a commit the peer made, agreed, and we
    have made none since. Its record of the last agreed commit may be older (it was killed before
    our sync result came back), yet we have nothing of our own: its changes are pending, no conflict."""
    return me.cid is not None and me.cid == me.synced and me.cid.orig == peer.name and peer.cid != me.cid


@dataclass(frozen=True)
class PairStatus:
    status: str
    detail: str
    newer: str | None = None     # Changes Pending: the device to sync to the group (the newest change)


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
    if behind(me, peer):
        return pending(me.name)
    if moved_on(me, peer):
        return pending(peer.name)
    base = me.synced if me.synced == peer.synced else None
    mine_changed = me.cid != base
    theirs_changed = peer.cid != base
    if mine_changed and theirs_changed:
        newest = me.name if (me.cid and (not peer.cid or me.cid.id >= peer.cid.id)) else peer.name
        return PairStatus(CHANGES_PENDING,
                          f"There is a possible change conflict between {me.name} and {peer.name}: "
                          f"sync one to the group (run cm config-sync to-group / from-group)", newest)
    return pending(me.name if mine_changed else peer.name)


def pending(newer: str) -> PairStatus:
    return PairStatus(CHANGES_PENDING, f"{newer} has changes pending: sync {newer} to the group", newer)


def generation_pairs(mine, peers: dict[str, list], connected) -> dict[str, PairStatus]:
    """A group synchronized by generation rather than by commits: the GTM sync group, which a
    BIG-IP shows as its device group `gtm`. A peer is in sync when its generation (a Lamport
    [counter, device]) is ours; otherwise the side with the newer one has changes pending (GTM
    sync sends them on its own)."""
    pairs = {}
    for peer, gen in sorted(peers.items()):
        if not connected(peer):
            pairs[peer] = PairStatus(DISCONNECTED, f"{peer}: disconnected")
        elif tuple(gen) == tuple(mine):
            pairs[peer] = PairStatus(IN_SYNC, f"{peer}: connected, in sync")
        else:
            pairs[peer] = pending(peer if tuple(gen) > tuple(mine) else mine[1])
    return pairs


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


def describe(overall: str, groups: dict[str, tuple[str, dict[str, PairStatus]]],
             connected_for: dict[str, float | None]) -> tuple[str, list[str]]:
    """The summary and detail lines a BIG-IP prints for its sync status: first each peer once
    (`bigip2: connected (for 1234s)`), then per group `dg-ha (In Sync): All devices in the device
    group are in sync`; a group of three or more devices that is not in sync names each peer that
    is not (`bigip3: Changes Pending`), and `Recommended action: Synchronize bigip1 to group dg-ha`
    follows when changes are pending. `groups`: name -> (status, pairs); `connected_for`: peer ->
    seconds, None if down."""
    if overall == STANDALONE:
        return " ", ["Optional action: Add a device to the trust domain"]
    peers = sorted({p for _, pairs in groups.values() for p in pairs})
    lines = [f"{p}: disconnected" if connected_for.get(p) is None else f"{p}: connected (for {int(connected_for[p])}s)"
             for p in peers]
    summary = None
    for name, (status, pairs) in groups.items():
        pending = [p for p in pairs.values() if p.status == CHANGES_PENDING]
        head = IN_SYNC_TEXT if status == IN_SYNC else (pending[0].detail.split(":")[0] if pending else status)
        summary = summary or (head if status != IN_SYNC else None)
        lines.append(f"{name} ({status}): {head}")
        if status != IN_SYNC and len(pairs) > 1:
            lines += [f"{peer}: {p.status}" for peer, p in sorted(pairs.items()) if p.status != IN_SYNC]
        if pending:
            lines.append(f"Recommended action: Synchronize {pending[0].newer} to group {name}")
    return summary or IN_SYNC_TEXT, lines


def member_groups(store, device: str) -> dict[str, dict]:
    """The device groups (path -> object) that `device` is a member of, in a config store."""
    return {p: v for p, v in store.of_type("cm device-group").items() if device in v.get("devices", [])}


def should_push(me: Side, peer: Side, auto_sync: bool) -> bool:
    """Auto-sync pushes only when the peer has nothing of its own since the last agreed commit."""
    return (auto_sync and me.ever_synced and peer.ever_synced and me.cid != peer.cid
            and (behind(me, peer) or (me.cid != me.synced and peer.cid == me.synced and peer.synced == me.synced)))


# -- the config sync decider ------------------------------------------------------------------------
# The CM shell feeds it what happens (a commit, a peer's status, a push's result, a channel opening)
# with a snapshot of this device's side (Local); it keeps the peer, push and failure bookkeeping and
# returns what to do. A push in flight to a peer blocks further pushes of that group to it until its
# result comes back (or the channel reopens), so a commit never races a push carrying the same base.
# A peer numbers its status messages (seq, per boot): one that arrives after a newer one (statuses
# and sync results travel on different channels and tasks) is stale and ignored, else a stale commit
# id would start a push the peer must refuse, then a full sync.

@dataclass(frozen=True)
class Group:
    path: str
    devices: tuple[str, ...]
    type: str | None = None
    auto_sync: bool = False
    full_sync: bool = False


@dataclass(frozen=True)
class Local:
    """This device's side, as its store has it now."""
    device: str
    cid: Cid | None
    synced: dict            # group path -> Cid | None agreed at its last sync; absent: never synced
    groups: dict            # group path -> Group, the device groups this device is in
    past: frozenset = frozenset()   # commit ids our configuration went through (the store's commit cache)

    def side(self, group: str) -> Side:
        return Side(self.device, self.cid, self.synced.get(group), group in self.synced, self.past)

    def marked(self, group: str, cid: Cid | None) -> "Local":
        return Local(self.device, self.cid, {**self.synced, group: cid}, self.groups, self.past)


@dataclass(frozen=True)
class Push:
    """Send our configuration of `group` to `peer`: all of it, or the commits it lacks."""
    group: str
    peer: str
    full: bool
    auto: bool


@dataclass(frozen=True)
class MarkSynced:
    """The group agreed on `cid`: record it."""
    group: str
    cid: Cid | None


@dataclass(frozen=True)
class SendStatus:
    """Tell `peer` our status (it restarted and may know nothing of us)."""
    peer: str


@dataclass(frozen=True)
class Refused:
    """`peer` refused our configuration of `group`: a Sync Failure until the next sync to it."""
    group: str
    peer: str
    error: str


def _newer(seq, last) -> bool:
    return seq is None or last is None or seq > last


class ConfigSync:
    def __init__(self, device: str):
        self.device = device
        self.peers: dict[str, dict] = {}      # name -> last status: cid, synced, device, failover, boot, seq, at
        self.failures: dict[tuple[str, str], str] = {}
        self.in_flight: set[tuple[str, str]] = set()   # (group, peer): a push awaiting its result

    def peer_side(self, group: str, peer: str) -> Side | None:
        info = self.peers.get(peer)
        if info is None:
            return None
        synced = info["synced"]
        return Side(peer, Cid.of(info["cid"]), Cid.of(synced.get(group)), group in synced)

    # -- inputs -----------------------------------------------------------------------------------
    def status(self, local: Local, peer: str, msg: CmStatus, connected, now: float) -> list:
        """A peer's cm-status: its commit id, what it last synced, its device and failover info."""
        old = self.peers.get(peer, {})
        actions = []
        if old.get("boot") != msg.boot:
            actions.append(SendStatus(peer))
            self._drop_in_flight(peer)        # a push to its previous run gets no result
        elif not _newer(msg.seq, old.get("seq")):
            return []
        self.peers[peer] = {"cid": msg.cid, "synced": msg.synced, "device": msg.device, "failover": msg.failover,
                            "boot": msg.boot, "seq": msg.seq, "at": now, "synced_at": msg.synced_at}
        return actions + self._pushes(local, peer, connected)

    def committed(self, local: Local, connected) -> list:
        """A local commit to synced configuration: auto-sync it to the peers that can take it."""
        peers = sorted({d for g in local.groups.values() for d in g.devices if d != self.device})
        return [a for peer in peers for a in self._pushes(local, peer, connected)]

    def restarted(self) -> None:
        """mcpd restarted: failures and pushes in flight are forgotten; the peers' next statuses
        decide sync again."""
        self.failures.clear()
        self.in_flight.clear()

    def sent(self, push: Push, ok: bool) -> None:
        """The shell tried to send a push; not ok: no channel was up, nothing is in flight."""
        if not ok:
            self.in_flight.discard((push.group, push.peer))

    def result(self, local: Local, peer: str, msg: SyncResult, connected) -> list:
        """A peer's sync-result for a push of ours."""
        group = msg.group
        self.in_flight.discard((group, peer))
        if msg.need_full:
            # Our incremental push started from a stale idea of the peer's commit: it may have
            # committed on its own (a partition), and a full push would drop that side silently.
            # Its status, sent after the refusal, decides again: a push, or a conflict reported.
            if _newer(msg.seq, self.peers.get(peer, {}).get("seq")):
                return []                                # that status is still on its way
            return self._pushes(local, peer, connected)  # it came first
        if not msg.ok:
            self.failures[(group, peer)] = msg.error or "refused"
            return [Refused(group, peer, msg.error)]
        cid = Cid.of(msg.cid)
        self.failures.pop((group, peer), None)
        info = self.peers.setdefault(peer, {"cid": None, "synced": {}, "device": {}, "failover": {}})
        info["cid"], info["synced"] = msg.cid, {**info["synced"], group: msg.cid}
        if _newer(msg.seq, info.get("seq")):
            info["seq"] = msg.seq
        # then the commits made while that push was in flight
        return [MarkSynced(group, cid)] + self._pushes(local.marked(group, cid), peer, connected)

    def opened(self, peer: str) -> None:
        """A channel to `peer` (re)opened: results of pushes sent before will not come."""
        self._drop_in_flight(peer)

    def closed(self, peer: str) -> None:
        """A channel to or from `peer` closed: a push it carried gets no result, so it must not
        block the next one (the peer's status on reconnect decides again). If the push went on
        another channel its result still comes; a push repeated meanwhile is refused and dropped."""
        self._drop_in_flight(peer)

    def to_group(self, group: str, peers: list[str]) -> list[Push]:
        """`run cm config-sync to-group`: all of ours to every peer, failures forgotten."""
        for p in peers:
            self.failures.pop((group, p), None)
        return [self._push(group, p, full=True, auto=False) for p in peers]

    def requested(self, group: str, peer: str) -> Push:
        """The peer asked for our configuration (`config-sync from-group` on it): all of it."""
        return self._push(group, peer, full=True, auto=False)

    def newest(self, peers: list[str]) -> str:
        """The peer with the newest configuration: the source of `config-sync from-group`."""
        return max(peers, key=lambda p: (Cid.of(self.peers.get(p, {}).get("cid")) or Cid(0, "", 0)).id)

    # -- views ------------------------------------------------------------------------------------
    def pairs(self, local: Local, group: str, connected) -> dict[str, PairStatus]:
        return {peer: pair_status(local.side(group), self.peer_side(group, peer), connected(peer),
                                  self.failures.get((group, peer)))
                for peer in local.groups[group].devices if peer != self.device}

    # -- internals --------------------------------------------------------------------------------
    def _pushes(self, local: Local, peer: str, connected) -> list[Push]:
        out = []
        for path, g in local.groups.items():
            if peer not in g.devices or (path, peer) in self.in_flight:
                continue
            them = self.peer_side(path, peer)
            if them and connected(peer) and should_push(local.side(path), them, g.auto_sync):
                out.append(self._push(path, peer, full=g.full_sync, auto=True))
        return out

    def _push(self, group: str, peer: str, full: bool, auto: bool) -> Push:
        self.in_flight.add((group, peer))
        return Push(group, peer, full, auto)

    def _drop_in_flight(self, peer: str) -> None:
        self.in_flight = {k for k in self.in_flight if k[1] != peer}
