"""The config sync decider (node/cm/sync.py) under random event orders, property-based: two real
config stores and deciders, wired by a network the test drives by hand. Commits, status messages,
pushes and results are delivered in any order, dropped when a channel resets or a daemon
restarts, and the channels reopen. The shell's part (sync_driver.py) is mirrored in a few lines: what it sends for each
decision. Properties: only declared outcomes; with one writer, once the network is quiet and the
devices have told each other their status, both hold the same configuration, every write, and
say In Sync; with
two writers, a pair that says In Sync holds the same configuration."""
from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.cm import sync
from node.config.store import ANY, Cid, ConfigStore, Op, SyncRefused
from node.errors import ConfigError
from node.iquery import messages as m

DG = "/Common/dg-ha"
NAMES = ("bigip1", "bigip2")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Device:
    """A store, its decider, and what sync_driver.py sends for each decision."""

    def __init__(self, name: str, net: "Net", auto: bool, full: bool):
        self.name, self.net = name, net
        self.peer = next(n for n in NAMES if n != name)
        clock = itertools.count(1)
        self.store = ConfigStore(Path(net.dir.name) / f"{name}.json", name, now=lambda: float(next(clock)))
        self.store.commit([Op("create", "cm device-group", DG, {
            "type": ("set", "sync-failover"), "devices": ("set", list(NAMES)),
            "auto-sync": ("set", "enabled" if auto else "disabled"),
            "full-load-on-sync": ("set", "true" if full else "false")})])
        self.store.mark_synced(DG, None)    # as after the initial sync of an empty configuration
        self.names, self.written = itertools.count(), []
        self.boots = itertools.count()
        self.restart()

    def restart(self) -> None:
        """The daemon starts again (kill -9): the store read back from disk, a new decider and boot id."""
        self.store.reload()
        self.sync = sync.ConfigSync(self.name)
        self.boot, self.seq = f"{self.name}-boot-{next(self.boots)}", 0

    def local(self) -> sync.Local:
        dg = self.store.get("cm device-group", DG)
        group = sync.Group(DG, tuple(dg["devices"]), dg["type"], dg["auto-sync"] == "enabled",
                           dg["full-load-on-sync"] == "true")
        return sync.Local(self.name, self.store.cid, {g: Cid.of(c) for g, c in self.store.synced.items()},
                          {DG: group}, self.store.past())

    def connected(self, _peer) -> bool:
        return True

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def send(self, msg: m.Message) -> None:
        self.net.queue.append((self.name, self.peer, m.decode(msg.to_wire())))   # as on the wire

    def status(self) -> None:
        self.send(m.CmStatus(self.boot, self.next_seq(), self.store.cid.to_list() if self.store.cid else None,
                             dict(self.store.synced)))

    def write(self) -> None:
        n = next(self.names)
        path = f"/Common/{self.name}-{n}"
        self.store.commit([Op("create", "ltm node", path,
                              {"address": ("set", f"10.{NAMES.index(self.name)}.{n // 250}.{n % 250 + 1}")})])
        self.written.append(path)
        self.status()
        self.act(self.sync.committed(self.local(), self.connected))

    def act(self, actions: list) -> None:
        for a in actions:
            if isinstance(a, sync.Push):
                them = self.sync.peer_side(a.group, a.peer)
                commits = None if a.full or them is None else self.store.commits_since(them.cid)
                cid = self.store.cid.to_list() if self.store.cid else None
                if commits is None:
                    base = them.cid.to_list() if a.auto and them and them.cid else None
                    self.send(m.SyncPush(a.group, "full", cid, objects=self.store.snapshot("synced"), auto=a.auto,
                                         base=base))
                else:
                    self.send(m.SyncPush(a.group, "incremental", cid, commits=commits, auto=a.auto))
                self.sync.sent(a, True)
            elif isinstance(a, sync.MarkSynced):
                self.store.mark_synced(a.group, a.cid)
                self.status()
            elif isinstance(a, sync.SendStatus):
                self.status()
            else:
                assert isinstance(a, sync.Refused), a

    def receive(self, msg: m.Message) -> None:
        if isinstance(msg, m.CmStatus):
            self.store.observe(Cid.of(msg.cid))
            self.act(self.sync.status(self.local(), self.peer, msg, self.connected, 0.0))
        elif isinstance(msg, m.SyncPush):
            outcome = {}
            try:
                if msg.mode == "full":
                    self.store.apply_full(msg.objects, Cid.of(msg.cid), self.peer, msg.group,
                                          base=Cid.of(msg.base) if msg.auto else ANY)
                else:
                    self.store.apply_incremental(msg.commits, self.peer, msg.group)
                outcome["ok"] = True
            except SyncRefused:
                outcome["need_full"] = True
            except ConfigError as exc:
                outcome["error"] = str(exc)
            self.send(m.SyncResult(msg.group, msg.cid, seq=self.next_seq(), **outcome))
            self.status()
        elif isinstance(msg, m.SyncResult):
            self.act(self.sync.result(self.local(), self.peer, msg, self.connected))

    def reopen(self) -> None:
        self.sync.opened(self.peer)
        self.status()


