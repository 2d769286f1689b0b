"""MQTT: the sans-IO packet reader (3.1.1 and 5.0, whole packets, malformed ones refused), F5's
mqtt profile on a virtual (tmsh, AS3's mqttEnabled), and the full proxy reading each packet
through the iRules' MQTT events on loopback (MQTT::type, client_id, username, topic, drop, ...)."""
from __future__ import annotations

import struct

import pytest
import trio

from node.errors import Invalid
from node.events import Hub
from node.ltm import mqtt
from node.ltm.service import LTM
from test_ssl_files import run
from tests.lab.mqtt_peer import packet as frame, varint


def s(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("!H", len(raw)) + raw


def packet(kind: int, flags: int, body: bytes) -> bytes:
    return frame(kind << 4 | flags, body)


def connect(client_id="dev1", user="alice", level=4) -> bytes:
    flags = 0x02 | (0x80 if user else 0)
    props = b"\x00" if level == 5 else b""
    return packet(1, 0, s("MQTT") + bytes([level, flags]) + b"\x00\x3c" + props + s(client_id) + (s(user) if user else b""))


def publish(topic: str, payload: bytes, qos=0, pid=1, level=4) -> bytes:
    return packet(3, qos << 1, s(topic) + (struct.pack("!H", pid) if qos else b"") + (b"\x00" if level == 5 else b"")
                  + payload)


def subscribe(*topics: str, pid=2) -> bytes:
    return packet(8, 2, struct.pack("!H", pid) + b"".join(s(t) + b"\x01" for t in topics))


CONNACK = packet(2, 0, b"\x00\x00")
DISCONNECT = packet(14, 0, b"")


# -- the reader ----------------------------------------------------------------------------------
def test_a_connect_publish_and_subscribe_read_whole_whatever_the_chunks():
    wire = connect() + publish("sensors/t1", b"21.5", qos=1, pid=7) + subscribe("a/#", "b/+") + DISCONNECT
    for size in (1, 3, len(wire)):
        session = mqtt.Session()
        reader = mqtt.Reader("client", session)
        got = [p for i in range(0, len(wire), size) for p in reader.feed(wire[i:i + size])]
        assert [p.type for p in got] == ["CONNECT", "PUBLISH", "SUBSCRIBE", "DISCONNECT"]
        assert b"".join(p.raw for p in got) == wire
        assert (got[0].client_id, got[0].username, got[0].keep_alive, session.level) == ("dev1", "alice", 60, 4)
        assert (got[1].topic, got[1].qos, got[1].packet_id, got[1].payload) == ("sensors/t1", 1, 7, b"21.5")
        assert got[2].topics == [("a/#", 1), ("b/+", 1)]


def test_mqtt_5_properties_are_read_past_on_both_sides():
    session = mqtt.Session()
    client, server = mqtt.Reader("client", session), mqtt.Reader("server", session)
    first = connect("dev5", None, level=5) + publish("x", b"v5", level=5)
    assert [p.type for p in client.feed(first)] == ["CONNECT", "PUBLISH"] and session.level == 5
    assert client.feed(first[-0:0]) == []
    got = server.feed(packet(2, 0, b"\x00\x00\x03\x21\x00\x0a") + packet(4, 0, b"\x00\x05\x10\x00"))
    assert [(p.type, p.return_code) for p in got] == [("CONNACK", 0), ("PUBACK", 0x10)]


BAD = {   # after a good CONNECT (unless it is the first packet itself)
    "reserved type": packet(0, 0, b""),
    "five length bytes": b"\x30\xff\xff\xff\xff\x01",
    "wildcard topic": publish("a/+", b"x"),
    "qos 3": packet(3, 6, s("a") + b"\x00\x01"),
    "second connect": connect(),
    "subscribe flags": packet(8, 0, b"\x00\x01" + s("a") + b"\x00"),
    "not utf-8": packet(3, 0, b"\x00\x02\xff\xfe"),
    "packet id 0": packet(3, 2, s("a") + b"\x00\x00"),
    "empty subscribe": packet(8, 2, b"\x00\x01"),
    "ping with a body": packet(12, 0, b"x"),
    "a server's packet": CONNACK,
    "short": packet(3, 2, s("a")),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_malformed_packets_are_refused(name):
    reader = mqtt.Reader("client", mqtt.Session())
    reader.feed(connect())
    with pytest.raises(mqtt.Malformed):
        reader.feed(BAD[name])


@pytest.mark.parametrize("wire", [publish("a", b"x"), packet(1, 0, s("HTTP") + b"\x04\x02\x00\x3c" + s("c")),
                                  packet(1, 0, s("MQTT") + b"\x04\x03\x00\x3c" + s("c")),
                                  packet(1, 0, s("MQTT") + b"\x04\x42\x00\x3c" + s("c") + s("pw"))])
def test_a_first_packet_that_is_no_good_connect_is_refused(wire):
    with pytest.raises(mqtt.Malformed):
        mqtt.Reader("client", mqtt.Session()).feed(wire)


def test_a_packet_larger_than_the_virtual_holds_is_refused_before_it_is_read():
    reader = mqtt.Reader("client", mqtt.Session(), max_packet=1000)
    reader.feed(connect())
    with pytest.raises(mqtt.Malformed, match="larger"):
        reader.feed(b"\x30" + varint(1001))


# -- the model -----------------------------------------------------------------------------------
def test_a_bigip_has_f5s_mqtt_profile_and_a_virtual_takes_it_with_tcp_only(store):
    assert store.get("ltm profile mqtt", "/Common/mqtt")["defaults-from"] == "none"
    run(store, "create ltm profile mqtt iot")
    assert store.get("ltm profile mqtt", "/Common/iot")["defaults-from"] == "/Common/mqtt"
    run(store, "create ltm virtual vs_mqtt destination 127.0.0.100:1883 profiles replace-all-with { tcp iot }")
    before = dict(store.objects)
    for line, message in (("create ltm virtual v2 destination 127.0.0.100:1884 profiles replace-all-with { tcp http mqtt }",
                           "cannot be combined"),
                          ("create ltm virtual v3 destination 127.0.0.100:1885 ip-protocol udp "
                           "profiles replace-all-with { udp mqtt }", "requires a TCP profile")):
        with pytest.raises(Invalid, match=message):
            run(store, line)
    assert store.objects == before


async def test_rest_shows_and_makes_mqtt_profiles_in_f5s_shape(tmp_path):
    import httpx
    from node.rest.app import RestApp
    from test_icontrol import fake_parts
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=RestApp(**fake_parts(tmp_path)).app),
                                 base_url="https://localhost", auth=("admin", "admin")) as c:
        got = (await c.get("/mgmt/tm/ltm/profile/mqtt/~Common~mqtt")).json()
        assert (got["kind"], got["fullPath"], got["defaultsFrom"]) == ("tm:ltm:profile:mqtt:mqttstate", "/Common/mqtt", "none")
        r = await c.post("/mgmt/tm/ltm/profile/mqtt", json={"name": "iot", "description": "devices"})
        assert r.status_code == 200 and r.json()["defaultsFrom"] == "/Common/mqtt", r.text
        r = await c.post("/mgmt/tm/ltm/profile/mqtt", json={"name": "iot2", "noSuchThing": 1})
        assert r.status_code == 400 and (await c.get("/mgmt/tm/ltm/profile/mqtt/~Common~iot2")).status_code == 404


