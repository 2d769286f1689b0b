"""HTTP/2 on the client side of an http virtual (ltm profile http2), with the `h2` library.

The client speaks HTTP/2: over TLS when it picks h2 by ALPN (activation-modes alpn), or from its
first byte (activation-modes always: h2c on a virtual without client-ssl). Each stream is one
HTTP/1.1 request to a member, its response sent back on the stream, as a BIG-IP's HTTP/2 gateway
does. The sans-IO part is here: whether a connection speaks HTTP/2, a stream's headers as the
HTTP/1.1 head a member gets, a member's response head as HTTP/2 headers; and Connection, the
h2 state of one client connection with its writes kept in order and its flow control waited on.
"""
from __future__ import annotations

import h2.config
import h2.connection
import h2.settings
import trio
from h2 import events, exceptions
from h2.errors import ErrorCodes

from . import http1

ALPN = ("h2", "http/1.1")    # what the client-ssl side offers with an http2 profile in alpn mode
# headers HTTP/2 forbids (RFC 9113 8.2.2): a member's are dropped, a client's refuse its stream
HOP = (b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade")
PSEUDO = (b":method", b":scheme", b":authority", b":path")


class BadStream(Exception):
    """A stream the gateway refuses (RST_STREAM PROTOCOL_ERROR); the connection's others go on."""


def modes(profile: dict) -> list[str]:
    return list(profile.get("activation-modes") or ["alpn"])


def offers_alpn(profile: dict | None) -> tuple[str, ...]:
    """The ALPN protocols the client-ssl side offers: h2 first with an http2 profile in alpn mode."""
    return ALPN if profile is not None and "alpn" in modes(profile) else ()


def speaks_h2(profile: dict | None, alpn: str | None) -> bool:
    """Whether a client connection speaks HTTP/2: `alpn` is what TLS agreed (None: no TLS or none agreed)."""
    if profile is None:
        return False
    return "always" in modes(profile) or ("alpn" in modes(profile) and alpn == "h2")


def request_head(headers: list[tuple[bytes, bytes]], body_length: int | None) -> tuple[bytes, list]:
    """A stream's request headers as the HTTP/1.1 request line and headers a member gets: :authority
    as Host (unless there is one), cookies joined again, a Content-Length for a body that came whole
    (`body_length`; None: no body)."""
    pseudo, out, cookies = {}, [], []
    for k, v in headers:
        if k.startswith(b":"):
            if k not in PSEUDO or k in pseudo:
                raise BadStream(f"pseudo-header {k.decode('latin-1')}")
            pseudo[k] = v
        elif k in HOP or (k == b"te" and v.lower() != b"trailers"):
            raise BadStream(f"connection-specific header {k.decode('latin-1')}")
        elif k == b"cookie":
            cookies.append(v)
        elif k != b"te" and k != b"content-length":
            out.append((k, v))
    method, path = pseudo.get(b":method"), pseudo.get(b":path")
    if not method or (not path and method != b"CONNECT"):
        raise BadStream("no :method or :path")
    if cookies:
        out.append((b"cookie", b"; ".join(cookies)))
    if b":authority" in pseudo and http1.value(out, b"host") is None:
        out.insert(0, (b"host", pseudo[b":authority"]))
    if body_length is not None:
        out.append((b"content-length", b"%d" % body_length))
    return method + b" " + (path or pseudo.get(b":authority", b"")) + b" HTTP/1.1", out


def response_headers(head: http1.Head) -> list[tuple[bytes, bytes]]:
    """A member's response head as HTTP/2 headers: :status first, names in lower case, the
    connection-specific ones dropped (the framing is HTTP/2's own)."""
    return [(b":status", b"%d" % head.status)] + [(k.lower(), v) for k, v in head.headers if k.lower() not in HOP]


def server_config(profile: dict) -> tuple[h2.config.H2Configuration, dict]:
    """The h2 configuration of the virtual's side and the SETTINGS it announces from the profile."""
    config = h2.config.H2Configuration(client_side=False, header_encoding=None, validate_inbound_headers=True)
    settings = {h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: int(profile.get("concurrent-streams-per-connection", 10))}
    return config, settings


class Connection:
    """One client's HTTP/2 connection: the h2 state, writes in order (one at a time on the stream),
    senders waiting for flow-control window."""

    def __init__(self, stream, profile: dict):
        config, settings = server_config(profile)
        self.stream, self.conn = stream, h2.connection.H2Connection(config)
        self.conn.local_settings = h2.settings.Settings(client=False, initial_values=settings)
        self.lock = trio.Lock()
        self.window = trio.Event()    # set (and replaced) when the client opens window

    def start(self) -> None:
        self.conn.initiate_connection()

    async def flush(self) -> None:
        async with self.lock:
            data = self.conn.data_to_send()
            if data:
                await self.stream.send_all(data)

    def opened(self) -> None:
        """The client gave window (WINDOW_UPDATE or new SETTINGS): waiting senders go on."""
        self.window.set()
        self.window = trio.Event()

    async def send_data(self, sid: int, data: bytes) -> None:
        """`data` on a stream, in frames as the client's window and frame size allow."""
        view = memoryview(data)
        while view:
            n = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size, len(view))
            if n <= 0:
                await self.window.wait()
                continue
            self.conn.send_data(sid, bytes(view[:n]))
            view = view[n:]
            await self.flush()

    async def reset(self, sid: int, code: int) -> None:
        try:
            self.conn.reset_stream(sid, code)
        except exceptions.StreamClosedError:
            return
        await self.flush()


__all__ = ["ALPN", "BadStream", "Connection", "ErrorCodes", "events", "exceptions", "offers_alpn", "request_head",
           "response_headers", "speaks_h2"]
