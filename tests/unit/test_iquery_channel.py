"""The 4353 listener and dialer over real TLS on loopback (127.0.0.x), no namespaces needed.

Conditions are awaited with a deadline; the silent-peer tests run on trio's MockClock and jump it.
"""
import json
import socket
import ssl
import struct

import pytest
import trio
import trio.testing

from node.clock import NodeClock
from node.events import Hub
from node.iquery.channel import IQuery
from node.iquery.join import TrustJoin
from node.iquery.trust import Member, TrustError, TrustStore
from node.log import Log

CREDS = {"username": "admin", "password": "admin"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    def __init__(self, tmp_path, name, address, port, **kw):
        d = tmp_path / name
        d.mkdir()
        self.log_path = d / "log.jsonl"
        self.store = TrustStore(d, name, address, NodeClock())
        self.events = Hub()
        log = Log(self.log_path, name)
        self.iq = IQuery(name, self.store, log, self.events, port=port, bind=address, **kw)
        self.join = TrustJoin(name, self.store, log, CREDS, self.iq, self.events)

    def log(self) -> list[dict]:
        return [json.loads(line) for line in self.log_path.read_text().splitlines()]


async def eventually(check, timeout=10.0):
    with trio.fail_after(timeout):
        while not check():
            await trio.sleep(0.01)


@pytest.fixture
def port():
    return free_port()


async def test_add_device_forms_mutual_trust_both_ways(tmp_path, port, nursery):
    a = Node(tmp_path, "bigip1", "127.0.0.1", port)
    b = Node(tmp_path, "bigip2", "127.0.0.2", port)
    await nursery.start(a.iq.run)
    await nursery.start(b.iq.run)
    member = await a.join.add_device("127.0.0.2", "admin", "admin")
    assert member == {"name": "bigip2", "address": "127.0.0.2", "authority": True}
    await eventually(lambda: a.iq.links.get("bigip2", None) and a.iq.links["bigip2"].state == "connected"
                     and b.iq.links.get("bigip1", None) and b.iq.links["bigip1"].state == "connected")
    assert a.store.state.ca == b.store.state.ca
    assert {m.name for m in b.store.members} == {"bigip1", "bigip2"}
    assert any(e.get("event") == "trust-joined" for e in b.log())


async def test_wrong_credentials_are_refused_and_change_nothing(tmp_path, port, nursery):
    a = Node(tmp_path, "bigip1", "127.0.0.1", port)
    b = Node(tmp_path, "bigip2", "127.0.0.2", port)
    await nursery.start(a.iq.run)
    await nursery.start(b.iq.run)
    before = b.store.state.ca
    with pytest.raises(TrustError, match="authentication failed"):
        await a.join.add_device("127.0.0.2", "admin", "wrong")
    assert b.store.state.ca == before and [m.name for m in a.store.members] == ["bigip1"]


async def test_a_device_of_another_domain_is_refused_as_untrusted(tmp_path, port, nursery):
    a = Node(tmp_path, "bigip1", "127.0.0.1", port)
    c = Node(tmp_path, "bigip3", "127.0.0.3", port)  # its own trust domain
    await nursery.start(a.iq.run)
    await nursery.start(c.iq.run)
    a.store.add_member(Member("bigip3", "127.0.0.3"))  # a believes c is a peer; c's CA says no
    a.iq.sync_dialers()
    await eventually(lambda: a.iq.links["bigip3"].code == "untrusted")
    assert "not issued by this trust domain's CA" in a.iq.links["bigip3"].reason
    await eventually(lambda: any(r["code"] == "untrusted" for r in c.iq.refused), timeout=2)


async def test_devices_added_at_once_join_one_after_another(tmp_path, port, nursery):
    # gtm-10dc: the authority adds several devices at once. Joins built side by side carried the same
    # generation, each list without the other device, so a later list could be newer than a joined
    # device's own and lack it: a member takes that as its removal and resets (ltm-sgp-2 was left
    # out of trust). The authority now sends one Join at a time, each listing every device before it.
    from node.iquery import messages as msgs
    a = Node(tmp_path, "bigip1", "127.0.0.1", port)
    b = Node(tmp_path, "bigip2", "127.0.0.2", port)
    c = Node(tmp_path, "bigip3", "127.0.0.3", port)
    for n in (a, b, c):
        await nursery.start(n.iq.run)
    joins = {}
    for n in (b, c):
        def record(cert, ca, ca_key, members, generation, n=n, join=n.store.join):
            joins[n.store.device] = (generation, {x["name"] for x in members})
            join(cert, ca, ca_key, members, generation)
        n.store.join = record
    b_has_join, release = trio.Event(), trio.Event()
    on_join = b.iq.join_handlers[msgs.Join]

    async def held(channel, msg):   # bigip2 answers its Join late
        b_has_join.set()
        await release.wait()
        await on_join(channel, msg)
    b.iq.join_handlers[msgs.Join] = held
    added = []

    async def add(address):
        added.append((await a.join.add_device(address, "admin", "admin"))["name"])
    nursery.start_soon(add, "127.0.0.2")
    with trio.fail_after(10):
        await b_has_join.wait()
    nursery.start_soon(add, "127.0.0.3")
    lock = getattr(a.join, "_changing", None)
    await eventually(lambda: "bigip3" in joins or (lock is not None and lock.statistics().tasks_waiting))
    release.set()
    await eventually(lambda: len(added) == 2)
    assert joins["bigip2"] == (1, {"bigip1", "bigip2"})
    assert joins["bigip3"] == (2, {"bigip1", "bigip2", "bigip3"})
    assert a.store.state.generation == 2 and {x.name for x in a.store.members} == {"bigip1", "bigip2", "bigip3"}
    nodes = {"bigip1": a, "bigip2": b, "bigip3": c}
    await eventually(lambda: all(n.iq.links.get(o) and n.iq.links[o].state == "connected"
                                 for name, n in nodes.items() for o in nodes if o != name))
    assert not any(e.get("event") == "trust-reset" for n in (b, c) for e in n.log())


async def test_a_protocol_version_mismatch_is_refused_with_its_reason(tmp_path, port, nursery):
    a = Node(tmp_path, "bigip1", "127.0.0.1", port)
    b = Node(tmp_path, "bigip2", "127.0.0.2", port, version=(2, 0))
    await nursery.start(a.iq.run)
    await nursery.start(b.iq.run)
    with pytest.raises(TrustError, match="version mismatch"):
        await a.join.add_device("127.0.0.2", "admin", "admin")


async def test_a_lost_peer_is_redialled_until_it_returns(tmp_path, port, nursery):
    a = Node(tmp_path, "bigip1", "127.0.0.1", port)
    b = Node(tmp_path, "bigip2", "127.0.0.2", port)
    await nursery.start(a.iq.run)
    async with trio.open_nursery() as b_nursery:
        await b_nursery.start(b.iq.run)
        await a.join.add_device("127.0.0.2", "admin", "admin")
        await eventually(lambda: a.iq.links["bigip2"].state == "connected")
        b_nursery.cancel_scope.cancel()
    await eventually(lambda: a.iq.links["bigip2"].code == "refused")
    b2 = IQuery("bigip2", TrustStore(tmp_path / "bigip2", "bigip2", "127.0.0.2", NodeClock()),
                Log(None, "bigip2"), Hub(), port=port, bind="127.0.0.2")
    await nursery.start(b2.run)
    await eventually(lambda: a.iq.links["bigip2"].state == "connected")
    events = [(e["event"], e.get("code")) for e in a.log() if e.get("event", "").startswith("channel-")]
    assert events[0] == ("channel-up", None) and events[-1] == ("channel-up", None)
    assert ("channel-down", "refused") in events


async def test_a_member_gone_before_its_dialer_first_ran_ends_that_dialer_quietly(tmp_path, port, nursery,
                                                                                   mock_clock, monkeypatch):
    # gtm-10dc: trust changed twice in one step, so a dialer started for a member began after the
    # member (and its link) had been dropped; its KeyError killed the daemon
    a = Node(tmp_path, "bigip1", "127.0.0.1", port)
    await nursery.start(a.iq.run)
    monkeypatch.setattr(a.store, "peers", lambda: [Member("bigip2", "127.0.0.2")])
    a.iq.sync_dialers()   # the dialer is started, not yet run
    monkeypatch.setattr(a.store, "peers", lambda: [])
    a.iq.sync_dialers()   # the member leaves: its dialer is cancelled and its link dropped
    await trio.testing.wait_all_tasks_blocked()
    assert a.iq.links == {} and a.iq.status()["peers"] == {}   # the transport runs on, dialing no one


def _tls_client() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    return ctx


async def _open_tls(port) -> trio.SSLStream:
    stream = trio.SSLStream(await trio.open_tcp_stream("127.0.0.1", port), _tls_client(), server_hostname=None)
    await stream.do_handshake()
    return stream


async def test_a_peer_that_connects_and_says_nothing_is_dropped(tmp_path, port, nursery, mock_clock):
    a = Node(tmp_path, "bigip1", "127.0.0.1", port)
    await nursery.start(a.iq.run)
    tcp = await trio.open_tcp_stream("127.0.0.1", port)  # not even a TLS hello
    await trio.testing.wait_all_tasks_blocked()
    assert not a.iq.refused
    mock_clock.jump(5.1)
    await trio.testing.wait_all_tasks_blocked()
    assert [r["code"] for r in a.iq.refused] == ["hello-timeout"]
    await tcp.aclose()


async def test_a_tls_peer_that_never_says_hello_is_dropped(tmp_path, port, nursery, mock_clock):
    a = Node(tmp_path, "bigip1", "127.0.0.1", port)
    await nursery.start(a.iq.run)
    stream = await _open_tls(port)
    await trio.testing.wait_all_tasks_blocked()
    assert len(a.iq.inbound) == 1
    mock_clock.jump(5.1)
    await trio.testing.wait_all_tasks_blocked()
    assert not a.iq.inbound
    assert any("said nothing for 5 s" in e["msg"] for e in a.log())
    await stream.aclose()


@pytest.mark.parametrize("payload, reason", [
    (struct.pack(">I", 64 * 1024 * 1024), "exceeds"),
    (struct.pack(">I", 3) + b"\xc1\xc1\xc1", "not msgpack"),
])
async def test_bad_frames_close_that_channel_only(tmp_path, port, nursery, payload, reason):
    a = Node(tmp_path, "bigip1", "127.0.0.1", port)
    b = Node(tmp_path, "bigip2", "127.0.0.2", port)
    await nursery.start(a.iq.run)
    await nursery.start(b.iq.run)
    stream = await _open_tls(port)
    await stream.send_all(payload)
    await eventually(lambda: any(reason in e["msg"] for e in a.log()))
    await stream.aclose()
    await a.join.add_device("127.0.0.2", "admin", "admin")  # the listener still works
    await eventually(lambda: a.iq.links["bigip2"].state == "connected")


async def test_an_unauthenticated_peer_may_only_ask_to_join(tmp_path, port, nursery):
    from node.iquery.framing import FrameDecoder, encode
    a = Node(tmp_path, "bigip1", "127.0.0.1", port)
    await nursery.start(a.iq.run)
    stream = await _open_tls(port)
    await stream.send_all(encode({"t": "hello", "version": [1, 0], "device": "mallory"})
                          + encode({"t": "trust-members", "generation": 99, "members": []}))
    dec = FrameDecoder()
    with trio.fail_after(5):
        while True:
            data = await stream.receive_some(65536)
            assert data, "closed without an error frame"
            dec.receive_data(data)
            msgs = []
            while (m := dec.next_message()) is not None:
                msgs.append(m)
            errors = [m for m in msgs if m["t"] == "error"]
            if errors:
                break
    assert errors[0]["code"] == "unauthenticated"
    assert a.store.state.generation == 0
