"""SIP (RFC 3261) as a virtual server with an `ltm profile sip` handles it, sans IO.

`parse` reads one message (a UDP datagram, or one framed off a TCP stream by `Framer`) and refuses
what is not SIP, or is larger than the profile's max-size; `Calls` keeps each Call-ID on the member
its first message went to (all messages of a dialog to one member, as F5's Call-ID persistence);
`via` is the Via header the BIG-IP inserts with insert-via-header (and takes off the responses).
The IO shell is node/ltm/sip_driver.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

# RFC 3261 7.3.3: the compact forms of header names
COMPACT = {"i": "Call-ID", "v": "Via", "f": "From", "t": "To", "m": "Contact", "l": "Content-Length",
           "c": "Content-Type", "e": "Content-Encoding", "k": "Supported", "s": "Subject", "o": "Event",
           "r": "Refer-To", "u": "Allow-Events", "b": "Referred-By", "x": "Session-Expires"}
MANDATORY = ("Via", "From", "To", "Call-ID", "CSeq")   # RFC 3261 8.1.1: every request has them
TOKEN = re.compile(r"^[A-Za-z0-9.!%*_+`'~-]+$")
STATUS = re.compile(r"^SIP/2\.0 ([1-6][0-9][0-9]) (.*)$")
MAGIC = "z9hG4bK"   # RFC 3261 8.1.1.7: a branch starts with it
VIA_TAG = "f5-"     # the branch of a Via this proxy inserted (so it knows its own on the responses)


class Bad(Exception):
    """Not a SIP message (or over max-size): the datagram is dropped, the TCP connection reset."""


def canonical(name: str) -> str:
    """A header name as compared: its long form, lower case (`i` and `call-id` are one)."""
    return COMPACT.get(name.strip().lower(), name.strip()).lower()


@dataclass(frozen=True)
class Message:
    method: str | None                 # a request's (INVITE); None for a response
    uri: str                           # a request's Request-URI
    status: int | None                 # a response's (200); None for a request
    reason: str
    headers: tuple[tuple[str, str], ...] = ()   # as sent, in order (names as written)
    body: bytes = b""

    @property
    def is_request(self) -> bool:
        return self.method is not None

    def header(self, name: str) -> str | None:
        """The first value of a header (compact or long name, any case), None if absent."""
        want = canonical(name)
        return next((v for n, v in self.headers if canonical(n) == want), None)

    def values(self, name: str) -> list[str]:
        """Every value of a header, comma-separated ones split (Via: a, b is two)."""
        want = canonical(name)
        return [part.strip() for n, v in self.headers if canonical(n) == want for part in split_commas(v)]

    @property
    def call_id(self) -> str:
        return self.header("Call-ID") or ""

    def start_line(self) -> str:
        return f"{self.method} {self.uri} SIP/2.0" if self.is_request else f"SIP/2.0 {self.status} {self.reason}"

    def to_bytes(self) -> bytes:
        """The message on the wire; Content-Length is the body's (a UDP message may have gone without)."""
        heads = [(n, v) for n, v in self.headers if canonical(n) != "content-length"]
        heads.append(("Content-Length", str(len(self.body))))
        text = "".join(f"{n}: {v}\r\n" for n, v in heads)
        return f"{self.start_line()}\r\n{text}\r\n".encode() + self.body

    def with_via(self, value: str) -> Message:
        """A request with `value` as its top Via (before every other header, as a proxy puts it)."""
        return replace(self, headers=(("Via", value), *self.headers))

    def without_own_via(self) -> Message:
        """A response with the top Via taken off if this proxy inserted it (its branch says so)."""
        for i, (n, v) in enumerate(self.headers):
            if canonical(n) != "via":
                continue
            parts = split_commas(v)
            if VIA_TAG not in branch_of(parts[0]):
                return self
            rest = ", ".join(p.strip() for p in parts[1:])
            heads = list(self.headers)
            if rest:
                heads[i] = (n, rest)
            else:
                del heads[i]
            return replace(self, headers=tuple(heads))
        return self


def split_commas(value: str) -> list[str]:
    """A header value split at commas outside quotes and <>."""
    out, cur, quoted, angle = [], [], False, 0
    for ch in value:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            angle += 1
        elif not quoted and ch == ">":
            angle = max(0, angle - 1)
        if ch == "," and not quoted and not angle:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return [p for p in out if p.strip()] or [""]


def branch_of(via: str) -> str:
    m = re.search(r";\s*branch=([^;,\s]+)", via, re.IGNORECASE)
    return m.group(1) if m else ""


