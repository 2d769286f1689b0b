"""A DNS listener: UDP and TCP 53 on one address, answered by the Answerer.

UDP runs in a worker thread with a blocking socket (recvfrom, answer, sendto: the GIL is released
in both calls, and a cached answer is one dict lookup), so the trio loop stays free. TCP queries
(RFC 1035 two-byte length prefix, several per connection) are served in trio. Nothing a client
sends stops the listener: an answerer failure is logged and the query gets FORMERR or nothing.
"""
from __future__ import annotations

import ipaddress
import socket
import struct

import trio
from ..netlink import IPRoute, NetlinkError

from .answer import Answerer, formerr

TCP_IDLE = 10.0
UDP_THREADS = 1      # a second thread only trades the GIL back and forth (measured: no gain)
MAX_UDP_QUERY = 4096
MAX_TCP_QUERY = 65535


def ensure_local(address: str) -> bool:
    """A listener address that is on no interface goes on `lo` (/32); True if it was added."""
    fam = socket.AF_INET6 if ":" in address else socket.AF_INET
    probe = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        probe.bind((address, 0))
        return False
    except OSError:
        pass
    finally:
        probe.close()
    with IPRoute() as ipr:
        idx = ipr.link_lookup(ifname="lo")[0]
        try:
            ipr.addr("add", index=idx, address=address,
                     prefixlen=128 if ipaddress.ip_address(address).version == 6 else 32)
        except NetlinkError as exc:
            if exc.code != 17:   # EEXIST
                raise
    return True


def remove_local(address: str) -> None:
    with IPRoute() as ipr:
        idx = ipr.link_lookup(ifname="lo")[0]
        try:
            ipr.addr("del", index=idx, address=address,
                     prefixlen=128 if ipaddress.ip_address(address).version == 6 else 32)
        except NetlinkError:
            pass


class Listener:
    def __init__(self, address: str, port: int, answerer: Answerer, log):
        self.address, self.port, self.answerer, self.log = address, port, answerer, log
        self.tcp_queries = 0
        self.errors = 0
        self.added = False

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        self.added = ensure_local(self.address)
        fam = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        udp = socket.socket(fam, socket.SOCK_DGRAM)
        udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        udp.bind((self.address, self.port))
        tcp = trio.socket.socket(fam, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        await tcp.bind((self.address, self.port))
        tcp.listen(64)
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(trio.serve_listeners, self._tcp, [trio.SocketListener(tcp)])
                for _ in range(UDP_THREADS):
                    nursery.start_soon(self._udp_thread, udp)
                self.log.log("notice", "gtm", f"DNS listener {self.address}:{self.port} (udp, tcp) started",
                             event="listener-up")
                task_status.started()
        finally:
            udp.close()
            if self.added:
                remove_local(self.address)

    async def _udp_thread(self, sock: socket.socket) -> None:
        try:
            await trio.to_thread.run_sync(self._serve_udp, sock, abandon_on_cancel=True)
        finally:
            sock.close()   # the abandoned thread's recvfrom fails and it returns

    def _serve_udp(self, sock: socket.socket) -> None:
        recv, send, answerer = sock.recvfrom, sock.sendto, self.answerer
        tally = answerer.tally
        while True:
            try:
                data, addr = recv(MAX_UDP_QUERY)
            except OSError:
                return
            # the hot path inlined: a cached single answer is a dict lookup and the id patched in
            entry = answerer.state[1].get((data[2:], addr[0]))
            if entry is not None and entry[2] is None and len(entry[1]) == 1 and entry[1][0] is not None:
                answerer.queries += 1
                if entry[3][0] is not None:
                    tally[entry[3][0]] += 1
                try:
                    send(data[:2] + entry[1][0][2:], addr)
                except OSError:
                    pass
                continue
            try:
                out = self.answerer.handle(data, addr[0])
            except Exception as exc:   # never let one query take the listener down
                self.errors += 1
                self.log.log("err", "gtm", f"query from {addr[0]} failed: {type(exc).__name__}: {exc}")
                out = formerr(data)
            if out is not None:
                try:
                    send(out, addr)
                except OSError:
                    pass

    async def _tcp(self, stream: trio.SocketStream) -> None:
        peer = stream.socket.getpeername()[0]
        buf = b""
        async with stream:
            try:
                while True:
                    with trio.move_on_after(TCP_IDLE) as idle:
                        chunk = await stream.receive_some(65536)
                    if idle.cancelled_caught or not chunk:
                        return
                    buf += chunk
                    while len(buf) >= 2:
                        (n,) = struct.unpack("!H", buf[:2])
                        if len(buf) < 2 + n:
                            break
                        data, buf = buf[2:2 + n], buf[2 + n:]
                        self.tcp_queries += 1
                        try:
                            out = self.answerer.handle(data, peer)
                        except Exception as exc:
                            self.errors += 1
                            self.log.log("err", "gtm", f"query from {peer} failed: {type(exc).__name__}: {exc}")
                            out = formerr(data)
                        if out is None:
                            return
                        await stream.send_all(struct.pack("!H", len(out)) + out)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return

    def stats(self) -> dict:
        return {"address": self.address, "port": self.port, "udp_queries": self.answerer.queries,
                "tcp_queries": self.tcp_queries, "errors": self.errors}
