"""The IO shell of a SIP virtual (node/ltm/sip.py decides): over UDP, the virtual's socket takes
datagrams, each client's messages go to the member their Call-ID is kept on (the pool's choice
for a new one), from a server-side socket per client and member whose datagrams go back to the
client from the virtual's address; over TCP, one connection's messages go to one member. A
message that is not SIP is dropped (UDP) or resets the connection (TCP), and counted.
"""
from __future__ import annotations

import itertools
import socket
from dataclasses import dataclass, field

import trio

from ..config.schema import plain
from . import proxy, sip
from .hooks import Flow, Outcome
from .proxy import Refused, fire

UDP_IDLE = 60.0   # a client's UDP flow ends this long after its last datagram (F5's udp idle-timeout)


@dataclass
class Counts:
    """A SIP virtual's messages (show ltm virtual NAME: the proxy's counters)."""
    requests: int = 0
    responses: int = 0
    malformed: int = 0
    via_inserted: int = 0


@dataclass
class UdpFlow:
    """One client of a UDP SIP virtual: its Flow (iRule variables live a flow long) and, per member,
    the server-side socket and the scope that ends it when idle."""
    flow: Flow
    servers: dict[str, tuple[trio.socket.SocketType, trio.CancelScope]] = field(default_factory=dict)
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)


