"""HTTP/1.x message heads for the iRule path of the proxy: read, parse, write, and the answers a
rule gives instead of a server (HTTP::redirect, HTTP::respond) in F5's shape."""
from __future__ import annotations

import trio

from .hooks import Headers, Outcome, Request, Response

MAX_HEAD = 32768
REASONS = {200: "OK", 201: "Created", 204: "No Content", 301: "Moved Permanently", 302: "Found", 303: "See Other",
           307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


async def read_head(stream: trio.SocketStream) -> tuple[bytes, bytes] | None:
    """The head up to its blank line, and what came after it; None at EOF or past MAX_HEAD."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        if len(buf) > MAX_HEAD:
            return None
        data = await stream.receive_some(65536)
        if not data:
            return None
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest


def _headers(lines: list[str]) -> Headers | None:
    items = []
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            return None
        items.append((name, value.strip()))
    return Headers(items)


def parse_request(head: bytes) -> Request | None:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return None
    headers = _headers(lines[1:])
    return Request(parts[0], parts[1], parts[2][5:], headers) if headers is not None else None


def parse_response(head: bytes) -> Response | None:
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code, _, reason = rest.partition(" ")
    headers = _headers(lines[1:])
    if not version.startswith("HTTP/") or not code.isdigit() or headers is None:
        return None
    return Response(int(code), reason, version[5:], headers)


def _head(first: str, headers: Headers) -> bytes:
    return (first + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items) + "\r\n").encode("latin-1")


def request_head(r: Request) -> bytes:
    return _head(f"{r.method} {r.uri} HTTP/{r.version}", r.headers)


def response_head(r: Response) -> bytes:
    return _head(f"HTTP/{r.version} {r.status} {r.reason}", r.headers)


def answer(o: Outcome) -> bytes:
    """A BIG-IP's own answer: HTTP/1.0, `Server: BigIP`, the connection closed after it."""
    if o.kind == "redirect":
        headers = Headers([("Location", o.location), ("Server", "BigIP"), ("Connection", "close"),
                           ("Content-Length", "0")])
        return _head("HTTP/1.0 302 Found", headers)
    headers = Headers([("Server", "BigIP"), ("Connection", "close"), ("Content-Length", str(len(o.body)))])
    for k, v in o.headers:
        headers.replace(k, v)
    return _head(f"HTTP/1.0 {o.status} {REASONS.get(o.status, 'OK')}", headers) + o.body