class Net:
    def __init__(self, auto: bool = True, full: bool = False):
        self.queue: list[tuple[str, str, m.Message]] = []
        self.dir = tempfile.TemporaryDirectory()     # each device's saved configuration
        self.devices = {n: Device(n, self, auto, full) for n in NAMES}

    def deliver(self, i: int) -> None:
        _src, dst, msg = self.queue.pop(i % len(self.queue))
        self.devices[dst].receive(msg)

    def reset(self, restarted: str | None = None) -> None:
        """The channel drops (what was in flight is lost), a device may restart, and it reopens."""
        self.queue.clear()
        if restarted:
            self.devices[restarted].restart()
        for d in self.devices.values():
            d.reopen()

    def settle(self, order) -> None:
        """Deliver until quiet (in the drawn order), then once more after each side tells its status."""
        for _ in range(2):
            for step in range(10_000):
                if not self.queue:
                    break
                self.deliver(order(step))
            assert not self.queue, "the exchange never quietens"
            for d in self.devices.values():
                d.status()
        while self.queue:
            self.deliver(0)

    def pair(self, name: str) -> sync.PairStatus:
        d = self.devices[name]
        return d.sync.pairs(d.local(), DG, d.connected)[d.peer]

    def configs(self) -> list:
        return [sorted(map(repr, d.store.snapshot("synced"))) for d in self.devices.values()]

    def holds(self, name: str, paths: list[str]) -> bool:
        return all(self.devices[name].store.get("ltm node", p) is not None for p in paths)


EVENT = st.one_of(st.tuples(st.just("write"), st.sampled_from(NAMES)),
                  st.tuples(st.just("deliver"), st.integers(0, 50)),
                  st.tuples(st.just("reset"), st.none() | st.sampled_from(NAMES)))


def run(net: Net, events, writers) -> None:
    for kind, arg in events:
        if kind == "write" and arg in writers:
            net.devices[arg].write()
        elif kind == "deliver" and net.queue:
            net.deliver(arg)
        elif kind == "reset":
            net.reset(arg)


def test_a_sender_killed_between_the_peers_apply_and_its_result_ends_in_sync():
    """kill -9 of bigip1 after bigip2 applied its first commit but before the result came back,
    with a second commit made meanwhile: after the restart (the store read back from disk) the
    pair must not report a possible change conflict, and bigip2 gets the second commit."""
    net = Net()
    net.reset()
    net.settle(lambda step: 0)
    one = net.devices["bigip1"]
    one.write()
    one.write()
    net.deliver(next(i for i, (_s, _d, msg) in enumerate(net.queue) if isinstance(msg, m.SyncPush)))
    net.reset("bigip1")
    net.settle(lambda step: 0)
    assert {net.pair(n).status for n in NAMES} == {sync.IN_SYNC}
    assert net.holds("bigip2", one.written)


