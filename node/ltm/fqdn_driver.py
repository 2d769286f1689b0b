"""FQDN nodes, the IO shell: asks the device's own `sys dns name-servers` over UDP (inside the
device's namespace) when node/ltm/fqdn.py says so, and shows what the answers make.

Only name servers inside the lab are asked: one on a subnet of the device's self IPs, or on
loopback; any other is skipped (a lab never sends a query out). Each server gets TIMEOUT seconds;
the first that answers (NOERROR or NXDOMAIN) decides.
"""
from __future__ import annotations

import ipaddress
import socket

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import trio

from ..events import EphemeraChanged, ConfigCommitted, Hub
from . import fqdn

TIMEOUT = 2.0
DNS_PORT = 53


def lab_servers(objects: dict) -> list[str]:
    """The name servers a device may ask: `sys dns name-servers` inside the lab."""
    servers = ((objects.get(("sys dns", "/Common/dns")) or {}).get("name-servers")) or []
    nets = [ipaddress.ip_interface(v["address"]).network for (t, _), v in objects.items()
            if t == "net self" and v.get("address")]
    out = []
    for s in servers:
        try:
            ip = ipaddress.ip_address(s.split("%")[0])
        except ValueError:
            continue
        if ip.is_loopback or any(ip in n for n in nets):
            out.append(str(ip))
    return out


def parse_answer(node: str, wire: bytes, query: dns.message.Message, rdtype: str) -> fqdn.Answer | None:
    """A reply to `query` as an Answer; None when it is not one (wrong id, SERVFAIL, REFUSED)."""
    try:
        reply = dns.message.from_wire(wire)
    except dns.exception.DNSException:
        return None
    if not query.is_response(reply):
        return None
    if reply.rcode() == dns.rcode.NXDOMAIN:
        return fqdn.Answer(node, ())
    if reply.rcode() != dns.rcode.NOERROR:
        return None
    want = dns.rdatatype.from_text(rdtype)
    addresses, ttls = [], []
    for rrset in reply.answer:   # a CNAME chain's records end in the addresses
        if rrset.rdtype == want:
            addresses += [r.address for r in rrset]
            ttls.append(rrset.ttl)
    return fqdn.Answer(node, tuple(addresses), min(ttls, default=0))


async def ask(q: fqdn.Query, servers: list[str], port: int = DNS_PORT) -> fqdn.Answer | fqdn.Failure:
    """One query, to each server in turn until one answers."""
    if not servers:
        return fqdn.Failure(q.node, "no name server inside the lab (sys dns name-servers)")
    query = dns.message.make_query(q.name, q.rdtype)
    query.flags |= dns.flags.RD
    wire = query.to_wire()
    for server in servers:
        family = socket.AF_INET6 if ":" in server else socket.AF_INET
        with trio.socket.socket(family, socket.SOCK_DGRAM) as sock:
            try:
                await sock.connect((server, port))
                await sock.send(wire)
                with trio.move_on_after(TIMEOUT):
                    while True:
                        answer = parse_answer(q.node, await sock.recv(65535), query, q.rdtype)
                        if answer is not None:
                            return answer
            except OSError:
                continue
    return fqdn.Failure(q.node, f"no answer from {', '.join(servers)}")


class FqdnResolution:
    """Runs the Resolver for one device: configured from the store, shown through the store's
    ephemera, EphemeraChanged published so the data plane and monitors follow."""

    def __init__(self, store, log, events: Hub, port: int = DNS_PORT):
        self.store, self.log, self.events, self.port = store, log, events, port
        self.resolver = fqdn.Resolver()
        self._wake = trio.Event()

    def state(self, node: str) -> str:
        return self.resolver.state(node)

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        self.events.subscribe(ConfigCommitted, lambda _e: self._wake.set())
        async with trio.open_nursery() as nursery:
            task_status.started()
            while True:
                now = trio.current_time()
                self.resolver.configure(fqdn.specs_of(self.store.objects), now)
                if self.resolver.nodes or self.store.ephemera != fqdn.Ephemera():   # else nothing to show
                    self._show()   # also when no address changed: a template added to a pool
                for q in self.resolver.due(now):
                    nursery.start_soon(self._ask, q)
                wake = self.resolver.wakeup()
                with trio.move_on_at(wake if wake is not None else float("inf")):
                    await self._wake.wait()
                self._wake = trio.Event()

    def _resolved(self) -> dict[str, tuple[str, ...]]:
        return {p: self.resolver.addresses(p) for p in self.resolver.nodes if self.resolver.addresses(p)}

    def _show(self) -> None:
        """The ephemeral nodes and members the configuration and the answers make, if new."""
        want = fqdn.ephemera(self.store.objects, self._resolved())
        if want != self.store.ephemera:
            self.store.set_ephemera(want)
            self.events.publish(EphemeraChanged())

    async def _ask(self, q: fqdn.Query) -> None:
        result = await ask(q, lab_servers(self.store.objects), self.port)
        now = trio.current_time()
        if isinstance(result, fqdn.Failure):
            if self.resolver.state(q.node) != fqdn.DOWN:
                self.log.log("warning", "ltm", f"FQDN node {q.node} ({q.name}): {result.reason}", event="fqdn-down")
            self.resolver.failed(result, now)
        elif self.resolver.answered(result, now):
            self.log.log("notice", "ltm", f"FQDN node {q.node} ({q.name}) resolves to "
                         f"{', '.join(result.addresses) or 'no address'}", event="fqdn-resolved")
            self._show()
        self._wake.set()
