"""Device trust on the 4353 channel: F5's add-device (join) protocol and the member list.

An authority reaches a device that is not yet in its domain without a client certificate (the
transport's `connect`), sends its admin credentials (`join-request`), gets its CSR (`csr`), and
sends the signed certificate, the CA (and the CA key for a peer authority) and the member list
(`join`); the device answers `joined` and starts over in the new domain. An authority also sends
`trust-members` on every outbound channel it opens, so every member learns the current list.
The transport (channel.py) carries the messages; this module decides what they mean.
"""
from __future__ import annotations

import trio
from cryptography import x509

from ..events import ChannelOpened, Hub
from . import messages as m
from .channel import Channel, ChannelFailure, IQuery
from .protocol import Closed, Hello
from .trust import Member, TrustError, TrustStore, fingerprint


class TrustJoin:
    def __init__(self, device: str, store: TrustStore, log, credentials: dict, transport: IQuery,
                 events: Hub):
        """`credentials`: this device's admin username and password, asked of an authority that
        adds it."""
        self.device, self.store, self.log, self.credentials = device, store, log, credentials
        self.transport = transport
        # one domain change at a time: each Join's member list then holds every device added before
        # it, so a higher generation never lacks a member (a member takes a newer list without it as
        # its removal, and resets: gtm-10dc's concurrent adds left one device out of trust)
        self._changing = trio.Lock()
        transport.handle(m.TrustMembers, self._on_members)
        transport.handle_unauthenticated(m.JoinRequest, self._on_join_request)
        transport.handle_unauthenticated(m.Join, self._on_join)
        events.subscribe(ChannelOpened, self._opened)

    def _opened(self, event: ChannelOpened) -> None:
        if event.outbound and self.store.is_authority:
            self.transport.spawn(self._send_members, event.peer)

    async def _send_members(self, peer: str) -> None:
        # not sent if the channel is down: it is sent again when the dial loop reopens it
        await self.transport.send_to(peer, m.TrustMembers(self.store.state.generation,
                                                          [x.to_dict() for x in self.store.members]))

    async def _on_members(self, channel: Channel, msg: m.TrustMembers) -> None:
        members = [Member(str(x["name"]), str(x["address"]), bool(x.get("authority"))) for x in msg.members]
        if self.device not in {x.name for x in members} and msg.generation > self.store.state.generation:
            self.store.reset()    # removed from the domain: a domain of one again, as F5 leaves it
            self.log.log("notice", "iquery", f"Removed from the trust domain by {channel.peer}: this device "
                         "is a trust domain of one", event="trust-reset")
            self.transport.restart()
            return
        if self.store.update_members(members, msg.generation):
            self.log.log("notice", "iquery", f"Device trust group updated by {channel.peer}: "
                         + ", ".join(x.name for x in members), event="trust-members")
            self.transport.sync_dialers()

    async def _on_join_request(self, channel: Channel, msg: m.JoinRequest) -> None:
        if (msg.username, msg.password) != (self.credentials["username"], self.credentials["password"]):
            self.log.log("warning", "iquery", f"Add-device request from {channel.address} refused: "
                         "authentication failed", event="trust-refused")
            channel.session.close("auth", "authentication failed", trio.current_time())
            return
        await channel.send(m.Csr(self.device, self.store.csr()))

    async def _on_join(self, channel: Channel, msg: m.Join) -> None:
        try:
            self.store.join(msg.cert, msg.ca, msg.ca_key, msg.members, msg.generation)
        except (TrustError, KeyError, TypeError, ValueError) as exc:
            channel.session.close("join-refused", f"join refused: {exc}", trio.current_time())
            return
        role = "peer authority" if msg.ca_key else "subordinate non-authority"
        self.log.log("notice", "iquery", f"Joined the trust domain of {msg.authority} as {role}",
                     event="trust-joined", authority=msg.authority)
        await channel.send(m.Joined())
        self.transport.restart()

    async def add_device(self, address: str, username: str, password: str, role: str = "peer") -> dict:
        """F5's add-device: reach the device with its admin credentials, sign its CSR, hand it the
        domain CA (and the CA key for a peer authority). Raises TrustError with the reason; the
        trust group changes only once the device confirms it joined."""
        if role not in ("peer", "subordinate"):
            raise TrustError(f"unknown role {role!r} (peer or subordinate)")
        if not self.store.is_authority:
            raise TrustError("this device is not a certificate signing authority in its trust domain")
        try:
            channel = await self.transport.connect(address, self.store.join_context(), None)
        except ChannelFailure as failure:
            raise TrustError(failure.reason) from None
        self.log.log("info", "iquery", f"Add device {address}: its certificate fingerprint is "
                     f"{fingerprint(x509.load_der_x509_certificate(channel.stream.getpeercert(True)))}")
        send_reply, replies = trio.open_memory_channel(8)

        async def collect(_channel, body):
            try:
                await send_reply.send(m.decode(body))
            except m.BadMessage as exc:
                await send_reply.send(Closed("bad-message", str(exc)))

        async def run():
            closed = await self.transport.serve(channel, None, send_reply.send_nowait, dispatch=collect)
            await send_reply.send(closed)

        async def expect(kind):
            reply = await replies.receive()
            if isinstance(reply, Closed):
                raise TrustError(f"{address}: {reply.reason}")
            if not isinstance(reply, kind):
                raise TrustError(f"{address} answered {reply.kind!r}, expected {kind.kind!r}")
            return reply

        error: Exception | None = None
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run)
            try:
                with trio.fail_after(self.transport.connect_timeout * 3):
                    member = await self._join_steps(channel, address, role, username, password, expect)
            except (TrustError, trio.TooSlowError, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                error = exc
            nursery.cancel_scope.cancel()
        if isinstance(error, trio.TooSlowError):
            raise TrustError(f"no answer from {address} to the add-device request")
        if isinstance(error, TrustError):
            raise error
        if error is not None:
            raise TrustError(f"{address} closed the connection during add-device")
        name = member.name
        self.log.log("notice", "iquery", f"Added device {name} ({address}) to the trust domain as "
                     + ("peer authority" if role == "peer" else "subordinate non-authority"),
                     event="trust-added", peer=name)
        self.transport.sync_dialers()
        for peer in list(self.transport.outbound):
            self.transport.spawn(self._send_members, peer)
        return member.to_dict()

    def member_names(self) -> set[str]:
        return {x.name for x in self.store.members}

    async def remove_device(self, device: str) -> dict:
        """F5's remove-from-trust: `device` is the member's name or address. The rest of the
        domain gets the new member list; the removed device, told too, starts a domain of one."""
        member = next((x for x in self.store.members if device in (x.name, x.address)), None)
        if member is None:
            raise TrustError(f"device {device} is not in the trust domain")
        if not self.store.is_authority:
            raise TrustError("this device is not a certificate signing authority in its trust domain")
        async with self._changing:
            self.store.remove_member(member.name)
        self.log.log("notice", "iquery", f"Removed device {member.name} ({member.address}) from the trust domain",
                     event="trust-removed", peer=member.name)
        for peer in [member.name] + [x for x in list(self.transport.outbound) if x != member.name]:
            await self._send_members(peer)
        self.transport.sync_dialers()
        return member.to_dict()

    async def _join_steps(self, channel: Channel, address: str, role: str, username: str,
                          password: str, expect) -> Member:
        name = (await expect(Hello)).device
        if name == self.device:
            raise TrustError(f"{address} is this device ({name})")
        await channel.send(m.JoinRequest(username, password))
        csr = await expect(m.Csr)
        if csr.device != name:
            raise TrustError(f"{address} sent a request for {csr.device!r}, not {name!r}")
        member = Member(name, address, role == "peer")
        async with self._changing:   # the list and generation sent are the ones the store takes next
            members = [x for x in self.store.members if x.name != name] + [member]
            await channel.send(m.Join(self.device, self.store.sign(csr.csr), self.store.state.ca,
                                      [x.to_dict() for x in members], self.store.state.generation + 1,
                                      self.store.state.ca_key if role == "peer" else None))
            await expect(m.Joined)
            self.store.add_member(member)
        return member
