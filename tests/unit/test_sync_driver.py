"""The config sync driver end to end between two devices, over an in-memory stand-in for 4353
(trio MockClock): the initial sync, auto-sync of a commit, and the status events."""
import trio

from node.cm.sync_driver import SyncDriver
from node.config.store import ConfigStore, Op
from node.events import ChannelOpened, Hub, SyncStatusChanged
from node.iquery.messages import CmStatus, decode
from node.log import Log

DG = "/Common/dg"


class Wire:
    """Each device's transport: a message is handed, in its wire form, to the other side's handler
    for its class; the handler's channel replies to the sender."""

    def __init__(self):
        self.ends = {}
        self.drop = lambda src, dst, msg: False   # a message lost on the way

    def end(self, name):
        self.ends[name] = End(self, name)
        return self.ends[name]

    async def deliver(self, src, dst, msg):
        if self.drop(src, dst, msg):
            return
        await self.ends[dst].handlers[type(msg)](Channel(self, dst, src), decode(msg.to_wire()))


class Channel:
    def __init__(self, wire, me, peer):
        self.wire, self.me, self.peer = wire, me, peer

    async def send(self, msg):
        await self.wire.deliver(self.me, self.peer, msg)


class End:
    def __init__(self, wire, name):
        self.wire, self.name, self.handlers = wire, name, {}
        self.store = self      # the trust store's peers()

    def peers(self):
        return [type("Member", (), {"name": n})() for n in self.wire.ends if n != self.name]

    def handle(self, kind, handler):
        self.handlers[kind] = handler

    def connected(self, peer):
        return peer in self.wire.ends

    async def send_to(self, peer, msg):
        await self.wire.deliver(self.name, peer, msg)
        return True


async def device(nursery, wire, name, tmp_path, now=None, auto_sync="enabled"):
    hub = Hub()
    store = ConfigStore(None, name, events=hub, **({"now": now} if now else {}))
    store.commit([Op("create", "cm device-group", DG, {"devices": ("set", ["bigip1", "bigip2"]),
                                                       "type": ("set", "sync-failover"),
                                                       "auto-sync": ("set", auto_sync)})])
    driver = SyncDriver(name, store, wire.end(name), Log(tmp_path / f"{name}.jsonl", name), hub,
                        lambda: None, lambda: {})
    await nursery.start(driver.run)
    return store, driver, hub


async def test_an_initial_sync_then_a_commit_auto_synced_and_the_status_events(tmp_path, autojump_clock):
    wire = Wire()
    async with trio.open_nursery() as nursery:
        s1, d1, hub1 = await device(nursery, wire, "bigip1", tmp_path)
        s2, d2, hub2 = await device(nursery, wire, "bigip2", tmp_path)
        changes = []
        hub1.subscribe(SyncStatusChanged, changes.append)
        hub1.publish(ChannelOpened("bigip2", outbound=True))   # as the transport does: each says hello
        hub2.publish(ChannelOpened("bigip1", outbound=True))
        await trio.sleep(0.1)
        s1.commit([Op("create", "ltm pool", "/Common/p0", {})])
        assert d1.sync_status()["status"] == "Awaiting Initial Sync"
        await d1.config_sync("to-group", "dg")
        await trio.sleep(1)
        assert s2.cid == s1.cid and d1.sync_status()["status"] == d2.sync_status()["status"] == "In Sync"
        s1.commit([Op("create", "ltm pool", "/Common/p1", {})])
        await trio.sleep(1)
        assert s2.get("ltm pool", "/Common/p1") is not None and s2.cid == s1.cid
        assert d1.sync_status()["status"] == "In Sync" and d1.sync_status()["in_flight"] == []
        # each change once, as it happens: a commit is pending until its push comes back
        assert [c.status for c in changes] == ["Awaiting Initial Sync", "In Sync", "Changes Pending", "In Sync"]
        nursery.cancel_scope.cancel()