def test_as3_mqtt_enabled_puts_f5s_mqtt_profile_on_the_service():
    from test_as3_core import adc, app, run as as3_run, services
    svc, store, _ = services()
    decl = adc(Iot={"class": "Tenant", "App": app(service={
        "class": "Service_TCP", "virtualAddresses": ["10.1.10.120"], "virtualPort": 1883, "mqttEnabled": True})})
    status, out = as3_run(svc, decl)
    assert status == 200, out
    assert store.get("ltm virtual", "/Iot/App/service")["profiles"] == ["/Common/tcp", "/Common/mqtt"]
    assert as3_run(svc, decl)[1]["results"][0]["message"] == "no change"
    decl["Iot"]["App"]["service"]["mqttEnabled"] = False
    assert as3_run(svc, decl)[0] == 200
    assert store.get("ltm virtual", "/Iot/App/service")["profiles"] == ["/Common/tcp"]


# -- the proxy, on loopback ----------------------------------------------------------------------
RULE = """when MQTT_CLIENT_INGRESS {
    log local0. "in [MQTT::type] [MQTT::client_id] [MQTT::username] v[MQTT::protocol_version]"
    switch [MQTT::type] {
        PUBLISH {
            if { [MQTT::topic] starts_with "secret/" } { MQTT::drop } else { MQTT::collect }
        }
        SUBSCRIBE { log local0. "filters [MQTT::topic list]" }
    }
}
when MQTT_CLIENT_DATA { log local0. "data [MQTT::topic] q[MQTT::qos] [MQTT::payload]" }
when MQTT_SERVER_INGRESS { log local0. "out [MQTT::type]" }
"""


