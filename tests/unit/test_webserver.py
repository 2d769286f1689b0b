"""The lab's web server reads a request's body, so the next request on a kept-alive connection
is read from its own first line (a body left unread was taken for one)."""
import socket
import threading

from node.webserver import Server, handler, listen


def exchange(payload: bytes) -> bytes:
    with Server(("127.0.0.1", 0), handler("web1")) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with socket.create_connection(server.server_address, timeout=5) as c:
                c.sendall(payload)
                out = b""
                while out.count(b"X-Served-By") < 2 and (chunk := c.recv(65536)):
                    out += chunk
                return out
        finally:
            server.shutdown()


def test_a_posted_body_is_read_and_the_next_request_answered():
    body = b"GET /no HTTP/1.1\r\n\r\n"
    out = exchange(b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body) +
                   b"GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert b"web1 /a\n" in out and b"web1 /b\n" in out and b"/no" not in out


def test_a_chunked_body_is_read_to_its_end():
    out = exchange(b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nGET /\r\n0\r\n\r\n"
                   b"GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.count(b"200 OK") == 2 and b"web1 /b\n" in out


def test_a_server_started_while_its_port_is_still_held_binds_once_it_is_free():
    """A server killed and restarted at once: the dying one can hold the port a moment longer."""
    held = socket.socket()
    held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    held.bind(("127.0.0.1", 0))
    held.listen()
    address = held.getsockname()
    threading.Timer(0.3, held.close).start()
    with listen(address, handler("web1")) as server:
        assert server.server_address == address