def test_a_stale_status_never_makes_the_peer_overwrite_a_newer_commit_of_the_writer():
    """bigip1 makes two commits while its first push is in flight, so bigip2 takes them in one
    batch; a status of bigip1's sent between them arrives late and says it is at the middle one,
    which bigip2's commit cache cannot reach, so bigip2 sends all of its configuration. bigip1 has
    made a third commit meanwhile: it must refuse that full push, not lose the commit."""
    net = Net()
    net.reset()
    net.settle(lambda step: 0)
    one, two = net.devices["bigip1"], net.devices["bigip2"]

    def deliver(kind, dst: str, cid=None) -> None:
        net.deliver(next(i for i, (_s, d, msg) in enumerate(net.queue) if isinstance(msg, kind) and d == dst
                         and (cid is None or msg.cid == cid)))

    one.write()                                    # C1: pushed
    one.write()                                    # C2: waits for C1's result
    middle = one.store.cid.to_list()
    one.write()                                    # C3
    deliver(m.SyncPush, "bigip2")                  # bigip2 at C1
    deliver(m.SyncResult, "bigip1")                # bigip1 pushes C2 and C3 as one batch
    deliver(m.SyncPush, "bigip2")                  # bigip2 at C3, through C2
    deliver(m.CmStatus, "bigip2", middle)          # late: bigip1 "at C2", which bigip2 went through
    one.write()                                    # C4, before bigip2's answer to that status arrives
    while any(isinstance(msg, m.SyncPush) and d == "bigip1" for _s, d, msg in net.queue):
        deliver(m.SyncPush, "bigip1")
    assert net.holds("bigip1", one.written)
    net.settle(lambda step: 0)
    assert net.holds("bigip1", one.written) and net.holds("bigip2", one.written)
    assert {net.pair(n).status for n in NAMES} == {sync.IN_SYNC}


@SETTINGS
@given(st.lists(EVENT, max_size=60), st.lists(st.integers(0, 50), min_size=1), st.booleans())
def test_with_one_writer_the_pair_ends_in_sync_with_the_same_configuration(events, order, full):
    net = Net(full=full)
    run(net, events, {"bigip1"})
    net.settle(lambda step: order[step % len(order)])
    assert net.configs()[0] == net.configs()[1]
    assert net.devices["bigip1"].store.cid == net.devices["bigip2"].store.cid
    assert net.holds("bigip2", net.devices["bigip1"].written), "every acknowledged write reached the peer"
    assert net.holds("bigip1", net.devices["bigip1"].written), "and the writer kept it"
    assert {net.pair(n).status for n in NAMES} == {sync.IN_SYNC}


@SETTINGS
@given(st.lists(EVENT, max_size=60), st.lists(st.integers(0, 50), min_size=1))
def test_with_two_writers_a_pair_that_says_in_sync_holds_the_same_configuration(events, order):
    net = Net()
    run(net, events, set(NAMES))
    net.settle(lambda step: order[step % len(order)])
    for n in NAMES:
        assert net.pair(n).status in (sync.IN_SYNC, sync.CHANGES_PENDING)
        if net.pair(n).status == sync.IN_SYNC:
            assert net.configs()[0] == net.configs()[1]


@SETTINGS
@given(st.lists(EVENT, max_size=40), st.lists(st.integers(0, 50), min_size=1))
def test_without_auto_sync_changes_stay_pending_until_a_sync_to_the_group(events, order):
    net = Net(auto=False)
    run(net, events, {"bigip1"})
    net.settle(lambda step: order[step % len(order)])
    one = net.devices["bigip1"]
    if one.store.cid is None:
        return
    assert net.pair("bigip1").status == sync.CHANGES_PENDING
    one.act(one.sync.to_group(DG, ["bigip2"]))
    net.settle(lambda step: order[step % len(order)])
    assert net.configs()[0] == net.configs()[1]
    assert {net.pair(n).status for n in NAMES} == {sync.IN_SYNC}