async def test_time_since_last_sync_counts_from_the_last_sync_on_each_device(tmp_path, autojump_clock):
    """`show cm device-group`'s Time Since Last Sync: from when the group last agreed on a new
    commit (a commit that syncs restarts it), for this device and as each peer reports it."""
    from types import SimpleNamespace
    from node.shell import Shell
    wire = Wire()
    async with trio.open_nursery() as nursery:
        s1, d1, hub1 = await device(nursery, wire, "bigip1", tmp_path, now=trio.current_time)
        s2, d2, _ = await device(nursery, wire, "bigip2", tmp_path, now=trio.current_time)
        hub1.publish(ChannelOpened("bigip2", outbound=True))
        await trio.sleep(0.1)
        s1.commit([Op("create", "ltm pool", "/Common/p0", {})])
        await d1.config_sync("to-group", "dg")
        await trio.sleep(1)
        synced = s1.synced_at[DG]
        assert s2.synced_at[DG] == synced and d1.sync_status()["peers"]["bigip2"]["synced_at"][DG] == synced
        await trio.sleep(100)      # no change: the time since the last sync grows
        shell = Shell("bigip1", s1, SimpleNamespace(sync_status=d1.sync_status), set, lambda: [])
        rows = [line.split() for line in (await shell.run("show cm device-group dg")).splitlines()
                if line.startswith("dg ")]
        assert [(r[1], r[-2]) for r in rows] == [("bigip1", "101"), ("bigip2", "101")]
        s1.commit([Op("create", "ltm pool", "/Common/p1", {})])     # auto-synced: a new last sync
        await trio.sleep(1)
        assert s1.synced_at[DG] == s2.synced_at[DG] > synced + 100
        nursery.cancel_scope.cancel()


async def test_a_device_that_missed_a_commits_status_notices_at_the_next_recheck(tmp_path, autojump_clock):
    wire = Wire()
    async with trio.open_nursery() as nursery:
        s1, d1, _ = await device(nursery, wire, "bigip1", tmp_path, auto_sync="disabled")
        s2, d2, _ = await device(nursery, wire, "bigip2", tmp_path, auto_sync="disabled")
        d1.events.publish(ChannelOpened("bigip2", outbound=True))
        d2.events.publish(ChannelOpened("bigip1", outbound=True))
        await trio.sleep(0.1)
        s1.commit([Op("create", "ltm pool", "/Common/p0", {})])
        await d1.config_sync("to-group", "dg")
        await trio.sleep(1)
        assert d1.sync_status()["status"] == d2.sync_status()["status"] == "In Sync"
        wire.drop = lambda src, dst, msg: src == "bigip1" and isinstance(msg, CmStatus)
        s1.commit([Op("create", "ltm pool", "/Common/p1", {})])      # manual sync: only a status tells
        await trio.sleep(0.5)
        assert d1.sync_status()["status"] == "Changes Pending" and d2.sync_status()["status"] == "In Sync"
        wire.drop = lambda src, dst, msg: False
        await trio.sleep(5.1)      # within one recheck (5 s), without a new commit
        assert d2.sync_status()["status"] == "Changes Pending"
        nursery.cancel_scope.cancel()


async def test_a_generation_group_that_moves_is_a_status_event_when_rechecked(tmp_path, autojump_clock):
    """The GTM sync group (device group gtm) counts in the overall status: a member with a newer
    generation is Changes Pending, told as SyncStatusChanged once the daemon asks for a recheck."""
    wire = Wire()
    async with trio.open_nursery() as nursery:
        s1, d1, hub1 = await device(nursery, wire, "bigip1", tmp_path)
        s2, d2, hub2 = await device(nursery, wire, "bigip2", tmp_path)
        hub1.publish(ChannelOpened("bigip2", outbound=True))
        hub2.publish(ChannelOpened("bigip1", outbound=True))
        await d1.config_sync("to-group", "dg")
        await trio.sleep(1)
        gens = {"bigip2": [3, "bigip1"]}
        d1.generation_groups = lambda: {"gtm": ([3, "bigip1"], dict(gens))}
        d1.recheck()
        changes = []
        hub1.subscribe(SyncStatusChanged, changes.append)
        assert d1.sync_status()["groups"]["gtm"]["status"] == "In Sync"
        gens["bigip2"] = [5, "bigip2"]
        d1.recheck()
        assert [(c.was, c.status) for c in changes] == [("In Sync", d1.sync_status()["status"])]   # one group of two not in sync
        assert d1.sync_status()["groups"]["gtm"]["status"] == "Changes Pending"
        assert "gtm (Changes Pending): bigip2 has changes pending" in d1.sync_status()["details"]
        nursery.cancel_scope.cancel()
