"""The event hub (node/events.py) and who publishes what on it."""
import trio
import trio.testing

from node.config.store import Change, ConfigStore, Op
from node.events import ChannelClosed, ChannelOpened, ConfigCommitted, Hub
from node.gtm.publish import Publisher
from node.log import Log


def test_each_subscriber_of_a_class_gets_each_event_once_in_order():
    hub, got = Hub(), []
    hub.subscribe(ChannelOpened, lambda e: got.append(("first", e)))
    hub.subscribe(ChannelOpened, lambda e: got.append(("second", e)))
    hub.subscribe(ChannelClosed, lambda e: got.append(("closed", e)))
    hub.publish(ChannelOpened("bigip2", outbound=True))
    assert got == [("first", ChannelOpened("bigip2", True)), ("second", ChannelOpened("bigip2", True))]


def test_a_commit_is_published_once_with_typed_changes():
    hub, got = Hub(), []
    hub.subscribe(ConfigCommitted, got.append)
    store = ConfigStore(None, "bigip1", events=hub)
    store.commit([Op("create", "ltm monitor http", "/Common/m", {})])
    [event] = got
    assert event.origin == "bigip1" and event.synced and event.cid == store.cid
    assert [(c.kind, c.type, c.path) for c in event.changes] == [("put", "ltm monitor http", "/Common/m")]
    assert isinstance(event.changes[0], Change)


class DownIQuery:
    def __init__(self):
        self.tries = 0

    def handle(self, kind, handler):
        self.handler = handler

    async def send_to(self, peer, msg):
        self.tries += 1
        assert self.tries < 100, "retrying in a loop"
        return False


class OneVirtual:
    def virtual_health(self):
        return {"vs": {"destination": "10.1.10.100:80", "availability": "available", "reason": "", "stats": {}}}


async def test_health_to_a_peer_whose_channel_is_down_is_retried_at_the_interval_not_in_a_loop(
        tmp_path, autojump_clock):
    iq, hub = DownIQuery(), Hub()
    pub = Publisher("bigip1", iq, OneVirtual(), [], Log(tmp_path / "l.jsonl", "bigip1"), hub)
    async with trio.open_nursery() as nursery:
        await nursery.start(pub.run)
        pub.subscribers.add("gtm1")
        hub.publish(ChannelOpened("gtm1", outbound=True))   # what wakes it in a daemon
        await trio.sleep(10.0)
        assert 5 <= iq.tries <= 7      # once, then every PUBLISH_INTERVAL (2 s)
        nursery.cancel_scope.cancel()
