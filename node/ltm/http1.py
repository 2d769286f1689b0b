"""HTTP/1.x messages read with llhttp (Node.js's parser, in C, through httptools), sans-IO: bytes
in; each message's head, its body's data and its end out, as events. The http virtual parses both
sides of every request: h11 (pure Python) took about 150 us a request for that, most of the
proxy's time; llhttp takes about 10.

A body is passed on as its sender framed it: Content-Length data as it comes, a chunked body
chunk by chunk (llhttp takes the chunks apart; `chunk` frames them again), a response with
neither until the server closes (`eof`).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import httptools

MAX_HEAD = 32768
END = None   # the event that ends a message


class Bad(Exception):
    """A message the parser refuses, or a head over the limit: the connection is reset."""


@dataclass(slots=True)
class Head:
    """A request's or a response's start line and headers, as bytes, and how its body is framed."""
    method: bytes            # a request's (b"" in a response)
    target: bytes            # a request's
    status: int              # a response's (0 in a request)
    reason: bytes
    version: str             # "1.1"
    headers: list[tuple[bytes, bytes]]
    keep_alive: bool         # the connection may carry another message after this one
    chunked: bool
    until_close: bool        # a response framed by the server closing


def value(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The last value of a header (name in lower case)."""
    found = None
    for k, v in headers:
        if k.lower() == name:
            found = v
    return found


def write_head(first: bytes, headers) -> bytes:
    return first + b"\r\n" + b"".join(k + b": " + v + b"\r\n" for k, v in headers) + b"\r\n"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"


class Reader:
    """One direction of an HTTP/1.1 connection: requests (a client's) or responses (a server's)."""

    def __init__(self, requests: bool, max_head: int = MAX_HEAD):
        self.requests, self.max_head = requests, max_head or MAX_HEAD
        self.events: deque = deque()   # Head, body bytes, END
        self.head_only = False         # the next response answers a HEAD request: it has no body
        self._parser = self._new()
        self._in_body = False          # between a head and its END
        self._head_bytes = 0           # read since the last head completed
        self._current: Head | None = None
        self._skip = False

    def _new(self):
        return (httptools.HttpRequestParser if self.requests else httptools.HttpResponseParser)(self)

    @property
    def between(self) -> bool:
        """No message is partly read (an idle connection may be reused or closed cleanly)."""
        return not self._in_body and not self._head_bytes and not self.events

    def feed(self, data: bytes) -> None:
        if not self._in_body:
            self._head_bytes += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as up:   # Upgrade / CONNECT: passed on as a message like any
            self._parser = self._new()
            rest = data[up.args[0]:] if up.args and isinstance(up.args[0], int) else b""
            if rest:
                self.feed(rest)
        except httptools.HttpParserError as exc:
            raise Bad(str(exc)) from None
        if self._skip:        # a HEAD's response ended at its head; the parser starts afresh
            self._skip, self._parser = False, self._new()
        if not self._in_body and self._head_bytes > self.max_head:
            raise Bad("head too large")

    def eof(self) -> bool:
        """The peer closed: True if that was clean (between messages, or the end of a response
        framed by the close, whose END is then queued)."""
        if self._in_body and self._current is not None and self._current.until_close:
            self._in_body = False
            self.events.append(END)
            return True
        return not self._in_body and not self._head_bytes

    # -- llhttp's callbacks --------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._url, self._reason, self._headers = b"", b"", []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_status(self, reason: bytes) -> None:
        self._reason += reason

    def on_header(self, name: bytes, value_: bytes) -> None:
        self._headers.append((name, value_))

    def on_headers_complete(self) -> None:
        p, headers = self._parser, self._headers
        chunked = lengthed = False
        for k, v in headers:
            low = k.lower()
            if low == b"transfer-encoding":
                chunked = chunked or b"chunked" in v.lower()
            elif low == b"content-length":
                lengthed = True
        status = 0 if self.requests else p.get_status_code()
        until_close = not self.requests and not self.head_only and status >= 200 and status not in (204, 304) \
            and not chunked and not lengthed
        self._current = Head(p.get_method() if self.requests else b"", self._url, status, self._reason,
                             p.get_http_version(), headers, p.should_keep_alive() and not until_close,
                             chunked, until_close)
        self.events.append(self._current)
        self._in_body, self._head_bytes = True, 0
        if self.head_only and status >= 200:
            self.head_only, self._skip = False, True
            self.on_message_complete()

    def on_body(self, body: bytes) -> None:
        if not self._skip:
            self.events.append(body)

    def on_message_complete(self) -> None:
        if self._in_body:
            self._in_body = False
            self.events.append(END)
