"""The 4353 transport (trio): listener and dialers, TLS 1.3 with mutual authentication, sessions.

Every device dials every other member of its trust domain and keeps that channel up, reconnecting
with backoff; each channel carries messages both ways, decoded (messages.py) and handed to the
handler registered for their class. Inbound connections without a client certificate are
unauthenticated and may only ask to join (the add-device protocol, join.py). Failures are
classified into distinct reasons: refused, timeout, unreachable, untrusted, expired,
not-yet-valid, name-mismatch, version-mismatch, hello-timeout, idle-timeout, bad-frame.
"""
from __future__ import annotations

import errno
import ssl
import time
from collections import deque
from dataclasses import dataclass, field

import trio
from cryptography import x509

from ..backoff import Backoff
from ..events import ChannelClosed, ChannelOpened, Hub, MessageReceived
from ..status import LinkState
from . import messages as m
from .protocol import PROTOCOL_VERSION, Closed, Hello, Message, Session, State
from .trust import Member, TrustStore, common_name, fingerprint

PORT = 4353


class ChannelFailure(Exception):
    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


def classify_tls_error(exc: BaseException) -> ChannelFailure:
    """Map what OpenSSL said (possibly wrapped by trio) to one of our reasons."""
    cause = exc
    while not isinstance(cause, ssl.SSLError) and cause.__cause__ is not None:
        cause = cause.__cause__
    text = str(cause).lower()
    if "certificate verify failed" in text:
        return ChannelFailure("untrusted", "peer's certificate is not issued by this trust domain's CA")
    for alert in ("unknown ca", "bad certificate", "certificate unknown", "decrypt error",
                  "certificate required"):
        if alert in text:
            return ChannelFailure("untrusted",
                                  "peer refused this device's certificate (not in its trust domain)")
    if "unexpected eof" in text or "eof occurred" in text:
        return ChannelFailure("closed", "connection closed by the peer")
    if isinstance(cause, ssl.SSLError):
        return ChannelFailure("tls", f"TLS failure: {cause.reason or cause}")
    return ChannelFailure("closed", "connection closed during the TLS handshake")


def classify_os_error(exc: OSError, where: str) -> ChannelFailure:
    # trio.open_tcp_stream raises "all attempts to connect failed" with the real errors as cause
    cause = exc.__cause__
    while exc.errno is None and cause is not None:
        if isinstance(cause, BaseExceptionGroup):
            cause = cause.exceptions[0]
        if isinstance(cause, OSError) and cause.errno is not None:
            exc = cause
            break
        cause = cause.__cause__
    if exc.errno == errno.ECONNREFUSED:
        return ChannelFailure("refused", f"connection refused by {where}")
    if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL):
        return ChannelFailure("unreachable", f"{where} is unreachable")
    return ChannelFailure("socket", f"cannot connect to {where}: {exc.strerror or exc}")


class Channel:
    """One open TLS stream and its session; `send` may be called from any task."""

    def __init__(self, stream: trio.SSLStream, session: Session, address: str, outbound: bool):
        self.stream, self.session, self.address, self.outbound = stream, session, address, outbound
        self.peer: str | None = None
        self.authenticated = False
        self.peer_der: bytes | None = None   # its certificate, once recheck has read it
        self.rx_scope: trio.CancelScope | None = None   # the wait for bytes; cancelled to close now
        self._lock = trio.Lock()

    async def flush(self) -> None:
        async with self._lock:
            data = self.session.data_to_send()
            if data:
                await self.stream.send_all(data)

    async def send(self, message: m.Message) -> None:
        self.session.send(message, trio.current_time())
        await self.flush()


@dataclass
class Link:
    """What this device knows of its outbound channel to one peer."""
    name: str
    address: str
    state: LinkState = LinkState.CONNECTING
    code: str = ""
    reason: str = ""
    since: float = field(default_factory=time.time)
    certificate: dict | None = None

    def to_dict(self) -> dict:
        return {"address": self.address, "state": self.state, "code": self.code, "reason": self.reason,
                "since": self.since, "certificate": self.certificate}


