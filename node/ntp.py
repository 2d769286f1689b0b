"""SNTP (RFC 4330), sans-IO: the packets, the client's bookkeeping, and the lab server's answer.

Nothing here touches a socket or a clock: callers pass the node clock's time (seconds since the
epoch, what NTP timestamps carry) and a monotonic time for scheduling.

    client = SntpClient("10.1.1.1", poll=2.0)
    data = client.request(node_time, mono)           # send to the server's UDP 123
    sample = client.receive(reply, node_time, mono)  # None if the reply is not an answer to us
    clock.step(sample.offset)
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

NTP_DELTA = 2208988800          # seconds from 1900-01-01 (NTP era 0) to 1970-01-01
PACKET = struct.Struct("!BBbbII4sQQQQ")
MODE_CLIENT, MODE_SERVER = 3, 4
LI_UNSYNC = 3
STEP_THRESHOLD = 0.128          # ntpd steps the clock above 128 ms (and logs "time reset")


class NtpError(ValueError):
    """A packet that is not a usable NTP answer; the message says why."""


def to_ntp(t: float) -> int:
    secs = t + NTP_DELTA
    whole = int(secs)
    return (whole << 32) | int((secs - whole) * (1 << 32))


def from_ntp(v: int) -> float:
    return (v >> 32) - NTP_DELTA + (v & 0xFFFFFFFF) / (1 << 32)


@dataclass(frozen=True)
class Packet:
    li: int
    version: int
    mode: int
    stratum: int
    poll: int
    precision: int
    refid: bytes
    reference: int
    originate: int
    receive: int
    transmit: int

    def encode(self) -> bytes:
        return PACKET.pack((self.li << 6) | (self.version << 3) | self.mode, self.stratum, self.poll,
                           self.precision, 0, 0, self.refid, self.reference, self.originate,
                           self.receive, self.transmit)

    @classmethod
    def decode(cls, data: bytes) -> "Packet":
        if len(data) < PACKET.size:
            raise NtpError(f"short NTP packet ({len(data)} bytes, need {PACKET.size})")
        first, stratum, poll, precision, _delay, _disp, refid, ref, orig, recv, xmit = \
            PACKET.unpack_from(data)
        return cls(first >> 6, (first >> 3) & 7, first & 7, stratum, poll, precision, refid, ref, orig,
                   recv, xmit)


def server_reply(data: bytes, now: float, *, stratum: int = 1, refid: bytes = b"LOCL") -> bytes:
    """The lab server's answer to a client request received at `now` (and sent at once)."""
    req = Packet.decode(data)
    if req.mode != MODE_CLIENT or not 1 <= req.version <= 4:
        raise NtpError(f"not a client request (mode {req.mode}, version {req.version})")
    t = to_ntp(now)
    return Packet(0, req.version, MODE_SERVER, stratum, req.poll, -20, refid, t, req.transmit, t, t).encode()


@dataclass(frozen=True)
class Sample:
    offset: float    # seconds the server is ahead of this node's clock
    delay: float     # round trip
    stratum: int


class SntpClient:
    """One server, polled every `poll` seconds. `reach` is ntpq's 8-bit register (octal in
    `show sys ntp`); the node counts as synchronised while one of its last `keep` polls was answered."""

    def __init__(self, server: str, poll: float = 16.0, keep: int = 3):
        self.server, self.poll, self.keep = server, poll, keep
        self.reach = 0
        self.pending: int | None = None       # our transmit timestamp, the answer must echo it
        self.next_poll = 0.0                  # monotonic
        self.last: Sample | None = None
        self.last_sync: float | None = None   # node time of the last good answer
        self.last_sync_mono: float | None = None
        self.stratum = 16
        self.refid = b""
        self.error = ""

    def request(self, node_time: float, mono: float) -> bytes:
        self.reach = (self.reach << 1) & 0xFF
        self.pending = to_ntp(node_time)
        self.next_poll = mono + self.poll
        return Packet(0, 4, MODE_CLIENT, 0, 4, -20, b"\0\0\0\0", 0, 0, 0, self.pending).encode()

    def receive(self, data: bytes, node_time: float, mono: float) -> Sample | None:
        """A datagram from the server: the sample if it answers our pending request."""
        try:
            p = Packet.decode(data)
        except NtpError as exc:
            self.error = str(exc)
            return None
        if p.mode != MODE_SERVER or self.pending is None or p.originate != self.pending:
            self.error = "answer to no request of ours (mode or originate timestamp)"
            return None
        self.pending = None
        if p.stratum == 0 or p.stratum >= 16 or p.li == LI_UNSYNC:
            self.error = f"server is unsynchronised (stratum {p.stratum}, leap {p.li})"
            return None
        t1, t2, t3, t4 = from_ntp(p.originate), from_ntp(p.receive), from_ntp(p.transmit), node_time
        sample = Sample(((t2 - t1) + (t3 - t4)) / 2, (t4 - t1) - (t3 - t2), p.stratum)
        self.reach |= 1
        self.last, self.stratum, self.refid, self.error = sample, p.stratum, p.refid, ""
        self.last_sync, self.last_sync_mono = node_time + sample.offset, mono
        return sample

    def synchronized(self) -> bool:
        return bool(self.reach & ((1 << self.keep) - 1)) and self.last is not None

    def status(self, mono: float) -> dict:
        last = self.last
        return {"server": self.server, "synchronized": self.synchronized(), "stratum": self.stratum,
                "refid": self.refid.decode("ascii", "replace").strip("\0"), "poll": self.poll,
                "reach": f"{self.reach:o}",
                "when": round(mono - self.last_sync_mono, 1) if self.last_sync_mono is not None else None,
                "offset_ms": round(last.offset * 1000, 3) if last else None,
                "delay_ms": round(last.delay * 1000, 3) if last else None,
                "last_sync": self.last_sync, "error": self.error}