class SipGate:
    def __init__(self, ltm):
        self.ltm = ltm
        self.calls = sip.Calls()
        self.counts: dict[str, Counts] = {}
        self._branches = itertools.count(1)

    # -- what the virtual's profile says -------------------------------------------------------------
    def profile(self, vs: dict) -> dict | None:
        path = self.ltm.profile_path(vs, "sip")
        return None if path is None else (self.ltm.store.get("ltm profile sip", path) or {})

    def count(self, virtual: str) -> Counts:
        return self.counts.setdefault(virtual, Counts())

    def _message(self, data: bytes, profile: dict, virtual: str, who: tuple) -> sip.Message | None:
        try:
            return sip.parse(data, int(profile.get("max-size", 65535)))
        except sip.Bad as why:
            self.count(virtual).malformed += 1
            self.ltm.stat("virtual", virtual).refused += 1
            self.ltm.log.log("warning", "tmm", f"SIP virtual {virtual}: message from {who[0]}:{who[1]} dropped: {why}")
            return None

    def _route(self, flow: Flow, profile: dict, msg: sip.Message, hook) -> proxy.Picked:
        """The member a client's message goes to: its Call-ID's, else the pool's (LB), remembered."""
        scope, now = sip.scope_of(flow.virtual, profile), trio.current_time()
        self.calls.timeout = float(profile.get("sip-session-timeout", 300))
        name = self.calls.member(scope, msg.call_id, now)
        pool = flow.pool
        if name is not None and pool:
            m = next((m for m in self.ltm.members(pool) if m.name == name and m.available), None)
            if m is not None:
                self.calls.remember(scope, msg.call_id, name, now)
                return proxy.Picked(pool, m.name, m.address, m.port,
                                    [self.ltm.stat("pool", pool), self.ltm.stat("member", pool, m.name)])
        picked = self.ltm._pick(flow, hook)   # noqa: SLF001 - the proxy's own selection (rules, LB)
        if picked.member:
            self.calls.remember(scope, msg.call_id, picked.member, now)
        return picked

    def _event(self, hook, event: str, flow: Flow, msg: sip.Message) -> sip.Message | Outcome:
        """SIP_REQUEST or SIP_RESPONSE: the message as the rules left it, or what they did instead."""
        flow.data["sip"] = msg
        flow.outcome = None
        fire(hook, event, flow)
        if flow.outcome is not None:
            return flow.outcome
        return flow.data.pop("sip", msg)

    def _outgoing(self, msg: sip.Message, profile: dict, transport: str, local: tuple, virtual: str) -> bytes:
        out = sip.forwarded(msg, profile, transport, local, next(self._branches))
        if out is not msg:
            self.count(virtual).via_inserted += 1
        return out.to_bytes()

    # -- UDP -------------------------------------------------------------------------------------------
    async def listen_udp(self, path: str, spec: tuple, scope: trio.CancelScope) -> None:
        addr, port, _ = spec
        ltm = self.ltm
        with scope:
            sock = trio.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_IP, proxy.IP_FREEBIND, 1)
            try:
                await sock.bind((proxy.in_route_domain(sock, addr), port))
            except OSError as exc:
                ltm.log.log("err", "tmm", f"Virtual server {path} cannot listen on {addr}:{port} (udp): {exc}")
                ltm.listeners.pop(path, None)
                sock.close()
                return
            ltm._listening[path] = scope   # noqa: SLF001
            ltm.log.log("info", "tmm", f"Virtual server {path} serving {addr}:{port} (udp, sip)", event="virtual-up")
            clients: dict[tuple, UdpFlow] = {}
            try:
                with sock:
                    async with trio.open_nursery() as nursery:
                        while True:
                            data, client = await sock.recvfrom(65536)
                            try:
                                await self._from_client(path, sock, (addr, port), data, client[:2], clients, nursery)
                            except Exception as exc:   # noqa: BLE001 - one datagram never takes the virtual down
                                ltm.log.log("err", "tmm", f"SIP virtual {path}: datagram from {client[0]} dropped: {exc!r}")
            finally:
                if ltm._listening.get(path) is scope:   # noqa: SLF001
                    del ltm._listening[path]   # noqa: SLF001

    async def _from_client(self, path: str, sock, local: tuple, data: bytes, client: tuple, clients: dict,
                           nursery) -> None:
        ltm = self.ltm
        vs = ltm.store.get("ltm virtual", path) or {}
        profile = self.profile(vs) or {}
        msg = self._message(data, profile, path, client)
        if msg is None:
            return
        hook = ltm.hook_for(path)
        uf = clients.get(client)
        if uf is None:
            pool = vs.get("pool") if vs.get("pool") not in (None, "none") else None
            uf = clients[client] = UdpFlow(Flow(path, client, local, pool,
                                                snat=(vs.get("source-address-translation") or {}).get("type", "none")))
            vstats = ltm.stat("virtual", path)
            vstats.current += 1
            vstats.total += 1
            fire(hook, "CLIENT_ACCEPTED", uf.flow)
            nursery.start_soon(self._client_idle, path, client, clients)
        uf.scope.deadline = trio.current_time() + UDP_IDLE
        flow = uf.flow
        ltm.stat("virtual", path).bytes_in += len(data)
        counts = self.count(path)
        if msg.is_request:
            counts.requests += 1
            got = self._event(hook, "SIP_REQUEST", flow, msg)
        else:
            counts.responses += 1
            got = self._event(hook, "SIP_RESPONSE", flow, msg)
        if isinstance(got, Outcome):
            if got.kind == "respond" and msg.is_request:
                await self._send(sock, respond(msg, got), client, path)
            return
        try:
            picked = self._route(flow, profile, got, hook)
        except Refused:
            return   # no member: the datagram is dropped
        server = await self._server(path, uf, picked, sock, client, nursery)
        if server is None:
            return
        out = self._outgoing(got, profile, "udp", server.getsockname()[:2], path)
        for s in picked.counters:
            s.bytes_in += len(out)
        try:
            await server.send(out)
        except OSError as exc:
            ltm.log.log("warning", "tmm", f"SIP virtual {path}: to {picked.address}:{picked.port}: {exc}")

    async def _client_idle(self, path: str, client: tuple, clients: dict) -> None:
        uf = clients[client]
        with uf.scope:
            await trio.sleep_forever()
        clients.pop(client, None)
        for sock, scope in uf.servers.values():
            scope.cancel()
        stats = self.ltm.stat("virtual", path)
        stats.current -= 1
        fire(self.ltm.hook_for(path), "CLIENT_CLOSED", uf.flow)

    async def _server(self, path: str, uf: UdpFlow, picked: proxy.Picked, listener, client: tuple, nursery):
        """The server-side socket of this client toward the member (made on first use, from the SNAT address)."""
        have = uf.servers.get(picked.member or f"{picked.address}:{picked.port}")
        if have is not None:
            return have[0]
        source, transparent = self.ltm.source_of(uf.flow, picked)
        sock = trio.socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            proxy.in_route_domain(sock, picked.address)
            if source is not None:
                sock.setsockopt(socket.SOL_IP, proxy.IP_TRANSPARENT if transparent else proxy.IP_FREEBIND, 1)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            await sock.bind((plain(source) if source else "0.0.0.0", 0))
            await sock.connect((plain(picked.address), picked.port))   # its source address is known (the Via's)
        except OSError as exc:
            sock.close()
            self.ltm.log.log("warning", "tmm", f"SIP virtual {path}: no server-side socket toward {picked.address}: {exc}")
            return None
        scope = trio.CancelScope()
        uf.servers[picked.member or f"{picked.address}:{picked.port}"] = (sock, scope)
        for s in picked.counters:
            s.current += 1
            s.total += 1
        nursery.start_soon(self._from_server, path, uf, picked, sock, scope, listener, client)
        fire(self.ltm.hook_for(path), "SERVER_CONNECTED", uf.flow)
        return sock

    async def _from_server(self, path: str, uf: UdpFlow, picked: proxy.Picked, sock, scope, listener,
                           client: tuple) -> None:
        """The member's datagrams to this client: responses without the Via this proxy put in."""
        try:
            with scope, sock:
                while True:
                    try:
                        data, _ = await sock.recvfrom(65536)
                    except OSError:   # the member's port unreachable (ICMP, on this connected socket): go on
                        continue
                    vs = self.ltm.store.get("ltm virtual", path) or {}
                    profile = self.profile(vs) or {}
                    msg = self._message(data, profile, path, (picked.address, picked.port))
                    if msg is None:
                        continue
                    for s in picked.counters:
                        s.bytes_out += len(data)
                    got = await self._server_message(path, uf.flow, profile, msg)
                    if got is not None:
                        await self._send(listener, got, client, path)
        finally:
            for s in picked.counters:
                s.current -= 1

    async def _server_message(self, path: str, flow: Flow, profile: dict, msg: sip.Message) -> bytes | None:
        counts = self.count(path)
        hook = self.ltm.hook_for(path)
        if msg.is_request:
            counts.requests += 1
            got = self._event(hook, "SIP_REQUEST", flow, msg)
        else:
            counts.responses += 1
            got = self._event(hook, "SIP_RESPONSE", flow, msg.without_own_via())
        if isinstance(got, Outcome):
            return None
        if sip.ends_dialog(got, profile):
            self.calls.forget(sip.scope_of(path, profile), got.call_id)
        return got.to_bytes()

    async def _send(self, sock, data: bytes, client: tuple, path: str) -> None:
        self.ltm.stat("virtual", path).bytes_out += len(data)
        try:
            await sock.sendto(data, client)
        except OSError as exc:
            self.ltm.log.log("warning", "tmm", f"SIP virtual {path}: to {client[0]}:{client[1]}: {exc}")

    # -- TCP ---------------------------------------------------------------------------------------------
    async def tcp(self, vs: dict, client, flow: Flow, hook, scope: trio.CancelScope) -> None:
        """One client connection of a TCP SIP virtual: its first message picks the member (its
        Call-ID's); every message is framed and parsed both ways; one that is not SIP resets it."""
        profile = self.profile(vs) or {}
        path = flow.virtual
        framer = sip.Framer(int(profile.get("max-size", 65535)))
        first: list[sip.Message] = []
        while not first:
            data = await client.receive_some(65536)
            if not data:
                return
            first = self._framed(framer, data, path, flow.client)
        picked = self._route(flow, profile, first[0], hook)
        try:
            server = await self.ltm._connect(vs, flow, picked)   # noqa: SLF001
        except (OSError, trio.TooSlowError, trio.BrokenResourceError):
            fire(hook, "LB_FAILED", flow)
            raise Refused("reset") from None
        fire(hook, "SERVER_CONNECTED", flow)
        entry = self.ltm._opened(picked, scope)   # noqa: SLF001
        try:
            local = server.socket.getsockname()[:2]
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._tcp_back, server, client, flow, profile, nursery.cancel_scope)
                await self._tcp_requests(client, server, flow, profile, hook, local, framer, first)
                nursery.cancel_scope.cancel()
        finally:
            self.ltm._closed(picked, entry)   # noqa: SLF001
            with trio.CancelScope(shield=True):
                await trio.aclose_forcefully(server)

    def _framed(self, framer: sip.Framer, data: bytes, path: str, who: tuple) -> list[sip.Message]:
        try:
            return framer.feed(data)
        except sip.Bad as why:
            self.count(path).malformed += 1
            self.ltm.log.log("warning", "tmm", f"SIP virtual {path}: connection from {who[0]}:{who[1]} reset: {why}")
            raise Refused("reset") from None

    async def _tcp_requests(self, client, server, flow: Flow, profile: dict, hook, local: tuple,
                            framer: sip.Framer, pending: list[sip.Message]) -> None:
        path = flow.virtual
        while True:
            for msg in pending:
                counts = self.count(path)
                if msg.is_request:
                    counts.requests += 1
                got = self._event(hook, "SIP_REQUEST" if msg.is_request else "SIP_RESPONSE", flow, msg)
                if isinstance(got, Outcome):
                    if got.kind == "respond" and msg.is_request:
                        await client.send_all(respond(msg, got))
                        continue
                    if got.kind in ("reset", "drop"):
                        raise Refused(got.kind)
                    continue
                out = self._outgoing(got, profile, "tcp", local, path)
                self.ltm.stat("virtual", path).bytes_in += len(out)
                await server.send_all(out)
            data = await client.receive_some(65536)
            if not data:
                return
            pending = self._framed(framer, data, path, flow.client)

    async def _tcp_back(self, server, client, flow: Flow, profile: dict, cancel: trio.CancelScope) -> None:
        framer = sip.Framer(int(profile.get("max-size", 65535)))
        path = flow.virtual
        try:
            while True:
                data = await server.receive_some(65536)
                if not data:
                    break
                try:
                    msgs = framer.feed(data)
                except sip.Bad:
                    self.count(path).malformed += 1
                    break
                for msg in msgs:
                    got = await self._server_message(path, flow, profile, msg)
                    if got is not None:
                        self.ltm.stat("virtual", path).bytes_out += len(got)
                        await client.send_all(got)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
        cancel.cancel()


def respond(request: sip.Message, outcome: Outcome) -> bytes:
    """SIP::respond's answer to a request: its Via, From, To, Call-ID and CSeq (RFC 3261 8.2.6.2)."""
    keep = {"via", "from", "to", "call-id", "cseq"}
    heads = tuple((n, v) for n, v in request.headers if sip.canonical(n) in keep) + outcome.headers
    reason = outcome.body.decode(errors="replace") or REASONS.get(outcome.status, "Unknown")
    return sip.Message(None, "", outcome.status, reason, heads).to_bytes()


REASONS = {100: "Trying", 180: "Ringing", 200: "OK", 403: "Forbidden", 404: "Not Found", 486: "Busy Here",
           500: "Server Internal Error", 503: "Service Unavailable"}


def is_sip_udp(ltm, vs: dict) -> bool:
    """A UDP virtual with a SIP profile: the proxy serves it datagram by datagram (sip_driver)."""
    return vs.get("ip-protocol") == "udp" and ltm.profile_path(vs, "sip") is not None

