"""The IO shell of connection mirroring (mirror.py decides): conntrack netlink in the node's own
namespace through pyroute2's ctnetlink messages on a trio socket, and a TLS channel a traffic group (the trust
domain's certificates) to the peer's mirroring address.

- The active device subscribes to conntrack's new, update and destroy events while it serves a
  mirrored fastL4 virtual, keeps the latest state of each mirrored connection, and sends it to
  the next-active device; on (re)connecting it sends a dump of the whole table first.
- Every device with a mirroring address listens on it (TCP 1029) and creates, updates or deletes
  the entries it receives in its own kernel, so when it takes the traffic group over, the kernel
  already holds each flow with its NAT binding and forwards the next packet.
- Persistence records of mirrored virtuals travel on the same channel.
- One channel a traffic group (its port by the group's unit-id), to that group's next-active
  device: in active-active or a cluster, two groups active here may mirror to two peers.
"""
from __future__ import annotations

import errno
import math
import socket
import struct
from functools import partial
from typing import Callable

import trio

from .. import netlink  # noqa: F401  (first: pyroute2 without its package's __init__)
from pyroute2.netlink import NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST
from pyroute2.netlink.nfnetlink import NFNL_SUBSYS_CTNETLINK
from pyroute2.netlink.nfnetlink.nfctsocket import (IPCTNL_MSG_CT_DELETE, IPCTNL_MSG_CT_GET, IPCTNL_MSG_CT_NEW,
                                                    nfct_msg)

from ..iquery.framing import FrameDecoder, FrameError, encode
from . import mirror
from .kernel import NftError, forwarding, nft

NETLINK_NETFILTER = 12
GROUPS = 0b111                 # NFNLGRP_CONNTRACK_NEW, _UPDATE, _DESTROY
NLMSG_ERROR, NLMSG_DONE = 2, 3
HEADER = struct.Struct("=IHHII")
# The standby's kernel must track and NAT a mirrored flow's next packet before LTM has loaded its own
# table: a namespace has NAT hooks only while some nat chain exists, and conntrack hooks only while
# some rule uses conntrack (hence the counter of established packets).
HOOKS = {"nftables": [{"add": {"table": {"family": "ip", "name": "biglab_mirror"}}}] + [
    {"add": {"chain": {"family": "ip", "table": "biglab_mirror", "name": hook, "type": "nat", "hook": hook,
                       "prio": prio, "policy": "accept"}}} for hook, prio in (("prerouting", -100), ("postrouting", 100))] + [
    {"add": {"chain": {"family": "ip", "table": "biglab_mirror", "name": "tracked", "type": "filter",
                       "hook": "prerouting", "prio": 0, "policy": "accept"}}},
    {"add": {"rule": {"family": "ip", "table": "biglab_mirror", "chain": "tracked", "expr": [
        {"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": "established"}}, {"counter": None}]}}}]}


def _get(msg, *path):
    for name in path:
        msg = msg.get_attr(name) if msg is not None else None
    return msg


def _tuple(t) -> dict:
    return {"src": _get(t, "CTA_TUPLE_IP", "CTA_IP_V4_SRC"), "dst": _get(t, "CTA_TUPLE_IP", "CTA_IP_V4_DST"),
            "sport": _get(t, "CTA_TUPLE_PROTO", "CTA_PROTO_SRC_PORT"),
            "dport": _get(t, "CTA_TUPLE_PROTO", "CTA_PROTO_DST_PORT")}


