"""ICAP/1.0 (RFC 3507), the client's side, sans-IO: a REQMOD or RESPMOD request as bytes, and the
ICAP server's response read from bytes.

A request carries the HTTP message to adapt encapsulated: its heads as they go on the wire, its
body chunked, each part's offset in the `Encapsulated` header. With a preview the first bytes of
the body go first (`Preview: n`); a body that ends within them ends with `0; ieof`, else the
client waits for `100 Continue` (or the server's answer) before it sends the rest (encode returns
the two parts). The server answers 204 (no modification), or 200 with the adapted message: a
request (REQMOD; or an HTTP response for the client instead), or a response (RESPMOD).
"""
from __future__ import annotations

from dataclasses import dataclass

MAX_HEAD = 65536
HEAD_PARTS = ("req-hdr", "res-hdr")
BODY_PARTS = ("req-body", "res-body", "null-body", "opt-body")


class Bad(Exception):
    """Not an ICAP response the client can read: the ICAP service counts as down."""


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    headers: dict[str, str]            # names in lower case
    req_head: bytes | None = None      # an adapted request's head (REQMOD)
    res_head: bytes | None = None      # an HTTP response's head (RESPMOD, or REQMOD answering the client)
    body: bytes | None = None          # the encapsulated body, unchunked; None: null-body

    @property
    def unmodified(self) -> bool:
        return self.status == 204


def chunked(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data) if data else b""


def encode(method: str, uri: str, headers: list[tuple[str, str]], req_head: bytes, res_head: bytes | None = None,
           body: bytes | None = None, preview: int | None = None) -> tuple[bytes, bytes | None]:
    """REQMOD (req_head, the request's body) or RESPMOD (req_head and res_head, the response's
    body) -> (what to send first, what to send after 100 Continue or None). The heads end in their
    blank line. `preview`: bytes of the body to send first (None: the whole body at once)."""
    if method not in ("REQMOD", "RESPMOD"):
        raise ValueError(f"ICAP method {method}")
    parts, offset = [], 0
    for name, head in (("req-hdr", req_head), ("res-hdr", res_head)):
        if head is not None:
            parts.append(f"{name}={offset}")
            offset += len(head)
    body_name = "null-body" if body is None else ("res-body" if res_head is not None else "req-body")
    parts.append(f"{body_name}={offset}")
    lines = [f"{method} {uri} ICAP/1.0", *(f"{k}: {v}" for k, v in headers), "Allow: 204"]
    rest = None
    if body is not None and preview is not None:
        lines.append(f"Preview: {preview}")
        first, after = body[:preview], body[preview:]
        if after:
            payload, rest = chunked(first) + b"0\r\n\r\n", chunked(after) + b"0\r\n\r\n"
        else:
            payload = chunked(first) + b"0; ieof\r\n\r\n"
    else:
        payload = b"" if body is None else chunked(body) + b"0\r\n\r\n"
    lines.append("Encapsulated: " + ", ".join(parts))
    icap_head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return icap_head + req_head + (res_head or b"") + payload, rest


def _unchunk(data: bytes) -> tuple[bytes, int] | None:
    """A chunked body from the start of `data` -> (body, bytes used); None if it is not all there."""
    body, pos = b"", 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return None
        size_text = data[pos:eol].split(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise Bad(f"bad chunk size {size_text!r}") from None
        if size == 0:     # the last chunk, then trailers (dropped) up to a blank line
            end = data.find(b"\r\n\r\n", eol)
            return None if end < 0 else (body, end + 4)
        if len(data) < eol + 2 + size + 2:
            return None
        body += data[eol + 2:eol + 2 + size]
        if data[eol + 2 + size:eol + 4 + size] != b"\r\n":
            raise Bad("chunk not ended by CRLF")
        pos = eol + 4 + size


def parse(data: bytes) -> tuple[Response, int] | None:
    """The ICAP response at the start of `data` -> (response, bytes used); None while it is incomplete."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        if len(data) > MAX_HEAD:
            raise Bad("ICAP head too large")
        return None
    lines = data[:end].decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code, _, reason = rest.partition(" ")
    if version != "ICAP/1.0" or not code.isdigit():
        raise Bad(f"not an ICAP response: {lines[0]!r}")
    headers = {}
    for line in lines[1:]:
        k, sep, v = line.partition(":")
        if not sep:
            raise Bad(f"bad ICAP header {line!r}")
        headers[k.strip().lower()] = v.strip()
    status, used = int(code), end + 4
    enc = headers.get("encapsulated")
    if status != 200 or not enc:     # 100, 204 and errors carry no message of their own
        return Response(status, reason, headers), used
    try:
        parts = [(n.strip(), int(o)) for n, _, o in (p.partition("=") for p in enc.split(","))]
    except ValueError:
        raise Bad(f"bad Encapsulated header {enc!r}") from None
    if not parts or parts[-1][0] not in BODY_PARTS or any(n not in HEAD_PARTS for n, _ in parts[:-1]):
        raise Bad(f"bad Encapsulated header {enc!r}")
    payload = data[used:]
    body_at = parts[-1][1]
    if len(payload) < body_at:
        return None
    heads = {}
    for (name, start), (_, stop) in zip(parts, parts[1:]):
        heads[name] = payload[start:stop]
    body = None
    if parts[-1][0] != "null-body":
        got = _unchunk(payload[body_at:])
        if got is None:
            return None
        body, n = got
        used += body_at + n
    else:
        used += body_at
    return Response(status, reason, headers, heads.get("req-hdr"), heads.get("res-hdr"), body), used


def expand(text: str, server: tuple[str, int]) -> str:
    """F5's macros in an ICAP profile's values: the ICAP server the internal virtual picked."""
    return text.replace("${SERVER_IP}", server[0]).replace("${SERVER_PORT}", str(server[1]))


def request_headers(profile: dict, server: tuple[str, int]) -> tuple[str, list[tuple[str, str]]]:
    """An ICAP profile's settings -> the request's URI and headers (Host, From, Referer, User-Agent)."""
    def given(name: str) -> str | None:
        v = profile.get(name)
        return None if v in (None, "", "none") else expand(v, server)

    uri = given("uri") or f"icap://{server[0]}:{server[1]}/"
    host = given("host") or uri.split("://", 1)[-1].split("/", 1)[0]
    headers = [("Host", host)]
    headers += [(h, v) for name, h in (("header-from", "From"), ("referer", "Referer"), ("user-agent", "User-Agent"))
                if (v := given(name)) is not None]
    return uri, headers
