"""The https and udp monitors' probes, against real sockets on loopback (https speaks TLS without
checking the certificate and matches the receive string; udp is down on a port unreachable, and
needs a matching answer only when a receive string is set), and the monitor state's deadline."""
from __future__ import annotations

import datetime as dt
import functools
import math
import socket
import ssl

import dns.rcode
import trio

from node.iquery.trust import cert_pem, key_pem, make_ca, new_key
from node.ltm.monitors import DEADLINE, MonitorState, probe

HTTPS = {"interval": 5, "timeout": 16, "recv": "200 OK"}


async def https_server(nursery, tmp_path) -> int:
    key = new_key()
    (tmp_path / "c.pem").write_bytes(cert_pem(make_ca("web", key, dt.datetime.now(dt.timezone.utc))))
    (tmp_path / "k.pem").write_bytes(key_pem(key))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")

    async def answer(stream):
        async with stream:
            await stream.receive_some(4096)
            await stream.send_all(b"HTTP/1.0 200 OK\r\n\r\nhello")

    listeners = await nursery.start(functools.partial(trio.serve_ssl_over_tcp, answer, 0, context, host="127.0.0.1"))
    return listeners[0].transport_listener.socket.getsockname()[1]


async def test_https_probe_speaks_tls_and_matches_the_receive_string(tmp_path):
    async with trio.open_nursery() as nursery:
        port = await https_server(nursery, tmp_path)
        assert await probe("https", HTTPS, "127.0.0.1", port) is None
        assert "did not match" in await probe("https", {**HTTPS, "recv": "503"}, "127.0.0.1", port)
        assert await probe("http", HTTPS, "127.0.0.1", port) is not None    # plain HTTP to a TLS port fails
        nursery.cancel_scope.cancel()


async def test_udp_probe_down_on_port_unreachable_up_on_an_answer():
    closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    assert (await probe("udp", {"interval": 1}, "127.0.0.1", port)).startswith("port unreachable")
    server = trio.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    await server.bind(("127.0.0.1", 0))
    port = server.getsockname()[1]

    async def echo():
        data, peer = await server.recvfrom(1024)
        await server.sendto(b"pong " + data, peer)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(echo)
        assert await probe("udp", {"interval": 1, "recv": "pong default send string"}, "127.0.0.1", port) is None
    assert "no response matching" in await probe("udp", {"interval": 1, "recv": "pong"}, "127.0.0.1", port)
    server.close()


def test_a_member_goes_down_at_its_deadline_not_at_the_next_probe_result():
    # interval 1, timeout 3: last success at 10; the probes after it hang (their results come late)
    st = MonitorState(0.0, 3.0)
    assert st.result(None, 10.0) and st.state == "up"
    assert st.deadline() == 13.0
    assert not st.expire(12.9) and st.state == "up"
    assert st.expire(13.0) and (st.state, st.reason) == ("down", DEADLINE)
    assert st.deadline() == math.inf and not st.expire(20.0)
    assert st.result(None, 14.0) and st.state == "up"          # one success brings it back


def test_a_new_member_that_never_answers_goes_down_timeout_after_its_start():
    st = MonitorState(5.0, 3.0)
    assert st.result("refused", 6.0) is False and st.state == "checking"
    assert st.expire(8.0) and (st.state, st.reason) == ("down", "refused")   # the last error kept


async def test_dns_probe_asks_a_real_query_and_checks_rcode_type_and_address():
    import dns.message
    import dns.rrset
    server = trio.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    await server.bind(("127.0.0.1", 0))
    port = server.getsockname()[1]

    async def answer():
        while True:
            data, peer = await server.recvfrom(1024)
            query = dns.message.from_wire(data)
            reply = dns.message.make_response(query)
            if str(query.question[0].name) == "www.example.com.":
                reply.answer.append(dns.rrset.from_text("www.example.com.", 30, "IN", "A", "10.1.20.21"))
            else:
                reply.set_rcode(dns.rcode.NXDOMAIN)
            await server.sendto(reply.to_wire(), peer)

    settings = {"interval": 2, "qname": "www.example.com"}
    async with trio.open_nursery() as nursery:
        nursery.start_soon(answer)
        assert await probe("dns", settings, "127.0.0.1", port) is None
        assert await probe("dns", {**settings, "recv": "10.1.20.21"}, "127.0.0.1", port) is None
        assert await probe("dns", {**settings, "recv": "10.9.9.9"}, "127.0.0.1", port) == "10.9.9.9 is not in the answer"
        assert await probe("dns", {**settings, "qtype": "aaaa"}, "127.0.0.1", port) == "no AAAA record in the answer"
        assert await probe("dns", {**settings, "qname": "x.example.com"}, "127.0.0.1", port) == "answer NXDOMAIN"
        assert await probe("dns", {**settings, "qname": "x.example.com", "accept-rcode": "anything",
                                   "answer-contains": "anything"}, "127.0.0.1", port) is None
        nursery.cancel_scope.cancel()
