"""Health monitors: tcp, http, https, udp, gateway_icmp, dns and external (F5's other types: `probe`), with F5's interval (5 s) and timeout
(16 s).

A member is marked up by one successful probe and down when no probe has succeeded for `timeout`
seconds (at that moment, as bigd's deadline, not at the next probe's result); probes start every
`interval` seconds whatever the last one took; a new member is "checking" until its first result. The probes are real: a TCP connect,
an HTTP request (over TLS for https, the server's certificate unchecked as F5's is) whose response
must match the receive string (a regular expression), a UDP datagram (down on an ICMP port
unreachable, or when a receive string is set and no matching answer comes), an ICMP echo.
"""
from __future__ import annotations

import math
import os
import re
import socket
import ssl
import struct
import tempfile
from pathlib import Path

import dns.exception
import dns.message
import dns.rcode
import dns.rdatatype
import trio

from .. import tls
from .external import probe_external
from .proxy import in_route_domain


def unescape(text: str) -> bytes:
    """tmsh send strings carry \\r and \\n as two characters."""
    return text.replace("\\r", "\r").replace("\\n", "\n").encode()


def unverified() -> ssl.SSLContext:
    """A BIG-IP's https monitor does not check the server's certificate."""
    return tls.unverified_client()


async def open_stream(address: str, port: int, tls: bool):
    """A TCP (or TLS) stream to a member, in its route domain (%ID: through its VRF device)."""
    if "%" not in address:
        if tls:
            return await trio.open_ssl_over_tcp_stream(address, port, ssl_context=unverified())
        return await trio.open_tcp_stream(address, port)
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        await sock.connect((in_route_domain(sock, address), port))
    except BaseException:
        sock.close()
        raise
    stream = trio.SocketStream(sock)
    if not tls:
        return stream
    wrapped = trio.SSLStream(stream, unverified(), server_hostname=None)
    await wrapped.do_handshake()
    return wrapped


async def probe_tcp(address: str, port: int, send: str | None, recv: str | None, timeout: float,
                    tls: bool = False) -> str | None:
    """None when healthy, else the reason."""
    try:
        with trio.fail_after(timeout):
            stream = await open_stream(address, port, tls)
            async with stream:
                if not send and not recv:
                    return None
                if send:
                    await stream.send_all(unescape(send))
                data = b""
                while len(data) < 65536:
                    chunk = await stream.receive_some(4096)
                    if not chunk:
                        break
                    data += chunk
                    if recv and re.search(recv, data.decode("latin-1")):
                        return None
                if recv and not re.search(recv, data.decode("latin-1")):
                    return f"response did not match the receive string {recv!r}"
                return None
    except trio.TooSlowError:
        return f"no response within {timeout:g} s"
    except (OSError, trio.BrokenResourceError) as exc:
        return f"connection failed: {getattr(exc, 'strerror', None) or exc}"


async def probe_udp(address: str, port: int, send: str, recv: str | None, timeout: float) -> str | None:
    """A datagram out; an ICMP port unreachable (ECONNREFUSED on the connected socket) is down, and
    so is silence when a receive string is set."""
    sock = trio.socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_DGRAM)
    with sock:
        try:
            await sock.connect((in_route_domain(sock, address), port))
            await sock.send(unescape(send))
            with trio.fail_after(timeout):
                while True:
                    data = await sock.recv(65536)
                    if not recv or re.search(recv, data.decode("latin-1")):
                        return None
        except trio.TooSlowError:
            return f"no response matching {recv!r} within {timeout:g} s" if recv else None
        except OSError as exc:
            return f"port unreachable: {exc.strerror or exc}"


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


async def probe_icmp(address: str, timeout: float) -> str | None:
    ident, seq = os.getpid() & 0xFFFF, 1
    header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    payload = b"biglab"
    packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    with sock:
        try:
            address = in_route_domain(sock, address)
            await sock.sendto(packet, (address, 0))
            with trio.fail_after(timeout):
                while True:
                    data, (src, _) = await sock.recvfrom(1024)
                    ihl = (data[0] & 0x0F) * 4
                    typ, _, _, rid, _ = struct.unpack("!BBHHH", data[ihl:ihl + 8])
                    if src == address and typ == 0 and rid == ident:
                        return None
        except trio.TooSlowError:
            return f"no ICMP echo reply within {timeout:g} s"
        except OSError as exc:
            return f"ICMP failed: {exc.strerror or exc}"


