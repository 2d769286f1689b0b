"""MQTT control packets (3.1, 3.1.1 and 5.0), sans-IO: a virtual with an MQTT profile reads each
side's bytes into whole packets, checks them as the specification requires of a receiver, and
hands each to the iRules (MQTT::type, MQTT::client_id, MQTT::topic, ...) before it is sent on.

    session = Session()
    client = Reader("client", session)       # what the client sends (CONNECT first)
    for packet in client.feed(data):         # whole packets; Malformed on a bad one
        ... packet.type, packet.topic ... packet.raw (the bytes to send on)

A packet that breaks the specification (its framing, its fixed header's flags, a string that is
not UTF-8, a PUBLISH topic with a wildcard, a second CONNECT, a server's packet from the client,
...) is Malformed: the specification has the receiver close the connection, and the virtual does
(resets both sides), never sending it on. The connection's protocol level comes from its CONNECT
and applies to both sides' packets (version 5's properties).
"""
from __future__ import annotations

from dataclasses import dataclass, field

TYPES = {1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC", 6: "PUBREL", 7: "PUBCOMP",
         8: "SUBSCRIBE", 9: "SUBACK", 10: "UNSUBSCRIBE", 11: "UNSUBACK", 12: "PINGREQ", 13: "PINGRESP",
         14: "DISCONNECT", 15: "AUTH"}
FROM_CLIENT = {"CONNECT", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE", "UNSUBSCRIBE", "PINGREQ",
               "DISCONNECT", "AUTH"}
FROM_SERVER = {"CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBACK", "UNSUBACK", "PINGRESP",
               "DISCONNECT", "AUTH"}
FLAGS_TWO = {"PUBREL", "SUBSCRIBE", "UNSUBSCRIBE"}   # their fixed header's flags are 0010; others' 0000 (PUBLISH: its own)
PROTOCOLS = {("MQTT", 4): "3.1.1", ("MQTT", 5): "5.0", ("MQIsdp", 3): "3.1"}
MAX_PACKET = 16 * 1024 * 1024   # the lab holds a packet whole before it sends it on: this much at most
MAX_REMAINING = 268_435_455     # the specification's: four bytes of variable-length integer


class Malformed(Exception):
    """A packet (or a sequence of them) the specification has the receiver close the connection for."""


@dataclass
class Session:
    """One connection's MQTT state, both sides': set by the client's CONNECT."""
    level: int | None = None     # 3, 4 or 5
    client_id: str = ""
    username: str = ""
    protocol_name: str = ""


@dataclass
class Packet:
    type: str
    flags: int
    raw: bytes                   # the whole packet, as it goes on (unless dropped)
    packet_id: int | None = None
    topic: str = ""              # PUBLISH's
    topics: list[tuple[str, int]] = field(default_factory=list)   # SUBSCRIBE's (filter, options), UNSUBSCRIBE's (filter, 0)
    qos: int = 0
    dup: bool = False
    retain: bool = False
    payload: bytes = b""         # PUBLISH's application message
    client_id: str = ""          # CONNECT's
    username: str = ""
    keep_alive: int = 0
    clean_session: bool = False
    return_code: int | None = None   # CONNACK's (5.0: reason code)
    dropped: bool = False        # an iRule's MQTT::drop: not sent on
    collected: bool = False      # an iRule's MQTT::collect: the DATA event follows