def entries(data: bytes):
    """(message type, Entry) for each conntrack message in a netlink read; NLMSG_DONE ends a dump."""
    off = 0
    while off + HEADER.size <= len(data):
        length, kind = HEADER.unpack_from(data, off)[:2]
        if length < HEADER.size:
            return
        if kind == NLMSG_DONE:
            yield "done", None
        elif kind >> 8 == NFNL_SUBSYS_CTNETLINK:
            msg = nfct_msg(data[off:off + length])
            msg.decode()
            orig, reply = msg.get_attr("CTA_TUPLE_ORIG"), msg.get_attr("CTA_TUPLE_REPLY")
            proto = _get(orig, "CTA_TUPLE_PROTO", "CTA_PROTO_NUM")
            if proto in mirror.PROTOCOLS and _get(orig, "CTA_TUPLE_IP", "CTA_IP_V4_SRC"):
                e = mirror.from_conntrack(_tuple(orig), _tuple(reply), proto,
                                          state=_get(msg, "CTA_PROTOINFO", "CTA_PROTOINFO_TCP", "CTA_PROTOINFO_TCP_STATE") or 0,
                                          status=msg.get_attr("CTA_STATUS") or 0, timeout=msg.get_attr("CTA_TIMEOUT") or 0,
                                          mark=msg.get_attr("CTA_MARK") or 0)
                yield ("destroy" if kind & 0xFF == IPCTNL_MSG_CT_DELETE else "update"), e
        off += (length + 3) & ~3


def _socket(groups: int = 0):
    sock = trio.socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    return sock


class Netlink:
    """Requests to this namespace's conntrack (create, update, delete, dump)."""

    def __init__(self):
        self.sock = _socket()
        self.seq = 0
        self.lock = trio.Lock()

    async def open(self) -> None:
        await self.sock.bind((0, 0))

    def close(self) -> None:
        self.sock.close()

    async def _send(self, kind: int, flags: int, attrs: list) -> int:
        self.seq += 1
        msg = nfct_msg()
        msg["attrs"] = attrs
        msg["nfgen_family"] = socket.AF_INET
        msg["header"]["type"] = (NFNL_SUBSYS_CTNETLINK << 8) | kind
        msg["header"]["flags"] = NLM_F_REQUEST | flags
        msg["header"]["sequence_number"] = self.seq
        msg.encode()
        await self.sock.send(msg.data)
        return self.seq

    async def call(self, kind: int, flags: int, attrs: list) -> int:
        """The request's errno (0: done)."""
        async with self.lock:
            seq = await self._send(kind, flags | NLM_F_ACK, attrs)
            while True:
                data = await self.sock.recv(65536)
                length, typ, _, got = HEADER.unpack_from(data)[:4]
                if typ == NLMSG_ERROR and got == seq:
                    return -struct.unpack_from("=i", data, HEADER.size)[0]

    async def apply(self, op: str, entry: mirror.Entry) -> int:
        if op == "destroy":
            err = await self.call(IPCTNL_MSG_CT_DELETE, 0, mirror.orig_attrs(entry))
            return 0 if err == errno.ENOENT else err
        err = await self.call(IPCTNL_MSG_CT_NEW, NLM_F_CREATE | NLM_F_EXCL, mirror.create_attrs(entry))
        if err == errno.EEXIST:
            err = await self.call(IPCTNL_MSG_CT_NEW, 0, mirror.orig_attrs(entry) + mirror.update_attrs(entry))
        return err

    async def dump(self) -> list[mirror.Entry]:
        async with self.lock:
            await self._send(IPCTNL_MSG_CT_GET, NLM_F_DUMP, [])
            out = []
            while True:
                for kind, e in entries(await self.sock.recv(1 << 20)):
                    if kind == "done":
                        return out
                    out.append(e)


