"""The tcp profile's byte pump: every byte both ways, counted, and a half-close passed on."""
import trio

from node.ltm import proxy
from node.ltm.service import Stats


def pair():
    a, b = trio.socket.socketpair()
    return trio.SocketStream(a), trio.SocketStream(b)


async def test_splice_copies_both_ways_counts_bytes_and_passes_a_half_close_on():
    client, proxy_client_side = pair()
    proxy_server_side, server = pair()
    stats = Stats()
    async with trio.open_nursery() as n:
        n.start_soon(proxy.splice, proxy_client_side, proxy_server_side, [stats])
        await client.send_all(b"x" * 200_000)
        await client.send_eof()                      # the client is done sending
        got = b""
        while chunk := await server.receive_some(65536):
            got += chunk
        assert got == b"x" * 200_000                 # ... and the server saw all of it, then EOF
        await server.send_all(b"answer")
        await server.aclose()
        back = b""
        while chunk := await client.receive_some(65536):
            back += chunk
        assert back == b"answer"
    assert (stats.bytes_in, stats.bytes_out) == (200_000, 6)