class Reader:
    """One side's bytes into packets. `side`: "client" (what the client sends) or "server"."""

    def __init__(self, side: str, session: Session, max_packet: int = MAX_PACKET):
        self.side, self.session, self.max_packet = side, session, max_packet
        self.buffer = b""
        self.failed: Malformed | None = None   # met after good packets: raised by the next feed

    def feed(self, data: bytes) -> list[Packet]:
        """The whole packets read so far; Malformed at a bad one (the good ones before it are
        returned first, and the next feed raises)."""
        if self.failed is not None:
            raise self.failed
        self.buffer += data
        out = []
        while True:
            try:
                frame = self._frame()
                if frame is None:
                    return out
                out.append(self._packet(*frame))
            except Malformed as exc:
                if not out:
                    raise
                self.failed = exc
                return out

    def _frame(self) -> tuple[int, int, bytes, bytes] | None:
        """(type, flags, body, raw) of the whole packet at the buffer's head, taken off it; None until it is all here."""
        buf = self.buffer
        if len(buf) < 2:
            return None
        length, shift, i = 0, 0, 1
        while True:
            if i >= len(buf):
                return None
            byte = buf[i]
            length |= (byte & 0x7F) << shift
            i += 1
            if not byte & 0x80:
                break
            shift += 7
            if i > 4:
                raise Malformed("the remaining length is longer than four bytes")
        if i > 2 and buf[i - 1] == 0:
            raise Malformed("the remaining length is not in its shortest encoding")
        if length > min(self.max_packet, MAX_REMAINING):
            raise Malformed(f"a packet of {length} bytes is larger than the {self.max_packet} the virtual takes")
        if len(buf) < i + length:
            return None
        self.buffer = buf[i + length:]
        return buf[0] >> 4, buf[0] & 0x0F, buf[i:i + length], buf[:i + length]

    def _packet(self, kind: int, flags: int, body: bytes, raw: bytes) -> Packet:
        name = TYPES.get(kind)
        if name is None:
            raise Malformed(f"packet type {kind} is reserved")
        if name not in (FROM_CLIENT if self.side == "client" else FROM_SERVER):
            raise Malformed(f"a {name} packet from the {self.side}")
        s = self.session
        if self.side == "client" and (name == "CONNECT") == (s.level is not None):
            raise Malformed("a second CONNECT" if name == "CONNECT" else f"a {name} before CONNECT")
        if name != "CONNECT" and s.level is None:
            raise Malformed(f"a {name} before the client's CONNECT")
        if name == "AUTH" and s.level != 5:
            raise Malformed("AUTH before MQTT 5.0")
        want = 2 if name in FLAGS_TWO else None if name == "PUBLISH" else 0
        if want is not None and flags != want:
            raise Malformed(f"{name} with fixed header flags {flags:04b}")
        p = Packet(name, flags, raw)
        parse = getattr(self, f"_{name.lower()}", None)
        r = Bytes(body)
        try:
            if parse is not None:
                parse(p, r)
            elif name in ("PINGREQ", "PINGRESP") or (name == "DISCONNECT" and s.level != 5):
                r.end()
        except IndexError:
            raise Malformed(f"{name} is shorter than its contents say") from None
        return p

    # -- the packets ---------------------------------------------------------------------------
    def _connect(self, p: Packet, r: Bytes) -> None:
        name, level = r.string(), r.byte()
        if (name, level) not in PROTOCOLS:
            raise Malformed(f"unsupported protocol {name!r} level {level}")
        flags = r.byte()
        if flags & 1:
            raise Malformed("CONNECT's reserved flag is set")
        will, will_qos, user, password = flags & 4, (flags >> 3) & 3, flags & 0x80, flags & 0x40
        if will_qos == 3 or (not will and flags & 0x38):
            raise Malformed("CONNECT's will flags are inconsistent")
        if password and not user and level != 5:
            raise Malformed("a password without a user name")
        p.keep_alive, p.clean_session = r.u16(), bool(flags & 2)
        if level == 5:
            r.properties()
        p.client_id = r.string()
        if will:
            if level == 5:
                r.properties()
            r.string()      # will topic
            r.binary()      # will message
        p.username = r.string() if user else ""
        if password:
            r.binary()
        r.end()
        s = self.session
        s.level, s.client_id, s.username, s.protocol_name = level, p.client_id, p.username, name

    def _connack(self, p: Packet, r: Bytes) -> None:
        if r.byte() & 0xFE:
            raise Malformed("CONNACK's reserved flags are set")
        p.return_code = r.byte()
        if self.session.level == 5:
            r.properties()
        r.end()

    def _publish(self, p: Packet, r: Bytes) -> None:
        p.qos, p.dup, p.retain = (p.flags >> 1) & 3, bool(p.flags & 8), bool(p.flags & 1)
        if p.qos == 3:
            raise Malformed("PUBLISH with QoS 3")
        if p.qos == 0 and p.dup:
            raise Malformed("PUBLISH with QoS 0 and DUP set")
        p.topic = r.string()
        if "+" in p.topic or "#" in p.topic:
            raise Malformed(f"PUBLISH to the wildcard topic {p.topic!r}")
        if not p.topic and self.session.level != 5:   # 5.0's may be empty with a topic alias
            raise Malformed("PUBLISH with an empty topic")
        if p.qos:
            p.packet_id = r.packet_id()
        if self.session.level == 5:
            r.properties()
        p.payload = r.rest()

    def _acknowledgement(self, p: Packet, r: Bytes) -> None:
        p.packet_id = r.packet_id()
        if self.session.level == 5 and r.left():   # a reason code, then properties, each optional
            p.return_code = r.byte()
            if r.left():
                r.properties()
        r.end()

    _puback = _pubrec = _pubrel = _pubcomp = _acknowledgement

    def _subscribe(self, p: Packet, r: Bytes) -> None:
        p.packet_id = r.packet_id()
        if self.session.level == 5:
            r.properties()
        while r.left():
            topic, options = r.string(), r.byte()
            if options & 3 == 3 or options & (0xC0 if self.session.level == 5 else 0xFC):
                raise Malformed(f"SUBSCRIBE to {topic!r} with options {options:08b}")
            p.topics.append((topic, options))
        if not p.topics:
            raise Malformed("SUBSCRIBE without a topic filter")

    def _unsubscribe(self, p: Packet, r: Bytes) -> None:
        p.packet_id = r.packet_id()
        if self.session.level == 5:
            r.properties()
        while r.left():
            p.topics.append((r.string(), 0))
        if not p.topics:
            raise Malformed("UNSUBSCRIBE without a topic filter")

    def _suback(self, p: Packet, r: Bytes) -> None:
        p.packet_id = r.packet_id()
        if self.session.level == 5:
            r.properties()
        if not r.left():
            raise Malformed(f"{p.type} without a return code")
        r.rest()

    def _unsuback(self, p: Packet, r: Bytes) -> None:
        if self.session.level == 5:
            self._suback(p, r)
        else:
            p.packet_id = r.packet_id()
            r.end()

    def _disconnect(self, p: Packet, r: Bytes) -> None:
        if self.session.level == 5 and r.left():
            p.return_code = r.byte()
            if r.left():
                r.properties()
        r.end()

    def _auth(self, p: Packet, r: Bytes) -> None:
        if r.left():
            p.return_code = r.byte()
            if r.left():
                r.properties()
        r.end()


class Bytes:
    """A packet's body read front to back; IndexError past its end."""

    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def left(self) -> int:
        return len(self.data) - self.at

    def take(self, n: int) -> bytes:
        if n > self.left():
            raise IndexError
        out = self.data[self.at:self.at + n]
        self.at += n
        return out

    def byte(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def packet_id(self) -> int:
        n = self.u16()
        if n == 0:
            raise Malformed("packet identifier 0")
        return n

    def binary(self) -> bytes:
        return self.take(self.u16())

    def string(self) -> str:
        raw = self.binary()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("a string that is not UTF-8") from None
        if "\x00" in text:
            raise Malformed("a string with U+0000")
        return text

    def varint(self) -> int:
        n, shift = 0, 0
        for _ in range(4):
            b = self.byte()
            n |= (b & 0x7F) << shift
            if not b & 0x80:
                return n
            shift += 7
        raise Malformed("a variable byte integer longer than four bytes")

    def properties(self) -> bytes:
        """MQTT 5.0's properties: their length, then them (kept whole, not read one by one)."""
        return self.take(self.varint())

    def rest(self) -> bytes:
        return self.take(self.left())

    def end(self) -> None:
        if self.left():
            raise Malformed(f"{self.left()} bytes past the packet's contents")