class Mirror:
    def __init__(self, log, server_context: Callable | None = None, client_context: Callable | None = None,
                 on_persist: Callable[[dict], None] = lambda record: None):
        self.log, self.on_persist = log, on_persist
        self.server_context, self.client_context = server_context, client_context
        self.channels: dict[str, mirror.Channel] = {}       # traffic group active here -> what it mirrors, to whom
        self.ports: dict[str, int] = {}                      # every traffic group's channel port: we receive on each
        self.address: str | None = None                     # our mirroring address
        self.outboxes: dict[str, mirror.Outbox] = {}
        self.kept = mirror.Kept()                  # persistence records given, until they expire
        self._kept_changed = trio.Event()
        self.live: dict[tuple, mirror.Entry] = {}           # mirrored connections sent, by key
        self.received: dict[int, dict[tuple, mirror.Entry]] = {}   # by channel port: connections the peer mirrored
        self.connected: set[str] = set()                     # traffic groups whose channel is up
        self.sent = self.applied = self.failed = 0
        self._changed = trio.Event()
        self._queued: dict[str, trio.Event] = {}
        self._hooked = False

    def configure(self, channels: dict[str, mirror.Channel], ports: dict[str, int], address: str | None) -> None:
        if (channels, ports, address) != (self.channels, self.ports, self.address):
            self.channels, self.ports, self.address = dict(channels), dict(ports), address
            self._changed.set()

    def _group_of(self, e: mirror.Entry) -> str | None:
        return next((tg for tg, ch in self.channels.items() if mirror.mirrored(e, ch.virtuals)), None)

    def _put(self, tg: str, put: Callable[[mirror.Outbox], None]) -> None:
        put(self.outboxes.setdefault(tg, mirror.Outbox()))
        self._queued.setdefault(tg, trio.Event()).set()

    def persist(self, record: dict, traffic_group: str) -> None:
        self.kept.put(traffic_group, record, trio.current_time())   # sent again when a channel (re)connects
        self._kept_changed.set()
        if (self.channels.get(traffic_group) or mirror.Channel(None, 0)).peer is not None:
            self._put(traffic_group, lambda box: box.put_persist(record))

    async def _expire(self) -> None:
        """Each kept persistence record goes as it expires (not only when a channel connects)."""
        while True:
            self._kept_changed = trio.Event()
            self.kept.expire(trio.current_time())
            at = self.kept.next_expiry()
            with trio.move_on_at(math.inf if at is None else at):
                await self._kept_changed.wait()

    def status(self, traffic_group: str | None = None) -> dict:
        """The device's mirroring, or one traffic group's channel (its peer, port, connections)."""
        ch = self.channels.get(traffic_group) if traffic_group else None
        port = self.ports.get(traffic_group)
        live = [e for e in self.live.values() if ch is None or mirror.mirrored(e, ch.virtuals)]
        received = self.received.get(port, {}) if traffic_group else {k: e for r in self.received.values() for k, e in r.items()}
        return {"address": self.address, "peer": ch.peer if ch else None, "port": port,
                "connected": traffic_group in self.connected, "mirrored": len(live), "received": len(received),
                "sent": self.sent, "applied": self.applied, "failed": self.failed}

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._expire)
            task_status.started()
            await self._serve()

    async def _serve(self) -> None:
        while True:
            changed = self._changed = trio.Event()
            async with trio.open_nursery() as tasks:
                if self.address:
                    for port in sorted(set(self.ports.values())):
                        tasks.start_soon(self._listen, self.address, port)
                if any(ch.virtuals for ch in self.channels.values()):
                    tasks.start_soon(self._watch)
                for tg, ch in sorted(self.channels.items()):
                    if ch.peer:
                        tasks.start_soon(self._send_to, tg, ch.peer, ch.port)
                await changed.wait()
                tasks.cancel_scope.cancel()

    # -- the active side --------------------------------------------------------------------------
    def note(self, op: str, e: mirror.Entry) -> None:
        tg = self._group_of(e)
        if tg is None:
            return
        if op == "destroy":
            if self.live.pop(e.key, None) is None:
                return
        else:
            self.live[e.key] = e
        self._put(tg, lambda box: box.put(op, e))

    async def _watch(self) -> None:
        """Conntrack events of this namespace; an overflow is made good by a dump."""
        sock = _socket()
        try:
            await sock.bind((0, GROUPS))
            await self._resync()
            while True:
                try:
                    data = await sock.recv(1 << 20)
                except OSError as exc:
                    if exc.errno != errno.ENOBUFS:
                        raise
                    self.log.log("warning", "tmm", "Connection mirroring: conntrack events lost; resending the table")
                    await self._resync()
                    continue
                for op, e in entries(data):
                    if e is not None:
                        self.note(op, e)
        finally:
            sock.close()

    async def _resync(self) -> None:
        nl = Netlink()
        try:
            await nl.open()
            now = await nl.dump()
        finally:
            nl.close()
        keys = set()
        for e in now:
            if self._group_of(e) is not None:
                keys.add(e.key)
                self.note("update", e)
        for key in [k for k in self.live if k not in keys]:
            self.note("destroy", self.live[key])

    async def _send_to(self, tg: str, peer: str, port: int) -> None:
        """The traffic group's channel: its mirrored connections and persistence records, to its peer."""
        box = self.outboxes.setdefault(tg, mirror.Outbox())
        while True:
            try:
                with trio.fail_after(3):
                    tcp = await trio.open_tcp_stream(peer, port)
                stream = trio.SSLStream(tcp, self.client_context(), server_hostname=None) \
                    if self.client_context else tcp
                try:
                    self.connected.add(tg)
                    self.log.log("info", "tmm", f"Connection mirroring of {tg} to {peer}:{port} established",
                                 event="mirror", peer=peer, traffic_group=tg)
                    ch = self.channels.get(tg)
                    if ch is None:   # the group left this device while we connected: this task is being cancelled
                        return
                    for e in self.live.values():         # the peer may have restarted: everything again
                        if mirror.mirrored(e, ch.virtuals):
                            box.put("update", e)
                    for record in self.kept.live(tg, trio.current_time()):
                        box.put_persist(record)
                    while True:
                        queued = self._queued[tg] = trio.Event()
                        frames = box.take()
                        if frames:
                            await stream.send_all(b"".join(encode(f) for f in frames))
                            self.sent += len(frames)
                        else:
                            with trio.move_on_after(5):
                                await queued.wait()
                            if not queued.is_set():
                                await stream.send_all(encode({"t": "ping"}))
                finally:
                    self.connected.discard(tg)
                    with trio.CancelScope(shield=True):
                        await trio.aclose_forcefully(stream)
            except (OSError, trio.TooSlowError, trio.BrokenResourceError) as exc:
                self.log.log("warning", "tmm", f"Connection mirroring of {tg} to {peer}:{port}: {exc or type(exc).__name__}")
            await trio.sleep(1)

    # -- the standby side --------------------------------------------------------------------------
    async def _hooks(self) -> None:
        """Before the first mirrored entry: NAT hooks and forwarding, so the entry forwards at once."""
        if self._hooked:
            return
        try:
            await nft(HOOKS)
            forwarding(True)
            self._hooked = True
        except NftError as exc:
            self.log.log("err", "tmm", f"Connection mirroring: NAT hooks could not be loaded: {exc}")

    async def _listen(self, address: str, port: int) -> None:
        while True:
            try:
                listeners = await trio.open_tcp_listeners(port, host=address)
                break
            except OSError as exc:   # the address is not ours yet
                self.log.log("warning", "tmm", f"Connection mirroring cannot listen on {address}:{port}: {exc}")
                await trio.sleep(2)
        await trio.serve_listeners(partial(self._receive, self.received.setdefault(port, {})), listeners)

    async def _receive(self, received: dict, stream) -> None:
        nl = Netlink()
        decoder = FrameDecoder()
        if self.server_context:   # made now: the trust domain (its CA) may have changed since we listened
            stream = trio.SSLStream(stream, self.server_context(), server_side=True)
        try:
            await nl.open()
            async for data in stream:
                decoder.receive_data(data)
                while (msg := decoder.next_message()) is not None:
                    await self._apply(nl, msg, received)
        except (trio.BrokenResourceError, FrameError, OSError) as exc:
            self.log.log("warning", "tmm", f"Connection mirroring channel closed: {exc.__cause__ or exc or type(exc).__name__}")
        finally:
            nl.close()
            await trio.aclose_forcefully(stream)

    async def _apply(self, nl: Netlink, msg: dict, received: dict) -> None:
        if msg["t"] == "persist":
            self.on_persist(msg.get("r") or {})
        elif msg["t"] == "ct":
            try:
                e = mirror.Entry.from_wire(msg.get("e"))
            except (KeyError, TypeError, ValueError):
                self.failed += 1
                return
            await self._hooks()
            err = await nl.apply(msg.get("op", "update"), e)
            if err:
                self.failed += 1
                self.log.log("warning", "tmm", f"Connection mirroring: entry {e.src}:{e.sport} -> {e.dst}:{e.dport} "
                             f"not applied: {errno.errorcode.get(err, err)}")
                return
            self.applied += 1
            if msg.get("op") == "destroy":
                received.pop(e.key, None)
            else:
                received[e.key] = e
