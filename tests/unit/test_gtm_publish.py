"""The LTM side of GTM health: what is sent, when (trio MockClock, a fake channel)."""
import trio
import trio.testing

from node.events import GtmPeerStatus, HealthChanged, Hub
from node.gtm.health import PUBLISH_INTERVAL
from node.gtm.publish import Publisher
from node.iquery.messages import GtmSubscribe
from node.log import Log


class FakeIQuery:
    def __init__(self):
        self.handlers, self.sent = {}, []

    def handle(self, kind, handler):
        self.handlers[kind] = handler

    async def send_to(self, peer, msg):
        self.sent.append((trio.current_time(), peer, msg))
        return True


class FakeLTM:
    def __init__(self):
        self.availability = "available"

    def virtual_health(self):
        return {"vs_www": {"destination": "10.10.1.100:80", "availability": self.availability,
                           "reason": "r", "stats": {"cur_conns": 0}}}


class Channel:
    peer = "gtm1"


async def test_health_goes_out_on_subscribe_on_change_and_every_interval(tmp_path, autojump_clock):
    iq, ltm = FakeIQuery(), FakeLTM()
    hub = Hub()
    pub = Publisher("ltm-nyc", iq, ltm, ["10.10.1.11"], Log(tmp_path / "l.jsonl", "ltm-nyc"), hub)
    heard = []
    hub.subscribe(GtmPeerStatus, heard.append)
    async with trio.open_nursery() as nursery:
        await nursery.start(pub.run)
        await trio.sleep(5)
        assert iq.sent == []                       # nobody subscribed: nothing sent
        start = trio.current_time()
        subscribe = GtmSubscribe({"group": "g", "enabled": True, "gen": [1, "x"]})
        await iq.handlers[GtmSubscribe](Channel(), subscribe)
        await trio.sleep(0.01)
        assert len(iq.sent) == 1 and iq.sent[0][1] == "gtm1" and heard == [GtmPeerStatus("gtm1", subscribe.sync)]
        assert iq.sent[0][2].virtuals["vs_www"]["availability"] == "available"
        await trio.sleep(PUBLISH_INTERVAL * 3 + 0.1)
        times = [t - start for t, _, _ in iq.sent]
        assert len(times) == 4 and all(b - a >= PUBLISH_INTERVAL for a, b in zip(times, times[1:]))
        ltm.availability = "offline"
        await trio.sleep(0.3)
        assert iq.sent[-1][2].virtuals["vs_www"]["availability"] == "available"   # nothing polls
        before = trio.current_time()
        hub.publish(HealthChanged("/Common/p", "/Common/n:80", "down"))
        await trio.testing.wait_all_tasks_blocked()
        assert iq.sent[-1][2].virtuals["vs_www"]["availability"] == "offline"
        assert iq.sent[-1][0] == before            # a change goes out on its event, not at the interval
        nursery.cancel_scope.cancel()


async def test_a_subscription_before_the_publisher_runs_is_kept(tmp_path, autojump_clock):
    # a restarted LTM: the GTM's channel opens and it subscribes before the publisher's task starts
    iq, ltm = FakeIQuery(), FakeLTM()
    pub = Publisher("ltm-nyc", iq, ltm, ["10.10.1.11"], Log(tmp_path / "l.jsonl", "ltm-nyc"), Hub())
    await iq.handlers[GtmSubscribe](Channel(), GtmSubscribe({"group": "g", "enabled": False, "gen": [0, ""]}))
    async with trio.open_nursery() as nursery:
        await nursery.start(pub.run)
        await trio.sleep(0.01)
        assert [peer for _, peer, _ in iq.sent] == ["gtm1"]
        nursery.cancel_scope.cancel()
