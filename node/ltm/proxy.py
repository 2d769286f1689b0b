"""The full proxy (trio): a tcp virtual copies bytes between the client and one member; an http
virtual parses both sides with llhttp (http1.py) and load balances each request
when the virtual has a oneconnect profile (idle server connections are reused across clients).

Every step fires the virtual's iRules (hooks.py): CLIENT_ACCEPTED, HTTP_REQUEST, LB_SELECTED,
LB_FAILED, HTTP_RESPONSE, CLIENT_CLOSED, and acts on the flow's outcome and target.

Errors as a BIG-IP answers them: no member available or unreachable, a request the parser
refuses, headers over the profile's limits: a TCP reset; an http profile with a fallback-host
redirects instead (302) when no member is available or a response's status is one of its
fallback-status-codes.

Copying is all in the trio loop: no worker threads, so no GIL hand-offs between them and the loop
(those made the tail: p99 877 ms) and no thread start per connection.
"""
from __future__ import annotations

import errno
import os
import select
import socket
import struct
from dataclasses import dataclass, field

import trio

from ..config import route_domains
from ..config.schema import plain, rd_of
from . import forge, http1
from .hooks import Flow, Headers

CHUNK = 65536
IP_FREEBIND = 15
IP_TRANSPARENT = 19
CONNECT_TIMEOUT = 5


class Refused(Exception):
    """End the client connection with a reset (the BIG-IP's answer to most failures)."""


class Answered(Exception):
    """The BIG-IP answered the client itself; the connection closes."""


@dataclass
class Picked:
    pool: str | None
    member: str | None
    address: str
    port: int
    counters: list = field(default_factory=list)


@dataclass
class Idle:
    """oneconnect: server connections that finished a response, by (address, port)."""
    streams: dict[tuple, list[HttpSide]] = field(default_factory=dict)

    async def take(self, key):
        """An idle connection to reuse; one the server closed (or wrote to) while idle is closed
        and skipped, so the request goes on a fresh connection instead of failing."""
        free = self.streams.get(key) or []
        while free:
            side = free.pop()
            if side.reader.between and quiet(side.stream):
                return side
            await trio.aclose_forcefully(side.stream)
        return None

    def give(self, key, side: "HttpSide", limit: int = 64) -> bool:
        free = self.streams.setdefault(key, [])
        if len(free) >= limit:
            return False
        free.append(side)
        return True


def quiet(stream) -> bool:
    """Nothing to read on an idle server connection: no FIN, no reset, no stray bytes."""
    readable, _, _ = select.select([socket_of(stream).fileno()], [], [], 0)
    return not readable


def in_route_domain(sock, address: str) -> str:
    """`address` without its %route domain; a socket for one other than 0 is bound to that route
    domain's VLAN (SO_BINDTODEVICE: it takes and sends traffic there only, routed by the route
    domain's table: node/routes.py)."""
    addr, rd = plain(address), rd_of(address)
    if rd:
        iface = route_domains.interface_for(rd, addr)
        if iface is None:
            raise OSError(errno.ENODEV, f"route domain {rd} has no VLAN on this device")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    return addr


