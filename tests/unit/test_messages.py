"""The 4353 message classes (node/iquery/messages.py): wire round trips and validation."""
import msgpack
import pytest

from node.iquery import messages as m
from node.iquery.framing import encode
from node.iquery.protocol import State
from tests.unit.test_iquery_channel import Node, eventually, port  # noqa: F401  (fixture)

SAMPLES = [
    m.Hello([1, 0], "bigip1", {"role": "ltm"}), m.Error("idle-timeout", "nothing received"), m.Ping(), m.Pong(),
    m.TrustMembers(2, [{"name": "bigip1", "address": "10.1.1.11", "authority": True}]),
    m.JoinRequest("admin", "admin"), m.Csr("bigip2", b"-----BEGIN"), m.Join("bigip1", b"c", b"ca", [], 3),
    m.Joined(), m.CmStatus("1.5", 4, [7, "bigip1", 1.5], {"/Common/dg": None}, {}, {"state": "active"}),
    m.TrustConfig([1, "bigip1"], [["cm device-group", "/Common/dg", {}]]),
    m.SyncPush("/Common/dg", "incremental", [7, "bigip1", 1.5], commits=[], auto=True),
    m.SyncPush("/Common/dg", "full", None, objects=[]),
    m.SyncResult("/Common/dg", [7, "bigip1", 1.5], ok=True, seq=5), m.SyncRequest("/Common/dg"),
    m.GtmSubscribe({"group": "g", "enabled": True, "gen": [1, "gtm1"]}),
    m.GtmConfig("g", [1, "gtm1"], []), m.GtmHealth("ltm-nyc", ["10.10.1.11"], {}, 9),
]


def test_the_set_is_closed_one_class_per_kind():
    assert sorted(m.KINDS) == sorted({type(s).kind for s in SAMPLES})


@pytest.mark.parametrize("message", SAMPLES, ids=[f"{s.kind}-{i}" for i, s in enumerate(SAMPLES)])
def test_each_kind_survives_the_wire(message):
    wire = msgpack.unpackb(msgpack.packb(message.to_wire(), use_bin_type=True), raw=False)
    assert wire["t"] == message.kind and m.decode(wire) == message


def test_a_wrong_field_type_is_a_clear_error():
    with pytest.raises(m.BadMessage, match=r"'sync-result': group is int, expected str"):
        m.decode({"t": "sync-result", "group": 5})


def test_a_missing_field_is_a_clear_error():
    with pytest.raises(m.BadMessage, match=r"'sync-request'.*group"):
        m.decode({"t": "sync-request"})


def test_a_push_carries_what_its_mode_says():
    with pytest.raises(m.BadMessage, match="mode full carries objects"):
        m.SyncPush("/Common/dg", "full", None, commits=[])


def test_fields_a_newer_peer_adds_are_ignored():
    assert m.decode({"t": "sync-request", "group": "/Common/dg", "priority": 1}) == m.SyncRequest("/Common/dg")


def test_an_unknown_kind_is_refused():
    with pytest.raises(m.BadMessage, match="unknown message 'sync'"):
        m.decode({"t": "sync"})


async def test_a_malformed_message_is_logged_and_the_channel_stays_up(tmp_path, port, nursery):  # noqa: F811
    a = Node(tmp_path, "bigip1", "127.0.0.1", port)
    b = Node(tmp_path, "bigip2", "127.0.0.2", port)
    got = []

    async def on_request(channel, msg):
        got.append(msg)

    b.iq.handle(m.SyncRequest, on_request)
    await nursery.start(a.iq.run)
    await nursery.start(b.iq.run)
    await a.join.add_device("127.0.0.2", "admin", "admin")
    # our own outbound channel, open (connected() may be true through bigip2's channel to us first)
    await eventually(lambda: (c := a.iq.outbound.get("bigip2")) is not None and c.session.state is State.OPEN)
    channel = a.iq.outbound["bigip2"]
    channel.session._out += encode({"t": "sync-request", "group": 5})   # as a broken peer would
    await channel.send(m.SyncRequest("/Common/dg"))
    await eventually(lambda: got)
    assert got == [m.SyncRequest("/Common/dg")] and a.iq.outbound.get("bigip2") is channel
    assert any(e.get("event") == "bad-message" and "group is int" in e["msg"] for e in b.log())
