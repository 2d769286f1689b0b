"""The HTTPS listener of iControl REST releases a connection as soon as its client has gone: a TLS
session opened and closed before any request does not wait out the 60 s keep-alive timeout in
CLOSE-WAIT (a flood of them would otherwise pile up in memory)."""
from __future__ import annotations

import datetime as dt
import socket
import ssl
import time

import trio

from node.iquery.trust import cert_pem, key_pem, make_ca, new_key
from node.rest.server import RestServer


class _Log:
    def log(self, *args, **kwargs) -> None:
        pass


async def app(scope, receive, send) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"{}"})


def held(port: int) -> int:
    """Server-side TCP connections of the listener on 127.0.0.1:port (any state but LISTEN)."""
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return sum(1 for r in rows if r[1] == f"0100007F:{port:04X}" and r[3] != "0A")


def client_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    return ctx


def open_and_close(port: int, n: int, request: bool = False) -> None:
    for _ in range(n):
        with client_context().wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5)) as s:
            if request:   # one keep-alive request answered, then the client goes
                s.sendall(b"GET /mgmt/tm/sys HTTP/1.1\r\nHost: x\r\n\r\n")
                assert s.recv(4096).startswith(b"HTTP/1.1 200")


async def test_sessions_closed_by_their_client_are_released_at_once(tmp_path, mock_clock):
    key = new_key()
    (tmp_path / "dtdi.crt").write_bytes(cert_pem(make_ca("bigip1", key, dt.datetime.now(dt.timezone.utc))))
    (tmp_path / "dtdi.key").write_bytes(key_pem(key))
    server = RestServer(app, "127.0.0.1", 0, tmp_path, _Log())
    async with trio.open_nursery() as nursery:
        await nursery.start(server.run)
        await trio.to_thread.run_sync(open_and_close, server.port, 20)
        await trio.to_thread.run_sync(open_and_close, server.port, 5, True)
        # The mock clock stands still, so no timer (keep-alive, handshake) ends a connection here:
        # only the server noticing its client's close does. Real I/O runs while we yield.
        deadline = time.monotonic() + 10
        while held(server.port) and time.monotonic() < deadline:
            await trio.lowlevel.checkpoint()
        assert held(server.port) == 0
        nursery.cancel_scope.cancel()