class IQuery:
    def __init__(self, device: str, store: TrustStore, log, events: Hub, *, port: int = PORT,
                 bind: str | tuple[str, ...] = "0.0.0.0", connect_timeout: float = 3.0, hello_timeout: float = 5.0,
                 ping_interval: float = 2.0, idle_timeout: float = 6.0, version=PROTOCOL_VERSION):
        self.device, self.store, self.log = device, store, log
        self.events = events      # publishes ChannelOpened, ChannelClosed, MessageReceived
        self.port, self.bind = port, bind
        self.connect_timeout, self.hello_timeout = connect_timeout, hello_timeout
        self.session_opts = dict(hello_timeout=hello_timeout, ping_interval=ping_interval,
                                 idle_timeout=idle_timeout, version=version)
        self.links: dict[str, Link] = {}
        self.outbound: dict[str, Channel] = {}
        self.inbound: set[Channel] = set()
        self.refused: deque[dict] = deque(maxlen=20)
        self.handlers: dict[type[m.Message], object] = {}          # from members of the domain
        self.join_handlers: dict[type[m.Message], object] = {}     # from devices not yet in it
        self._dialers: dict[str, trio.CancelScope] = {}
        self._retry: dict[str, trio.Event] = {}
        self._nursery: trio.Nursery | None = None
        self._server_ctx = store.server_context()

    # -- running --------------------------------------------------------------------------------
    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            # a BIG-IP listens on 4353 on its configsync and management addresses, not on every one
            listeners = []
            for host in ([self.bind] if isinstance(self.bind, str) else self.bind):
                listeners += await trio.open_tcp_listeners(self.port, host=host)
            nursery.start_soon(trio.serve_listeners, self._serve_inbound, listeners)
            nursery.start_soon(self._recheck_loop)
            self.sync_dialers()
            task_status.started()

    async def _recheck_loop(self, interval: float = 1.0) -> None:
        while True:
            await trio.sleep(interval)
            self.recheck()

    def recheck(self) -> None:
        """Check every open channel's peer certificate again against the node clock: a clock
        skewed past a certificate's validity (or a certificate that expired) closes the channel
        with the reason, as a new handshake would be refused."""
        for channel in [*self.outbound.values(), *self.inbound]:
            if not channel.authenticated or channel.session.state is State.CLOSED:
                continue
            if channel.peer_der is None:   # the handshake's certificate: read once, checked each time
                try:
                    channel.peer_der = channel.stream.getpeercert(binary_form=True)
                except (ssl.SSLError, ValueError, AttributeError):
                    continue
            check = self.store.check(channel.peer_der, channel.peer if channel.outbound else None)
            if not check.ok:
                self.log.log("warning", "iquery", f"Closing the channel {'to' if channel.outbound else 'from'} "
                             f"{channel.peer}: {check.reason}", event="channel-recheck", code=check.code,
                             peer=channel.peer)
                channel.session.close(check.code, check.reason, trio.current_time())
                if channel.rx_scope is not None:
                    channel.rx_scope.cancel()

    def sync_dialers(self) -> None:
        """Dial every member of the trust domain, and only those."""
        peers = {m.name: m for m in self.store.peers()}
        for name in list(self._dialers):
            if name not in peers:
                self._dialers.pop(name).cancel()
                self.links.pop(name, None)
        for name, member in peers.items():
            if name not in self._dialers:
                scope = trio.CancelScope()
                self._dialers[name] = scope
                self.links[name] = Link(name, member.address)
                self._nursery.start_soon(self._dial_loop, member, scope)

    def restart(self) -> None:
        """The domain changed (joined, reset): drop every channel made under the old one."""
        self._server_ctx = self.store.server_context()
        for scope in self._dialers.values():
            scope.cancel()
        self._dialers.clear()
        self.links.clear()
        for channel in list(self.inbound):
            self._nursery.start_soon(channel.stream.aclose)
        self.sync_dialers()

    # -- status ---------------------------------------------------------------------------------
    def status(self) -> dict:
        return {"port": self.port, "trust": self.store.summary(),
                "peers": {name: link.to_dict() for name, link in self.links.items()},
                "inbound": sorted(c.peer or f"(joining {c.address})" for c in self.inbound),
                "refused": list(self.refused)}

    def _channel_for(self, peer: str) -> Channel | None:
        """Our channel to a peer, or else the peer's (authenticated) channel to us: either
        carries messages both ways, so a redial in backoff does not cut a device off."""
        channel = self.outbound.get(peer)
        if channel is not None:
            return channel
        for channel in self.inbound:
            if channel.authenticated and channel.peer == peer and channel.session.state is State.OPEN:
                return channel
        return None

    def connected(self, peer: str) -> bool:
        return self._channel_for(peer) is not None

    def handle(self, kind: type[m.Message], handler) -> None:
        """Route messages of class `kind` from trusted peers to `await handler(channel, message)`."""
        self.handlers[kind] = handler

    def handle_unauthenticated(self, kind: type[m.Message], handler) -> None:
        """Route `kind` from a peer without a client certificate (one asking to join) to `handler`."""
        self.join_handlers[kind] = handler

    def spawn(self, fn, *args) -> None:
        """Run `fn(*args)` as a task of this transport (it ends with it)."""
        self._nursery.start_soon(fn, *args)

    async def send_to(self, peer: str, message: m.Message) -> bool:
        """Send to a peer; False if no channel is up (nothing is queued)."""
        channel = self._channel_for(peer)
        if channel is None:
            return False
        try:
            await channel.send(message)
            return True
        except (trio.BrokenResourceError, trio.ClosedResourceError, RuntimeError):
            return False

    def _set_link(self, link: Link, state: LinkState, code: str = "", reason: str = "") -> None:
        if (link.state, link.code, link.reason) == (state, code, reason):
            return
        was = link.state
        link.state, link.code, link.reason, link.since = state, code, reason, time.time()
        if state is LinkState.CONNECTED:
            self.log.log("notice", "iquery", f"Channel to {link.name} ({link.address}:{self.port}) established",
                         event="channel-up", peer=link.name)
        elif was is LinkState.CONNECTED or code:
            self.log.log("warning", "iquery",
                         f"Channel to {link.name} ({link.address}:{self.port}) down: {reason}",
                         event="channel-down", peer=link.name, code=code)

    # -- outbound -------------------------------------------------------------------------------
    async def _dial_loop(self, member: Member, scope: trio.CancelScope) -> None:
        if scope.cancel_called:   # the domain changed before this task first ran: its link is gone
            return                # (or is a newer dialer's); a daemon died of the KeyError on gtm-10dc
        link = self.links[member.name]
        backoff = Backoff()
        with scope:
            while True:
                try:
                    channel = await self.connect(member.address, self.store.client_context(), member.name)
                except ChannelFailure as failure:
                    self._set_link(link, LinkState.DISCONNECTED, failure.code, failure.reason)
                    await self._pause(member.name, backoff.next_delay())
                    continue
                cert = x509.load_der_x509_certificate(channel.stream.getpeercert(binary_form=True))
                link.certificate = {"fingerprint": fingerprint(cert),
                                    "not_after": cert.not_valid_after_utc.isoformat()}

                def opened(_hello, link=link):
                    backoff.reset()
                    self._set_link(link, LinkState.CONNECTED)
                    self.outbound[member.name] = channel
                    self.events.publish(ChannelOpened(member.name, outbound=True))

                try:
                    closed = await self.serve(channel, member.name, opened)
                finally:
                    if self.outbound.get(member.name) is channel:
                        del self.outbound[member.name]
                        self.events.publish(ChannelClosed(member.name, outbound=True))
                self._set_link(link, LinkState.DISCONNECTED, closed.code, closed.reason)
                await self._pause(member.name, backoff.next_delay())

    async def _pause(self, peer: str, delay: float) -> None:
        """Back off, unless the peer reaches us first (then it is up: dial at once)."""
        event = self._retry[peer] = trio.Event()
        with trio.move_on_after(delay):
            await event.wait()

    async def connect(self, address: str, ctx: ssl.SSLContext, expected: str | None) -> Channel:
        """A TLS channel to `address`; with `expected`, the peer must be that member of our domain."""
        where = f"{address}:{self.port}"
        try:
            with trio.fail_after(self.connect_timeout):
                try:
                    tcp = await trio.open_tcp_stream(address, self.port)
                except OSError as exc:
                    raise classify_os_error(exc, where) from None
                stream = trio.SSLStream(tcp, ctx, server_hostname=None)
                try:
                    await stream.do_handshake()
                except (trio.BrokenResourceError, ssl.SSLError) as exc:
                    await trio.aclose_forcefully(tcp)
                    raise classify_tls_error(exc) from None
        except trio.TooSlowError:
            raise ChannelFailure("timeout", f"timed out connecting to {where}") from None
        if expected is not None:
            check = self.store.check(stream.getpeercert(binary_form=True), expected)
            if not check.ok:
                await trio.aclose_forcefully(stream)
                raise ChannelFailure(check.code, check.reason)
        channel = Channel(stream, Session(self.device, trio.current_time(), initiator=True, **self.session_opts),
                          address, outbound=True)
        if expected is not None:  # verified above: a member of our domain
            channel.peer, channel.authenticated = expected, True
        return channel

    # -- inbound --------------------------------------------------------------------------------
    async def _serve_inbound(self, tcp: trio.SocketStream) -> None:
        try:
            address = tcp.socket.getpeername()[0]
        except OSError:
            return
        stream = trio.SSLStream(tcp, self._server_ctx, server_side=True)
        try:
            with trio.fail_after(self.hello_timeout):
                await stream.do_handshake()
        except trio.TooSlowError:
            return self._refuse(address, "hello-timeout", "no TLS handshake within "
                                f"{self.hello_timeout:g} s", tcp)
        except (trio.BrokenResourceError, ssl.SSLError) as exc:
            failure = classify_tls_error(exc)
            return self._refuse(address, failure.code, failure.reason, tcp)
        channel = Channel(stream, Session(self.device, trio.current_time(), initiator=False, **self.session_opts),
                          address, outbound=False)
        der = stream.getpeercert(binary_form=True)
        if der is not None:
            check = self.store.check(der)
            if not check.ok:
                self.refused.append({"address": address, "code": check.code, "reason": check.reason,
                                     "at": time.time()})
                self.log.log("warning", "iquery", f"Refused 4353 connection from {address}: {check.reason}",
                             event="channel-refused", code=check.code)
                channel.session.close(check.code, check.reason, trio.current_time())
                try:
                    await channel.flush()
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    pass
                await trio.aclose_forcefully(stream)
                return
            channel.authenticated = True
            channel.peer = common_name(x509.load_der_x509_certificate(der))
        self.inbound.add(channel)

        was_open = False

        def opened(_hello):
            nonlocal was_open
            if channel.peer in self._retry:
                self._retry[channel.peer].set()
            was_open = True
            self.events.publish(ChannelOpened(channel.peer, outbound=False))

        try:
            closed = await self.serve(channel, channel.peer, opened if channel.authenticated else None)
        finally:
            self.inbound.discard(channel)
            if was_open:
                self.events.publish(ChannelClosed(channel.peer, outbound=False))
        if closed.code not in ("eof", "local"):
            self.log.log("info", "iquery", f"Inbound channel from {channel.peer or address} closed: {closed.reason}",
                         event="inbound-closed", code=closed.code)

    def _refuse(self, address: str, code: str, reason: str, tcp) -> None:
        self.refused.append({"address": address, "code": code, "reason": reason, "at": time.time()})
        self.log.log("warning", "iquery", f"Refused 4353 connection from {address}: {reason}",
                     event="channel-refused", code=code)
        self._nursery.start_soon(trio.aclose_forcefully, tcp)

    # -- a session, either side -------------------------------------------------------------------
    async def serve(self, channel: Channel, expected: str | None, opened, dispatch=None) -> Closed:
        """Run the session until it closes; returns why. Dispatches messages to handlers."""
        session = channel.session
        dispatch = dispatch or self._dispatch
        try:
            while True:
                await channel.flush()
                if session.state is State.CLOSED:
                    return session.closed
                data = None
                with trio.move_on_at(session.next_deadline()) as channel.rx_scope:
                    data = await channel.stream.receive_some(65536)
                    if not data:
                        return Closed("eof", "peer closed the connection")
                if data is None:
                    session.tick(trio.current_time())
                    continue
                for event in session.receive_data(data, trio.current_time()):
                    if isinstance(event, Hello):
                        if expected is not None and event.device != expected:
                            session.close("name-mismatch", f"peer says it is {event.device!r}, "
                                          f"its certificate says {expected!r}", trio.current_time())
                        elif opened is not None:
                            opened(event)
                    elif isinstance(event, Message):
                        await dispatch(channel, event.body)
        except (trio.BrokenResourceError, trio.ClosedResourceError, ssl.SSLError) as exc:
            if session.closed is not None:  # closed locally with a reason (recheck): keep it
                return session.closed
            failure = classify_tls_error(exc) if not isinstance(exc, trio.ClosedResourceError) \
                else ChannelFailure("local", "channel closed locally")
            if failure.code == "closed":
                failure = ChannelFailure("eof", "peer closed the connection")
            return Closed(failure.code, failure.reason)
        finally:
            with trio.CancelScope(shield=True):
                await trio.aclose_forcefully(channel.stream)

    async def _dispatch(self, channel: Channel, body: dict) -> None:
        kind = body["t"]
        cls = m.KINDS.get(kind)
        if channel.authenticated or channel.outbound:
            self.events.publish(MessageReceived(channel.peer, body))
            handler = self.handlers.get(cls)
            if handler is None:
                self.log.log("info", "iquery", f"Ignored unknown message {kind!r} from {channel.peer}")
                return
        else:
            handler = self.join_handlers.get(cls)
            if handler is None:
                channel.session.close("unauthenticated", f"{kind!r} needs a trusted certificate",
                                      trio.current_time())
                return
        try:
            message = cls.from_wire(body)
        except m.BadMessage as exc:   # the channel survives a malformed message
            self.log.log("err", "iquery", f"Malformed message from {channel.peer or channel.address} "
                         f"ignored: {exc}", event="bad-message", code="bad-message")
            return
        try:
            await handler(channel, message)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise
        except Exception as exc:  # a bad message must not take the daemon down
            self.log.log("err", "iquery", f"Message {kind!r} from {channel.peer or channel.address} "
                         f"failed: {type(exc).__name__}: {exc}")
            channel.session.close("bad-message", f"{kind!r} could not be handled: {exc}",
                                  trio.current_time())
