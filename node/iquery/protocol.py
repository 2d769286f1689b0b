r"""The 4353 session, sans-IO: hello and version exchange, keepalive, timeouts, error frames.

Modelled on h11: the trio code feeds received bytes and the current time, reads back events, and
writes whatever `data_to_send()` returns. Nothing here touches a socket or a clock.

    AWAIT_HELLO --hello (same major version)--> OPEN --error/timeout/bad frame--> CLOSED
         \--version mismatch / hello timeout / bad frame-----------------------------^
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

from . import messages as m
from .framing import FrameDecoder, FrameError, encode, MAX_FRAME

PROTOCOL_VERSION = (1, 0)


class State(enum.Enum):
    AWAIT_HELLO = "await-hello"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Hello:
    kind: ClassVar[str] = "hello"
    device: str
    version: tuple[int, int]
    fields: dict


@dataclass(frozen=True)
class Message:
    body: dict


@dataclass(frozen=True)
class Closed:
    code: str  # version-mismatch, hello-timeout, idle-timeout, bad-frame, bad-hello, peer-error, local
    reason: str


class ProtocolStateError(RuntimeError):
    """The caller used the session in a state that does not allow it (a bug, not peer input)."""


class Session:
    def __init__(self, device: str, now: float, *, version=PROTOCOL_VERSION, hello_fields=None,
                 hello_timeout: float = 5.0, ping_interval: float = 2.0, idle_timeout: float = 6.0,
                 max_frame: int = MAX_FRAME, initiator: bool = True):
        self.device = device
        self.version = tuple(version)
        self.state = State.AWAIT_HELLO
        self.peer: Hello | None = None
        self.closed: Closed | None = None
        self.hello_timeout = hello_timeout
        self.ping_interval = ping_interval
        self.idle_timeout = idle_timeout
        self.max_frame = max_frame
        self._decoder = FrameDecoder(max_frame=max_frame)
        self._out = bytearray()
        self._started = now
        self._last_rx = now
        # keepalive: a side pings when it has heard nothing for its wait, at most once an interval,
        # and a ping is answered; the side that connected waits one interval, the other two (its
        # pings only if the connecting side went quiet), so a quiet channel carries one ping and one
        # pong an interval, not one each way and their answers
        self._ping_wait = ping_interval if initiator else 2 * ping_interval
        self._last_ping = float("-inf")
        self._queue(m.Hello(list(self.version), device, dict(hello_fields or {})), now)

    # -- output ---------------------------------------------------------------------------------
    def data_to_send(self) -> bytes:
        data, self._out = bytes(self._out), bytearray()
        return data

    def _queue(self, message: m.Message, now: float) -> None:
        self._out += encode(message.to_wire(), max_frame=self.max_frame)

    def send(self, message: m.Message, now: float) -> None:
        if self.state is not State.OPEN:
            raise ProtocolStateError(f"cannot send in state {self.state.value}")
        self._queue(message, now)

    def close(self, code: str, reason: str, now: float) -> Closed:
        """Close locally; the peer is told why with an error frame."""
        if self.state is State.CLOSED:
            return self.closed
        self._queue(m.Error(code, reason), now)
        return self._closed(code, reason)

    def _closed(self, code: str, reason: str) -> Closed:
        self.state = State.CLOSED
        self.closed = Closed(code, reason)
        return self.closed

    # -- input ----------------------------------------------------------------------------------
    def receive_data(self, data: bytes, now: float) -> list:
        """Feed bytes from the peer; returns Hello, Message and at most one (last) Closed event."""
        if self.state is State.CLOSED:
            return []
        self._last_rx = now
        self._decoder.receive_data(data)
        events = []
        while self.state is not State.CLOSED:
            try:
                message = self._decoder.next_message()
            except FrameError as exc:
                events.append(self.close("bad-frame", str(exc), now))
                break
            if message is None:
                break
            event = self._handle(message, now)
            if event is not None:
                events.append(event)
        return events

    def _handle(self, message: dict, now: float):
        kind = message["t"]
        if kind == "error":
            return self._closed("peer-error", f"peer closed the channel: {message.get('reason', '?')}"
                                f" ({message.get('code', '?')})")
        if self.state is State.AWAIT_HELLO:
            if kind != "hello":
                return self.close("bad-hello", f"expected hello, got {kind!r}", now)
            try:
                hello = m.Hello.from_wire(message)
            except m.BadMessage:
                return self.close("bad-hello", "malformed hello", now)
            version, device = hello.version, hello.device
            if len(version) != 2 or not all(isinstance(v, int) for v in version):
                return self.close("bad-hello", "malformed hello", now)
            if version[0] != self.version[0]:
                return self.close("version-mismatch",
                                  f"protocol version mismatch: peer {device} speaks "
                                  f"{version[0]}.{version[1]}, this device "
                                  f"{self.version[0]}.{self.version[1]}", now)
            self.state = State.OPEN
            self.peer = Hello(device, (version[0], version[1]), hello.extra)
            return self.peer
        if kind in ("ping", "pong"):
            if kind == "ping":
                self._queue(m.Pong(), now)
            return None
        return Message(message)

    # -- time -----------------------------------------------------------------------------------
    def next_deadline(self) -> float:
        if self.state is State.AWAIT_HELLO:
            return self._started + self.hello_timeout
        if self.state is State.OPEN:
            return min(max(self._last_rx + self._ping_wait, self._last_ping + self.ping_interval),
                       self._last_rx + self.idle_timeout)
        return float("inf")

    def tick(self, now: float) -> Closed | None:
        """Call at or after next_deadline(): sends keepalives, closes on timeouts."""
        if self.state is State.AWAIT_HELLO and now >= self._started + self.hello_timeout:
            return self.close("hello-timeout",
                              f"peer said nothing for {self.hello_timeout:g} s after connecting", now)
        if self.state is State.OPEN:
            if now >= self._last_rx + self.idle_timeout:
                return self.close("idle-timeout",
                                  f"nothing received from {self.peer.device} for "
                                  f"{now - self._last_rx:.1f} s", now)
            if now >= self._last_rx + self._ping_wait and now >= self._last_ping + self.ping_interval:
                self._queue(m.Ping(), now)
                self._last_ping = now
        return None
