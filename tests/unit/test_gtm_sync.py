"""The GTM sync group between two GTM services over an in-memory stand-in for 4353 (trio)."""
import trio

from node.config.schema import full_path
from node.config.store import ConfigStore, Op
from node.config.tmsh import parse
from node.events import ChannelOpened, Hub
from node.gtm.publish import Publisher
from node.gtm.service import GTM
from node.iquery.messages import GtmConfig, decode
from node.log import Log


class Peer:
    def __init__(self, name):
        self.name = name


class Wire:
    """Two devices' iQuery: send_to delivers to the other side's handler, as the channel would."""

    def __init__(self):
        self.ends = {}

    def end(self, name):
        wire = self

        class End:
            def __init__(self):
                self.handlers, self.name, self.events = {}, name, Hub()
                self.store = type("S", (), {"peers": lambda _s: [Peer(n) for n in wire.ends if n != name]})()

            def handle(self, kind, handler):
                self.handlers[kind] = handler

            def connected(self, peer):
                return peer in wire.ends

            def status(self):
                return {"peers": {}}

            async def send_to(self, peer, msg):
                other = wire.ends[peer]
                handler = other.handlers.get(type(msg))
                if handler:
                    await handler(type("C", (), {"peer": name})(), decode(msg.to_wire()))
                return True

        self.ends[name] = End()
        return self.ends[name]


class NoLTM:
    def virtual_health(self):
        return {}


def tmsh(store, line):
    cmd = parse(line)
    path = cmd.name if cmd.type in ("gtm topology", "gtm global-settings") else full_path(cmd.name)
    store.commit([Op(cmd.verb, cmd.type, path, cmd.values)])


async def start(nursery, wire, name, tmp_path):
    iq = wire.end(name)
    store = ConfigStore(None, name, events=iq.events)
    log = Log(tmp_path / f"{name}.jsonl", name)
    pub = Publisher(name, iq, NoLTM(), [], log, iq.events)
    gtm = GTM(name, store, iq, log, iq.events)
    await nursery.start(pub.run)
    await nursery.start(gtm.run)
    return store, iq, gtm


async def test_the_newest_configuration_wins_inside_one_sync_group(tmp_path, autojump_clock):
    wire = Wire()
    async with trio.open_nursery() as nursery:
        s1, iq1, _ = await start(nursery, wire, "gtm1", tmp_path)
        s2, iq2, _ = await start(nursery, wire, "gtm2", tmp_path)
        for line in ("modify gtm global-settings general synchronization yes synchronization-group-name g",
                     "create gtm datacenter nyc", "create gtm datacenter lon"):
            tmsh(s1, line)
        iq1.events.publish(ChannelOpened("gtm2", outbound=True))   # the channels open
        iq2.events.publish(ChannelOpened("gtm1", outbound=True))
        await trio.sleep(1)
        assert s2.get("gtm datacenter", "/Common/nyc") is None            # gtm2 has sync off
        tmsh(s2, "modify gtm global-settings general synchronization yes synchronization-group-name g")
        await trio.sleep(1)
        assert s2.get("gtm datacenter", "/Common/lon") is not None        # gtm1's was newer: it came over
        tmsh(s2, "create gtm datacenter sgp")
        await trio.sleep(1)
        assert s1.get("gtm datacenter", "/Common/sgp") is not None        # and back the other way
        assert s1.gtm_gen == s2.gtm_gen
        tmsh(s2, "modify gtm global-settings general synchronization-group-name other")
        tmsh(s2, "create gtm datacenter syd")
        await trio.sleep(1)
        assert s1.get("gtm datacenter", "/Common/syd") is None            # another group: not shared
        nursery.cancel_scope.cancel()


async def test_the_sync_group_shows_as_the_device_group_gtm_with_each_members_generation(tmp_path, autojump_clock):
    wire = Wire()
    async with trio.open_nursery() as nursery:
        s1, iq1, g1 = await start(nursery, wire, "gtm1", tmp_path)
        s2, iq2, g2 = await start(nursery, wire, "gtm2", tmp_path)
        tmsh(s1, "modify gtm global-settings general synchronization yes synchronization-group-name g")
        iq1.events.publish(ChannelOpened("gtm2", outbound=True))
        iq2.events.publish(ChannelOpened("gtm1", outbound=True))
        await trio.sleep(1)
        assert g1.sync_group() == {}                                       # no member has sync on
        tmsh(s2, "modify gtm global-settings general synchronization yes synchronization-group-name g")
        await trio.sleep(1)
        assert s1.gtm_gen == s2.gtm_gen
        assert g1.sync_group() == {"gtm": (s1.gtm_gen, {"gtm2": s2.gtm_gen})}
        assert g2.sync_group() == {"gtm": (s2.gtm_gen, {"gtm1": s1.gtm_gen})}
        nursery.cancel_scope.cancel()


async def test_a_configuration_pushed_before_the_gtm_task_starts_is_taken(tmp_path, autojump_clock):
    # a restarted GTM: its 4353 channels open, and a group member pushes, before its task starts
    wire = Wire()
    async with trio.open_nursery() as nursery:
        s1, iq1, g1 = await start(nursery, wire, "gtm1", tmp_path)
        iq2 = wire.end("gtm2")
        s2 = ConfigStore(None, "gtm2", events=iq2.events)
        log2 = Log(tmp_path / "gtm2.jsonl", "gtm2")
        pub2, g2 = Publisher("gtm2", iq2, NoLTM(), [], log2, iq2.events), GTM("gtm2", s2, iq2, log2, iq2.events)
        for store in (s1, s2):
            tmsh(store, "modify gtm global-settings general synchronization yes synchronization-group-name g")
        tmsh(s1, "create gtm datacenter nyc")
        await iq1.send_to("gtm2", GtmConfig("g", list(s1.gtm_gen), s1.snapshot("gtm")))
        assert s2.get("gtm datacenter", "/Common/nyc") is not None
        await nursery.start(pub2.run)
        await nursery.start(g2.run)
        await trio.sleep(1)
        assert g1.sync_peers["gtm2"]["gen"] == list(s1.gtm_gen)     # and its new generation told once running
        nursery.cancel_scope.cancel()
