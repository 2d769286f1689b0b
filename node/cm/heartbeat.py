"""Network failover heartbeats on UDP 1026 (F5's `sod` service `cap`): the IO around the
sans-IO Failover machine. Each heartbeat goes to every failover (unicast) address of every peer,
so each VLAN carries its own path; the source address tells which path a heartbeat came on. The
optional multicast path (cm device multicast-interface/-ip/-port) sends the same heartbeat to a
group on one interface, the management one on a BIG-IP, and hears the peers' there.
With `auth` (hbauth.py) each is signed with the device's trust key and numbered, and only signed,
fresh heartbeats from devices of the trust domain are taken.
"""
from __future__ import annotations

import secrets
import socket
import struct

import msgpack
import trio

from .hbauth import HeartbeatAuth, ReplayGuard

PORT = 1026
MAX = 4096
IP_MULTICAST_ALL = getattr(socket, "IP_MULTICAST_ALL", 49)   # Linux: not every group joined on any socket


def encode(payload: dict) -> bytes:
    return msgpack.packb({"t": "hb", "v": 1, **payload}, use_bin_type=True)


def decode(data: bytes) -> dict | None:
    """A heartbeat, or None for anything else (the sender is not told: it is UDP)."""
    if len(data) > MAX:
        return None
    try:
        msg = msgpack.unpackb(data, raw=False)
    except Exception:
        return None
    if not isinstance(msg, dict) or msg.get("t") != "hb" or not isinstance(msg.get("device"), str):
        return None
    # every field the failover machine reads, of the type it reads: a forged datagram is dropped
    # here, not met as a TypeError in the receive loop (which would stop the daemon)
    tgs, declined = msg.get("tgs", {}), msg.get("declined", [])
    if not isinstance(msg.get("state", ""), str) or not isinstance(tgs, dict) or not isinstance(declined, list):
        return None
    if not isinstance(msg.get("failsafe", []), list) or not all(isinstance(f, str) for f in msg.get("failsafe", [])):
        return None
    if not isinstance(msg.get("boot", ""), str) or not _count(msg.get("seq", 0)):
        return None
    capacity, scores = msg.get("capacity", 0), msg.get("scores", {})
    if not _count(capacity) or not isinstance(scores, dict) \
            or not all(isinstance(k, str) and _count(v) for k, v in scores.items()):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in tgs.items()) \
            or not all(isinstance(d, str) for d in declined):
        return None
    return msg


def _count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


class Heartbeats:
    def __init__(self, port: int = PORT, auth: HeartbeatAuth | None = None):
        self.port = port
        self.sock = None
        self.bad = 0           # every datagram dropped, of which:
        self.forged = 0        # not signed by a device of the trust domain (or signed by another)
        self.replayed = 0      # signed, but an old one again
        self.auth = auth
        self.boot, self.seq = secrets.token_hex(8), 0
        self.guard = ReplayGuard()
        self.msock = None      # the multicast path's socket, while it is open (join)
        self.mgroup: tuple[str, int] | None = None

    async def bind(self) -> None:
        self.sock = trio.socket.socket(trio.socket.AF_INET, trio.socket.SOCK_DGRAM)
        await self.sock.bind(("0.0.0.0", self.port))

    async def send(self, payload: dict, addresses: list[str], group: tuple[str, int] | None = None) -> None:
        """To each unicast address, and to the multicast `group` (GROUP, PORT) if one is joined."""
        self.seq += 1
        data = encode({**payload, "boot": self.boot, "seq": self.seq})
        if self.auth is not None:
            data = self.auth.seal(data)
        sends = [(self.sock, (addr, self.port)) for addr in addresses]
        if group is not None and self.msock is not None:
            sends.append((self.msock, group))
        for sock, to in sends:
            try:
                await sock.sendto(data, to)
            except OSError:
                pass  # a path that is down (no route, link down): the peer's timeout tells the story

    async def receive(self):
        """Yields (source address, heartbeat) forever; malformed datagrams are counted and dropped."""
        while True:
            data, (addr, _port) = await self.sock.recvfrom(MAX + 1)
            msg = self._accept(data, addr)
            if msg is not None:
                yield addr, msg

    async def join(self, ifname: str, group: str, port: int):
        """Open the multicast path: a socket on GROUP:PORT, a member of the group on `ifname`
        (and sending there, one hop), as sod's on the management interface."""
        sock = trio.socket.socket(trio.socket.AF_INET, trio.socket.SOCK_DGRAM)
        try:
            mreqn = socket.inet_aton(group) + socket.inet_aton("0.0.0.0") + struct.pack("@i", socket.if_nametoindex(ifname))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, mreqn)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
            sock.setsockopt(socket.IPPROTO_IP, IP_MULTICAST_ALL, 0)   # this group only
            await sock.bind((group, port))
        except OSError:
            sock.close()
            raise
        self.msock, self.mgroup = sock, (group, port)   # a previous one is closed by its own reader
        return sock

    def leave(self, sock) -> None:
        """Close a multicast socket join() returned (the path is closed if it is the current one)."""
        if sock is not None:
            sock.close()
        if sock is self.msock:
            self.msock = self.mgroup = None

    async def receive_multicast(self, sock, path: str):
        """Yields (path, heartbeat) from a multicast socket join() returned, as receive() does."""
        while True:
            data, _addr = await sock.recvfrom(MAX + 1)
            msg = self._accept(data, path)
            if msg is not None:
                yield path, msg

    def _accept(self, data: bytes, path: str) -> dict | None:
        """A heartbeat signed by a device of the trust domain (with auth), new on this path; else
        None (counted)."""
        signer = None
        if self.auth is not None:
            opened = self.auth.open(data) if len(data) <= MAX else None
            if opened is None:
                self.forged += 1
                self.bad += 1
                return None
            signer, data = opened
        msg = decode(data)
        if msg is None or (signer is not None and msg["device"] != signer):
            self.bad += 1
            return None
        if self.auth is not None and not self.guard.accept(signer, path, msg.get("boot", ""), msg.get("seq", 0)):
            self.replayed += 1
            self.bad += 1
            return None
        return msg
