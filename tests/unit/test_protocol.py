"""The 4353 session state machine, fed by hand: no sockets, no clock."""
from node.iquery.framing import FrameDecoder, encode
from node.iquery.protocol import Closed, Hello, Message, Session, State
from node.iquery.messages import TrustMembers


def pair(now=0.0, **kw):
    return Session("bigip1", now, **kw), Session("bigip2", now, **kw)


def deliver(src: Session, dst: Session, now: float):
    return dst.receive_data(src.data_to_send(), now)


def frames(data: bytes) -> list[dict]:
    dec = FrameDecoder()
    dec.receive_data(data)
    out = []
    while (m := dec.next_message()) is not None:
        out.append(m)
    return out


def test_hello_exchange_opens_both_sides():
    a, b = pair()
    assert deliver(a, b, 0.1) == [Hello("bigip1", (1, 0), {})]
    assert deliver(b, a, 0.1) == [Hello("bigip2", (1, 0), {})]
    assert a.state is b.state is State.OPEN


def test_a_different_major_version_is_refused_with_a_reason_the_peer_sees():
    a = Session("bigip1", 0.0)
    b = Session("bigip2", 0.0, version=(2, 0))
    [closed] = deliver(b, a, 0.1)
    assert closed.code == "version-mismatch"
    assert "peer bigip2 speaks 2.0, this device 1.0" in closed.reason
    assert frames(a.data_to_send())[-1]["code"] == "version-mismatch"  # a tells b why


def test_the_error_frame_reaches_a_peer_that_did_not_check_the_version():
    a = Session("bigip1", 0.0)
    a.data_to_send()
    a.receive_data(encode({"t": "hello", "version": [2, 0], "device": "bigip2"}), 0.0)
    b = Session("bigip2", 0.0)
    b.receive_data(encode({"t": "hello", "version": [1, 0], "device": "bigip1"}), 0.0)
    [closed] = b.receive_data(a.data_to_send(), 0.0)
    assert closed.code == "peer-error" and "version mismatch" in closed.reason


def test_a_newer_minor_version_is_accepted():
    a = Session("bigip1", 0.0)
    b = Session("bigip2", 0.0, version=(1, 7))
    assert deliver(b, a, 0.0) == [Hello("bigip2", (1, 7), {})]


def test_anything_before_hello_closes_the_session():
    a = Session("bigip1", 0.0)
    a.data_to_send()
    [closed] = a.receive_data(encode({"t": "sync"}), 0.0)
    assert closed.code == "bad-hello"
    assert frames(a.data_to_send())[-1]["t"] == "error"


def test_a_peer_that_says_nothing_is_dropped_at_the_hello_timeout():
    a = Session("bigip1", 10.0, hello_timeout=5.0)
    assert a.next_deadline() == 15.0
    assert a.tick(14.9) is None and a.state is State.AWAIT_HELLO
    closed = a.tick(15.0)
    assert closed.code == "hello-timeout" and a.state is State.CLOSED


def test_an_open_session_pings_when_quiet_and_closes_when_the_peer_is_silent():
    a, b = pair(ping_interval=2.0, idle_timeout=6.0)
    deliver(a, b, 0.0)
    deliver(b, a, 0.0)
    assert a.next_deadline() == 2.0
    assert a.tick(2.0) is None
    assert frames(a.data_to_send()) == [{"t": "ping"}]
    assert a.tick(4.0) is None
    closed = a.tick(6.0)
    assert closed.code == "idle-timeout" and "bigip2" in closed.reason


def test_a_quiet_channel_carries_one_ping_and_its_pong_an_interval():
    a = Session("bigip1", 0.0, ping_interval=2.0, idle_timeout=6.0)                   # connected
    b = Session("bigip2", 0.0, ping_interval=2.0, idle_timeout=6.0, initiator=False)  # accepted
    deliver(a, b, 0.0)
    deliver(b, a, 0.0)
    sent = {"bigip1": [], "bigip2": []}
    for tick in range(1, 41):   # 20 s in steps of half a second
        now = tick / 2
        for side, other in ((a, b), (b, a)):
            if now >= side.next_deadline():
                assert side.tick(now) is None
            data = side.data_to_send()
            sent[side.device] += [f["t"] for f in frames(data)]
            if data:
                other.receive_data(data, now)
    assert sent == {"bigip1": ["ping"] * 10, "bigip2": ["pong"] * 10}
    assert a.state is State.OPEN and b.state is State.OPEN


def test_the_accepting_side_pings_once_the_connecting_side_falls_silent_and_closes_at_the_timeout():
    a = Session("bigip1", 0.0, ping_interval=2.0, idle_timeout=6.0)
    b = Session("bigip2", 0.0, ping_interval=2.0, idle_timeout=6.0, initiator=False)
    deliver(a, b, 0.0)
    deliver(b, a, 0.0)
    assert b.next_deadline() == 4.0 and b.tick(4.0) is None
    assert frames(b.data_to_send()) == [{"t": "ping"}]
    assert b.next_deadline() == 6.0   # no second ping before the interval: no busy loop
    assert b.tick(6.0).code == "idle-timeout"


def test_pings_are_answered_and_not_surfaced():
    a, b = pair()
    deliver(a, b, 0.0)
    deliver(b, a, 0.0)
    assert b.receive_data(encode({"t": "ping"}), 1.0) == []
    assert frames(b.data_to_send()) == [{"t": "pong"}]


def test_messages_flow_after_hello_and_keep_the_session_alive():
    a, b = pair(idle_timeout=6.0)
    deliver(a, b, 0.0)
    deliver(b, a, 0.0)
    a.send(TrustMembers(3, []), 5.0)
    assert deliver(a, b, 5.0) == [Message({"t": "trust-members", "generation": 3, "members": []})]
    assert b.tick(6.0) is None  # it heard from bigip1 at 5.0


def test_a_bad_frame_closes_and_tells_the_peer_why():
    a, b = pair()
    deliver(a, b, 0.0)
    b.data_to_send()
    [closed] = b.receive_data(b"\xff\xff\xff\xff", 0.0)
    assert closed.code == "bad-frame"
    assert frames(b.data_to_send()) == [{"t": "error", "code": "bad-frame", "reason": closed.reason}]
    assert b.receive_data(encode({"t": "ping"}), 0.0) == []  # closed stays closed


def test_the_peers_error_frame_becomes_its_reason():
    a, b = pair()
    deliver(a, b, 0.0)
    b.close("expired", "certificate of bigip1 expired", 0.0)
    [closed] = deliver(b, a, 0.0)[-1:]
    assert closed == Closed("peer-error", "peer closed the channel: certificate of bigip1 expired (expired)")
