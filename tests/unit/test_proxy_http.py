"""The http virtual's message relay over real sockets: heads and bodies as the sender framed them."""
import trio

from node.ltm import http1, proxy
from node.ltm.service import Stats


def pair():
    a, b = trio.socket.socketpair()
    return trio.SocketStream(a), trio.SocketStream(b)


async def read_all(stream) -> bytes:
    got = b""
    while chunk := await stream.receive_some(65536):
        got += chunk
    return got


async def test_a_chunked_request_body_is_relayed_as_chunks_and_counted():
    client, c_side = pair()
    s_side, server = pair()
    stats = Stats()
    cside = proxy.HttpSide(c_side, http1.Reader(True), [stats], "bytes_in")
    sside = proxy.HttpSide(s_side, http1.Reader(False), [stats], "bytes_out")
    sent = b"POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    await client.send_all(sent)
    head = await cside.next_head()
    assert (head.method, head.target, head.chunked) == (b"POST", b"/up", True)
    await cside.relay(sside, http1.write_head(b"POST /up HTTP/1.1", head.headers), head.chunked)
    await s_side.aclose()
    assert await read_all(server) == sent
    assert stats.bytes_in == len(sent)


async def test_a_response_framed_by_the_close_ends_there_and_a_clean_close_is_no_message():
    client, c_side = pair()
    s_side, server = pair()
    cside = proxy.HttpSide(c_side, http1.Reader(True), [], "bytes_in")
    sside = proxy.HttpSide(s_side, http1.Reader(False), [], "bytes_out")
    await server.send_all(b"HTTP/1.0 200 OK\r\n\r\nuntil the end")
    await server.aclose()
    resp = await sside.next_head()
    assert resp.until_close and not resp.keep_alive
    await sside.relay(cside, b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", False)
    await c_side.aclose()
    assert await read_all(client) == b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end"
    quiet_client, quiet_side = pair()
    await quiet_client.aclose()
    assert await proxy.HttpSide(quiet_side, http1.Reader(True), [], "bytes_in").next_head() is None
