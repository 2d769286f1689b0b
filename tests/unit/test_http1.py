"""HTTP/1.x messages read by llhttp: heads, bodies as their senders framed them, and the ends."""
import pytest

from node.ltm import http1


def events(reader: http1.Reader, *parts: bytes) -> list:
    for p in parts:
        reader.feed(p)
    out = list(reader.events)
    reader.events.clear()
    return out


def test_a_request_head_split_over_reads_then_its_chunked_body_and_end():
    r = http1.Reader(True)
    evs = events(r, b"POST /up?x=1 HTTP/1.1\r\nHo", b"st: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
    head = evs[0]
    assert (head.method, head.target, head.version, head.headers) == \
        (b"POST", b"/up?x=1", "1.1", [(b"Host", b"a"), (b"Transfer-Encoding", b"chunked")])
    assert head.chunked and head.keep_alive and not head.until_close
    assert evs[1:] == [b"abc", http1.END] and r.between


def test_keep_alive_follows_the_version_and_connection_header():
    assert not events(http1.Reader(True), b"GET / HTTP/1.0\r\n\r\n")[0].keep_alive
    assert events(http1.Reader(True), b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")[0].keep_alive
    assert not events(http1.Reader(True), b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")[0].keep_alive


def test_a_response_to_head_ends_at_its_head_and_the_next_response_parses():
    r = http1.Reader(False)
    r.head_only = True
    evs = events(r, b"HTTP/1.1 200 OK\r\nContent-Length: 612\r\n\r\n")
    assert evs[0].status == 200 and evs[1:] == [http1.END]
    evs = events(r, b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno")
    assert (evs[0].status, evs[0].reason, evs[1:]) == (404, b"Not Found", [b"no", http1.END])


def test_a_response_without_length_or_chunks_ends_when_the_server_closes():
    r = http1.Reader(False)
    evs = events(r, b"HTTP/1.0 200 OK\r\n\r\nabc")
    assert evs[0].until_close and not evs[0].keep_alive and evs[1:] == [b"abc"]
    assert r.eof() and list(r.events) == [http1.END]


def test_100_continue_is_a_message_of_its_own():
    evs = events(http1.Reader(False), b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
    assert [e.status for e in evs if e is not http1.END] == [100, 204] and evs.count(http1.END) == 2


def test_closing_mid_message_is_not_clean():
    r = http1.Reader(False)
    events(r, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    assert not r.eof()


@pytest.mark.parametrize("data", [b"\x16\x03\x01\x00\xff" + bytes(range(256)), b"GET /\x00 HTTP/1.1\r\n\r\n",
                                  b"GET / HTTP/1.1\r\nX: " + b"a" * 40000])
def test_garbage_and_a_head_over_the_limit_are_refused(data):
    with pytest.raises(http1.Bad):
        http1.Reader(True).feed(data)


def test_a_chunk_is_framed_again():
    assert http1.chunk(b"x" * 26) + http1.LAST_CHUNK == b"1a\r\n" + b"x" * 26 + b"\r\n0\r\n\r\n"