async def connect(address: str, port: int, source: str | None = None,
                  transparent: bool = False) -> trio.SocketStream:
    """A TCP connection to a member (in its route domain), from `source` (SNAT) if given, else the
    kernel's choice; `transparent`: `source` is the client's own address, not this host's (SNAT none)."""
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        address = in_route_domain(sock, address)
        source = plain(source) if source else source
        if source is not None:
            sock.setsockopt(socket.SOL_IP, IP_TRANSPARENT if transparent else IP_FREEBIND, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            await sock.bind((source, 0))
        with trio.fail_after(CONNECT_TIMEOUT):
            await sock.connect((address, port))
    except BaseException:
        sock.close()
        raise
    return trio.SocketStream(sock)   # sets TCP_NODELAY


class Prefixed(trio.abc.Stream):
    """A client's stream whose first bytes were read already (an SSL forward proxy reads the
    ClientHello before it decides): those come first, then the stream's own."""

    def __init__(self, stream, first: bytes):
        self.transport_stream, self.first = stream, first

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        if not self.first:
            return await self.transport_stream.receive_some(max_bytes)
        await trio.lowlevel.checkpoint()
        n = max_bytes or len(self.first)
        data, self.first = self.first[:n], self.first[n:]
        return data

    async def send_all(self, data) -> None:
        await self.transport_stream.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.transport_stream.wait_send_all_might_not_block()

    async def aclose(self) -> None:
        await self.transport_stream.aclose()


async def read_hello(stream, timeout: float) -> tuple[forge.Hello, bytes]:
    """The client's ClientHello, read whole (forge.client_hello), and the bytes read; NotTls if
    the client sends something else, BrokenResourceError if it closes first."""
    data = b""
    with trio.fail_after(timeout):
        while (hello := forge.client_hello(data)) is None:
            chunk = await stream.receive_some(CHUNK)
            if not chunk:
                raise trio.BrokenResourceError("closed before its ClientHello")
            data += chunk
    return hello, data


def socket_of(stream) -> trio.socket.SocketType:
    """The TCP socket under a stream, TLS (trio.SSLStream) or not."""
    while not hasattr(stream, "socket"):
        stream = stream.transport_stream
    return stream.socket


async def reset(stream) -> None:
    """Refuse as a BIG-IP does: a TCP reset."""
    try:
        socket_of(stream).setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    await trio.aclose_forcefully(stream)


def fire(hook, event: str, flow: Flow) -> None:
    if hook is not None and hook.wants(event):
        hook.fire(event, flow)


def count(counters, field_: str, n: int) -> None:
    for s in counters:
        setattr(s, field_, getattr(s, field_) + n)


async def pump(src: trio.SocketStream, dst: trio.SocketStream, counters, field_: str) -> None:
    """Copy one direction; a half-close is passed on."""
    while True:
        data = await src.receive_some(CHUNK)
        if not data:
            break
        count(counters, field_, len(data))
        await dst.send_all(data)
    try:
        if isinstance(dst, trio.abc.HalfCloseableStream):   # TLS has no half-close: its end comes at close
            await dst.send_eof()
    except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
        pass


async def read_fd(fd: int) -> bytes:
    """What a plain socket has to read, after one wait for it to be readable (that wait is the
    checkpoint); b"" at the peer's close. A reset is trio's BrokenResourceError, as a stream's."""
    while True:
        await trio.lowlevel.wait_readable(fd)
        try:
            return os.read(fd, CHUNK)
        except BlockingIOError:
            continue
        except OSError as exc:
            raise trio.BrokenResourceError(str(exc)) from exc


async def write_fd(fd: int, data: bytes) -> None:
    """All of `data` to a plain socket, waiting only while its send buffer is full."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            await trio.lowlevel.wait_writable(fd)
        except OSError as exc:
            raise trio.BrokenResourceError(str(exc)) from exc


async def pump_plain(src: trio.SocketStream, dst: trio.SocketStream, counters, field_: str) -> None:
    """pump() for two plain TCP streams, with one trip through the scheduler per chunk instead of
    three (receive_some and send_all each end with a checkpoint of their own): wait until the
    source is readable, read what is there, write it all (waiting only if the destination's
    buffer is full). The wait is the checkpoint, so cancellation (a member forced offline) holds."""
    rfd, wfd = src.socket.fileno(), dst.socket.fileno()
    while data := await read_fd(rfd):
        count(counters, field_, len(data))
        await write_fd(wfd, data)
    try:
        await dst.send_eof()
    except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
        pass


async def splice(client: trio.SocketStream, server: trio.SocketStream, counters) -> None:
    """Both directions until both are done, or either side breaks (then both end)."""
    plain = isinstance(client, trio.SocketStream) and isinstance(server, trio.SocketStream)
    try:
        async with trio.open_nursery() as pumps:
            pumps.start_soon(pump_plain if plain else pump, client, server, counters, "bytes_in")
            pumps.start_soon(pump_plain if plain else pump, server, client, counters, "bytes_out")
    except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
        pass


# -- HTTP ------------------------------------------------------------------------------------------
def headers_of(items) -> Headers:
    return Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in items)


def raw_headers(headers: Headers) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items]


class HttpSide:
    """One side's HTTP/1.1 messages over one stream (http1.Reader), counting what it reads.

    Over plain TCP it reads and writes the socket itself, as pump_plain does: one trip through
    trio's scheduler per read (the wait for the socket to be readable, the checkpoint that keeps
    cancellation) instead of three per read and write through the stream; TLS goes through the stream."""

    def __init__(self, stream, reader: http1.Reader, counters, field_: str):
        self.stream, self.reader, self.counters, self.field = stream, reader, counters, field_
        self.fd = stream.socket.fileno() if isinstance(stream, trio.SocketStream) else None

    async def receive(self) -> bytes:
        if self.fd is None:
            return await self.stream.receive_some(CHUNK)
        return await read_fd(self.fd)

    async def send(self, data: bytes) -> None:
        if self.fd is None:
            await self.stream.send_all(data)
        else:
            await write_fd(self.fd, data)

    async def _read(self) -> None:
        """More bytes into the reader; at the peer's close, the reader's end (or Bad mid-message)."""
        data = await self.receive()
        if data:
            count(self.counters, self.field, len(data))
            self.reader.feed(data)
        elif not self.reader.eof():
            raise http1.Bad("closed mid-message")
        elif not self.reader.events:
            raise EOFError

    async def next_head(self) -> http1.Head | None:
        """The next message's head; None when the peer closed between messages."""
        events = self.reader.events
        while not events:
            try:
                await self._read()
            except EOFError:
                return None
        ev = events.popleft()
        if not isinstance(ev, http1.Head):
            raise http1.Bad("body data where a head was expected")
        return ev

    async def _event(self):
        """The next body event of the message being read (data or END), reading as needed."""
        while not self.reader.events:
            try:
                await self._read()
            except EOFError:
                raise http1.Bad("closed mid-message") from None
        return self.reader.events.popleft()

    next_data = _event   # the gateway's HTTP/2 streams read a response's body by it

    async def body(self) -> bytes:
        """This side's message body, read whole (content adaptation), to the end of the message."""
        out = []
        while (ev := await self._event()) is not http1.END:
            out.append(ev)
        return b"".join(out)

    async def relay(self, dst: "HttpSide", head: bytes, chunked: bool) -> None:
        """`head`, then this side's body to `dst`, to the end of the message, written once per read
        (the head goes out with the body's first bytes); `chunked`: framed as chunks again."""
        out = [head]
        while True:
            if out and not self.reader.events:
                await dst.send(b"".join(out))
                out = []
            ev = await self._event()
            if ev is http1.END:
                if chunked:
                    out.append(http1.LAST_CHUNK)
                await dst.send(b"".join(out))
                return
            out.append(http1.chunk(ev) if chunked else ev)