def parse(data: bytes, max_size: int = 65535) -> Message:
    """One SIP message. Raises Bad: over max_size (0: no limit), no end of headers, a start line
    that is neither a request nor a response, a header line without a colon, a request without
    RFC 3261's mandatory headers, a Content-Length that is not a number or more than the body."""
    if max_size and len(data) > max_size:
        raise Bad(f"message of {len(data)} bytes over max-size {max_size}")
    data = data.lstrip(b"\r\n")   # RFC 3261 7.5: CRLFs before a message are ignored (keep-alives)
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise Bad("no end of headers")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise Bad("headers are not UTF-8") from None
    lines = text.split("\r\n")
    method, uri, status, reason = _start(lines[0])
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:   # a folded line continues the header before it
            n, v = headers[-1]
            headers[-1] = (n, f"{v} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if not colon or not TOKEN.match(name.strip()):
            raise Bad(f"bad header line {line[:40]!r}")
        headers.append((name.strip(), value.strip()))
    msg = Message(method, uri, status, reason, tuple(headers))
    missing = [h for h in MANDATORY if msg.header(h) is None]
    if missing:
        raise Bad(f"no {', '.join(missing)} header")
    length = msg.header("Content-Length")
    if length is not None:
        if not length.isdigit():
            raise Bad(f"bad Content-Length {length!r}")
        if int(length) > len(body):
            raise Bad(f"Content-Length {length} over the {len(body)} bytes of body")
        body = body[:int(length)]   # RFC 3261 18.3: over a datagram, what follows is discarded
    return replace(msg, body=body)


def _start(line: str) -> tuple[str | None, str, int | None, str]:
    m = STATUS.match(line)
    if m:
        return None, "", int(m.group(1)), m.group(2)
    parts = line.split(" ")
    if len(parts) == 3 and parts[2] == "SIP/2.0" and TOKEN.match(parts[0]) and parts[0].isupper() and \
            ":" in parts[1]:
        return parts[0], parts[1], None, ""
    raise Bad(f"not a SIP start line {line[:60]!r}")


@dataclass
class Framer:
    """SIP over a TCP stream: bytes in, whole messages out (each ends its headers with a blank line
    and has a Content-Length, RFC 3261 18.3). Raises Bad for a message that is not SIP or grows
    over max_size before it is whole."""
    max_size: int = 65535
    buffer: bytes = b""

    def feed(self, data: bytes) -> list[Message]:
        self.buffer += data
        out = []
        while True:
            self.buffer = self.buffer.lstrip(b"\r\n")
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if self.max_size and len(self.buffer) > self.max_size:
                    raise Bad(f"headers over max-size {self.max_size}")
                return out
            head = self.buffer[:end + 4]
            m = re.search(rb"\r\n(?:content-length|l)[ \t]*:[ \t]*([0-9]+)", head, re.IGNORECASE)
            if m is None:
                raise Bad("no Content-Length on a stream")
            whole = end + 4 + int(m.group(1))
            if self.max_size and whole > self.max_size:
                raise Bad(f"message of {whole} bytes over max-size {self.max_size}")
            if len(self.buffer) < whole:
                return out
            out.append(parse(self.buffer[:whole], self.max_size))
            self.buffer = self.buffer[whole:]


def via(profile: dict, transport: str, host: str, port: int, n: int) -> str:
    """The Via a BIG-IP inserts in a forwarded request with insert-via-header: the profile's
    user-via-header if set, else this hop's (TLS with secure-via-header), with a branch of its own."""
    branch = f"{MAGIC}{VIA_TAG}{n:x}"
    user = profile.get("user-via-header", "none")
    if user not in ("none", "", None):
        return user if "branch=" in user else f"{user};branch={branch}"
    proto = "TLS" if profile.get("secure-via-header") == "enabled" else transport.upper()
    return f"SIP/2.0/{proto} {host}:{port};branch={branch}"


def forwarded(msg: Message, profile: dict, transport: str, local: tuple[str, int], n: int) -> Message:
    """A request as it leaves for the member: with the BIG-IP's Via when the profile inserts one."""
    if msg.is_request and profile.get("insert-via-header") == "enabled":
        return msg.with_via(via(profile, transport, local[0], local[1], n))
    return msg


@dataclass
class Calls:
    """Call-ID -> member, each kept `timeout` seconds after its last message (the profile's
    sip-session-timeout), per virtual and community (virtuals of one community share them)."""
    timeout: float = 300.0
    records: dict[tuple[str, str], tuple[str, float]] = field(default_factory=dict)

    def member(self, scope: str, call_id: str, now: float) -> str | None:
        hit = self.records.get((scope, call_id))
        if hit is None or hit[1] <= now:
            self.records.pop((scope, call_id), None)
            return None
        return hit[0]

    def remember(self, scope: str, call_id: str, member: str, now: float) -> None:
        if call_id:
            self.records[(scope, call_id)] = (member, now + self.timeout)

    def forget(self, scope: str, call_id: str) -> None:
        self.records.pop((scope, call_id), None)

    def expire(self, now: float) -> None:
        for key in [k for k, (_, until) in self.records.items() if until <= now]:
            del self.records[key]


def scope_of(virtual: str, profile: dict) -> str:
    """Whose Call-IDs a virtual shares: its profile's community's (dialog-aware virtuals of one
    SIP functional group), else its own."""
    community = profile.get("community", "none")
    return f"community:{community}" if community not in ("none", "", None) else virtual


def ends_dialog(msg: Message, profile: dict) -> bool:
    """A 2xx answer to BYE with terminate-on-bye: the call is over, its record goes."""
    return (not msg.is_request and msg.status is not None and 200 <= msg.status < 300 and
            profile.get("terminate-on-bye", "enabled") == "enabled" and
            (msg.header("CSeq") or "").split()[-1:] == ["BYE"])
