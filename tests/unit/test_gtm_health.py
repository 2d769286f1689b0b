"""GTM health from iQuery (sans-IO) and the listener on loopback (real UDP and TCP sockets)."""
import socket
import struct

import dns.message
import dns.query
import dns.rcode
import trio

from node.gtm.health import HealthTable
from node.gtm.listener import Listener
from node.iquery.messages import GtmHealth
from node.log import Log
from tests.unit.test_gtm_answer import answerer  # noqa: F401  (fixture)

BODY = GtmHealth("ltm-nyc", ["10.10.1.11"], {"vs_www": {"destination": "10.10.1.100:80", "availability": "available"}})


def test_a_server_is_current_then_stale_then_disconnected():
    table = HealthTable(stale_after=7.0)
    assert table.server(["10.10.1.11"], 0.0, lambda p: True).state == "unknown"
    assert table.update("ltm-nyc", BODY, 10.0)
    assert not table.update("ltm-nyc", BODY, 12.0)     # same availability: no change to act on
    view = table.server(["10.10.1.11"], 13.0, lambda p: True)
    assert (view.device, view.state, view.virtuals["vs_www"]["availability"]) == ("ltm-nyc", "connected", "available")
    assert table.server(["10.10.1.11"], 19.5, lambda p: True).state == "stale"
    assert table.server(["10.10.1.11"], 13.0, lambda p: False).state == "disconnected"
    down = GtmHealth("ltm-nyc", BODY.addresses, {"vs_www": {**BODY.virtuals["vs_www"], "availability": "offline"}})
    assert table.update("ltm-nyc", down, 14.0)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_the_listener_answers_udp_and_tcp_and_survives_junk(answerer, tmp_path):  # noqa: F811
    port = _free_port()
    listener = Listener("127.0.0.1", port, answerer, Log(tmp_path / "log.jsonl", "gtm1"))
    async with trio.open_nursery() as nursery:
        await nursery.start(listener.run)
        q = dns.message.make_query("mail.example.com", "A")

        def client():
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(2)
                s.sendto(b"\x01\x02\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05junk", ("127.0.0.1", port))
                bad = dns.message.from_wire(s.recv(512), question_only=True)
            udp = dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
            tcp = dns.query.tcp(q, "127.0.0.1", port=port, timeout=2)
            with socket.create_connection(("127.0.0.1", port), timeout=2) as c:   # two queries, one stream
                wire = q.to_wire()
                c.sendall((struct.pack("!H", len(wire)) + wire) * 2)
                got = b""
                while got.count(b"mail") < 2:
                    got += c.recv(4096)
            return bad, udp, tcp

        bad, udp, tcp = await trio.to_thread.run_sync(client)
        assert bad.rcode() == dns.rcode.FORMERR
        assert [rd.to_text() for rr in udp.answer for rd in rr] == ["10.40.0.25"]
        assert tcp.answer == udp.answer and listener.stats()["tcp_queries"] == 3
        nursery.cancel_scope.cancel()