class Lines:
    def __init__(self):
        self.lines = []

    def log(self, level, proc, text, msgid="", **fields):
        self.lines.append(text.split(": ", 1)[-1])


async def broker(listeners, seen: list):
    """Answers CONNECT with CONNACK, SUBSCRIBE with SUBACK; records every byte it is sent."""
    async def handle(stream):
        reader = mqtt.Reader("client", mqtt.Session())
        async with stream:
            try:
                while data := await stream.receive_some(65536):
                    for p in reader.feed(data):
                        seen.append(p)
                        if p.type == "CONNECT":
                            await stream.send_all(CONNACK)
                        elif p.type == "SUBSCRIBE":
                            await stream.send_all(packet(9, 0, struct.pack("!H", p.packet_id) + b"\x01" * len(p.topics)))
            except (trio.BrokenResourceError, mqtt.Malformed):
                seen.append("reset")
    await trio.serve_listeners(handle, listeners)


async def exchange(store, wire: bytes, log) -> tuple[list, bytes]:
    seen = []
    async with trio.open_nursery() as nursery:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        nursery.start_soon(broker, listeners, seen)
        run(store, f"create ltm pool brokers members add {{ 127.0.0.1:{listeners[0].socket.getsockname()[1]} }}")
        run(store, "create ltm rule mqtt_log " + "{" + RULE + "}")
        run(store, "create ltm virtual vs destination 127.0.0.100:1883 pool brokers "
                   "profiles replace-all-with { tcp mqtt } rules { mqtt_log }")
        ltm = LTM("bigip1", store, lambda: ["traffic-group-1"], log, Hub())
        ltm.irules.reconcile()
        front = await trio.open_tcp_listeners(0, host="127.0.0.1")
        nursery.start_soon(trio.serve_listeners, lambda st: ltm._connection("/Common/vs", st), front)
        client = await trio.open_tcp_stream("127.0.0.1", front[0].socket.getsockname()[1])
        got = b""
        with trio.fail_after(10):
            await client.send_all(wire)
            await client.send_eof()   # a client closes the connection after its DISCONNECT
            try:
                while data := await client.receive_some(65536):
                    got += data
            except trio.BrokenResourceError:
                got += b"<reset>"
        nursery.cancel_scope.cancel()
    return seen, got


async def test_each_packet_goes_through_the_mqtt_events_and_a_dropped_one_never_reaches_the_broker(store):
    log = Lines()
    wire = connect() + publish("sensors/t1", b"21.5", qos=1, pid=3) + publish("secret/key", b"k") + \
        subscribe("cmd/#") + DISCONNECT
    seen, got = await exchange(store, wire, log)
    assert [p.type if p != "reset" else p for p in seen] == ["CONNECT", "PUBLISH", "SUBSCRIBE", "DISCONNECT"]
    assert seen[1].topic == "sensors/t1"
    assert got.startswith(CONNACK)   # the broker's answers come back through the virtual
    assert "in CONNECT dev1 alice v4" in log.lines and "data sensors/t1 q1 21.5" in log.lines
    assert "in PUBLISH dev1 alice v4" in log.lines and "filters cmd/#" in log.lines
    assert "out CONNACK" in log.lines and "out SUBACK" in log.lines
    assert not any(line.startswith("data secret") for line in log.lines)


async def test_a_malformed_packet_resets_the_connection_and_is_never_sent_on(store):
    log = Lines()
    seen, got = await exchange(store, connect() + publish("a/#", b"wild"), log)
    assert [p.type for p in seen if p != "reset"] == ["CONNECT"]
    assert got.endswith(b"<reset>") or got in (b"", CONNACK)
    assert any("malformed MQTT from the client" in line and "wildcard" in line for line in log.lines)
