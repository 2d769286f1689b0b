"""Health monitors: tcp, http and gateway_icmp, with F5's interval (5 s) and timeout (16 s).

A member is marked up by one successful probe and down when no probe has succeeded for `timeout`
seconds; a new member is "checking" until its first result. The probes are real: a TCP connect,
an HTTP request whose response must match the receive string (a regular expression), an ICMP
echo.
"""
from __future__ import annotations

import os
import re
import socket
import struct

import trio


def unescape(text: str) -> bytes:
    """tmsh send strings carry \\r and \\n as two characters."""
    return text.replace("\\r", "\r").replace("\\n", "\n").encode()


async def probe_tcp(address: str, port: int, send: str | None, recv: str | None, timeout: float) -> str | None:
    """None when healthy, else the reason."""
    try:
        with trio.fail_after(timeout):
            stream = await trio.open_tcp_stream(address, port)
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
    except OSError as exc:
        return f"connection failed: {exc.strerror or exc}"


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


async def probe(kind: str, settings: dict, address: str, port: int) -> str | None:
    timeout = float(min(settings.get("interval", 5), settings.get("timeout", 16)))
    if kind in ("gateway-icmp", "icmp"):
        return await probe_icmp(address, timeout)
    if kind in ("tcp-half-open", "external"):   # a connect; the lab runs no external script
        return await probe_tcp(address, port, None, None, timeout)
    if kind in ("http", "https"):
        return await probe_tcp(address, port, settings.get("send") or "GET /\\r\\n", settings.get("recv"), timeout)
    return await probe_tcp(address, port, settings.get("send"), settings.get("recv"), timeout)


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