async def probe_dns(address: str, port: int, settings: dict, timeout: float) -> str | None:
    """F5's dns monitor: a query for qname/qtype; the answer's rcode (accept-rcode), its records
    (answer-contains) and, with a receive string, that address among them."""
    if not settings.get("qname"):
        return "no query name (qname)"
    qtype = dns.rdatatype.from_text(settings.get("qtype", "a"))
    query = dns.message.make_query(settings["qname"], qtype)
    sock = trio.socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_DGRAM)
    with sock:
        try:
            await sock.connect((in_route_domain(sock, address), port))
            await sock.send(query.to_wire())
            with trio.fail_after(timeout):
                while True:
                    answer = dns.message.from_wire(await sock.recv(65536), ignore_trailing=True)
                    if answer.id == query.id:
                        break
        except trio.TooSlowError:
            return f"no DNS answer within {timeout:g} s"
        except OSError as exc:
            return f"port unreachable: {exc.strerror or exc}"
        except dns.exception.DNSException as exc:
            return f"not a DNS answer: {exc}"
    if settings.get("accept-rcode", "no-error") == "no-error" and answer.rcode() != dns.rcode.NOERROR:
        return f"answer {dns.rcode.to_text(answer.rcode())}"
    contains = settings.get("answer-contains", "query-type")
    if contains == "query-type" and not any(r.rdtype == qtype for r in answer.answer):
        return f"no {dns.rdatatype.to_text(qtype)} record in the answer"
    if contains == "any-type" and not answer.answer:
        return "an empty answer"
    recv = settings.get("recv")
    if recv and recv not in [rd.to_text() for r in answer.answer for rd in r]:
        return f"{recv} is not in the answer"
    return None


# probed by a TCP connect: the lab logs into no database, directory or FTP server, and has no
# traffic statistics for inband
CONNECT = ("tcp-half-open", "ftp", "inband", "ldap", "mysql", "postgresql", "sip", "smtp")


async def probe(kind: str, settings: dict, address: str, port: int, scripts: Path | None = None) -> str | None:
    """One probe; `scripts`: where external monitors' scripts are written to run (external.py)."""
    timeout = float(min(settings.get("interval", 5), settings.get("timeout", 16)))
    if kind == "external":   # bigd gives a script the monitor's whole timeout
        return await probe_external(scripts or Path(tempfile.gettempdir()), settings, address, port,
                                    float(settings.get("timeout", 16)))
    if kind in ("gateway-icmp", "icmp"):
        return await probe_icmp(address, timeout)
    if kind in CONNECT:
        return await probe_tcp(address, port, None, None, timeout)
    if kind in ("http", "https", "http2"):    # http2 as https (HTTP/1 over TLS)
        return await probe_tcp(address, port, settings.get("send") or "GET /\\r\\n", settings.get("recv"), timeout,
                               tls=kind != "http")
    if kind == "dns":
        return await probe_dns(address, port, settings, timeout)
    if kind == "radius":   # a datagram: down on a port unreachable (the lab sends no RADIUS request)
        return await probe_udp(address, port, "", None, timeout)
    if kind == "udp":
        return await probe_udp(address, port, settings.get("send") or "default send string", settings.get("recv"),
                               timeout)
    return await probe_tcp(address, port, settings.get("send"), settings.get("recv"), timeout)


DEADLINE = "No successful responses received before deadline."   # bigd's last error at a deadline


class MonitorState:
    """Up on one success; down when nothing has succeeded for `timeout` seconds. Sans-IO."""

    def __init__(self, started: float, timeout: float):
        self.state = "checking"
        self.reason = ""
        self.timeout = timeout
        self.last_ok: float | None = None
        self.started = started

    def result(self, failure: str | None, now: float) -> bool:
        """Record a probe result; returns whether the state changed."""
        old = self.state
        if failure is None:
            self.state, self.reason, self.last_ok = "up", "", now
        else:
            self.reason = failure
            since = self.last_ok if self.last_ok is not None else self.started
            if self.state != "down" and now - since >= self.timeout:
                self.state = "down"
            elif self.state == "checking" and self.last_ok is None and now - self.started >= self.timeout:
                self.state = "down"
        return self.state != old

    def deadline(self) -> float:
        """When the member goes down unless a probe succeeds first: `timeout` after the last
        success (or the start); never once down."""
        if self.state == "down":
            return math.inf
        return (self.last_ok if self.last_ok is not None else self.started) + self.timeout

    def expire(self, now: float) -> bool:
        """The deadline passed with no success: down (returns whether the state changed)."""
        if now < self.deadline():
            return False
        self.state, self.reason = "down", self.reason or DEADLINE
        return True


def combined(states: list[str], need: int) -> str:
    """A member's state under its pool's monitor rule, from each monitor's: up once `need` of them
    find it up (all for `a and b`, N for `min N of`), down once so many find it down that `need`
    cannot be reached, else checking."""
    if sum(s == "up" for s in states) >= need:
        return "up"
    if len(states) - sum(s == "down" for s in states) < need:
        return "down"
    return "checking"
