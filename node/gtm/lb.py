"""GTM load balancing, sans-IO: a wide IP picks a pool, the pool picks members.

A decision is a *rotation*: the outcomes that successive queries from one LDNS get, in order
(round robin and ties cycle through it; ratio repeats an outcome by its weight). An outcome is an
Answer (TTL and records), RETURN_TO_DNS (let the zones answer) or DROP (no response).

Pool: preferred -> alternate -> fallback (static-persistence: a hash of the LDNS network picks). A method that cannot pick (no candidate, no topology
record above 0) hands on to the next; `none` skips; `return-to-dns`, `drop-packet` and
`fallback-ip` end the chain. If all fail the wide IP tries its next pool. Only available members are
candidates while verify-member-availability is enabled (the default).

Wide IP: pool-lb-mode round-robin, ratio, topology or global-availability over its available
pools (a pool is available when it is enabled and has an available member); none available: the
last-resort pool, else return to DNS. Topology with no record above 0 for this LDNS: every pool
ties at 0 and they are served round robin (a wide IP has no alternate method to hand on to).
"""
from __future__ import annotations

import ipaddress
import zlib
from dataclasses import dataclass
from math import lcm

from .topology import Dest, Topology

RETURN_TO_DNS = "return-to-dns"
DROP = "drop"
MAX_ROTATION = 240


@dataclass(frozen=True)
class Member:
    name: str                  # "/Common/ltm-nyc:vs_www", or the target of a CNAME pool member
    data: str | None           # what the answer carries: the virtual server's address, or the target
    datacenter: str | None = None
    available: bool = True
    enabled: bool = True
    order: int = 0
    ratio: int = 1
    connections: int = 0

    def dest(self, pool: str) -> Dest:
        addr = None
        if self.data:
            try:
                addr = ipaddress.ip_address(self.data)
            except ValueError:
                addr = None
        return Dest(pool=pool, datacenter=self.datacenter, address=addr)


@dataclass(frozen=True)
class Pool:
    name: str
    members: tuple[Member, ...] = ()
    mode: str = "round-robin"
    alternate: str = "round-robin"
    fallback: str = "return-to-dns"
    fallback_ip: str = "any"
    ttl: int = 30
    max_answers: int = 1
    verify: bool = True
    enabled: bool = True
    static_cidr: tuple = (32, 128)   # static-persist-cidr-ipv4/ipv6 (gtm global-settings)
    cname: bool = False              # a CNAME pool: its answers are CNAMEs, whatever the query's type

    @property
    def available(self) -> bool:
        return self.enabled and any(m.available and m.enabled for m in self.members)


@dataclass(frozen=True)
class PoolRef:
    name: str
    order: int = 0
    ratio: int = 1
    cname: bool = False   # one of the wide IP's pools-cname


@dataclass(frozen=True)
class WideIP:
    name: str
    pools: tuple[PoolRef, ...] = ()
    mode: str = "round-robin"
    last_resort: str | None = None
    enabled: bool = True
    persist_ttl: int = 0          # persistence enabled: ttl-persistence; 0 is off
    persist_cidr: tuple = (32, 128)
    prefer_ecs: bool = False      # topology-prefer-edns0-client-subnet: the client subnet is the LDNS


@dataclass(frozen=True)
class Answer:
    ttl: int
    data: tuple[str, ...]
    pool: str = ""
    cname: bool = False   # data is a CNAME target (a CNAME pool's member)


def weighted(items: list, weights: list[int]) -> list:
    """A smooth weighted round-robin sequence (nginx's): each item as often as its weight,
    spread out. Weight 0 items never appear."""
    pairs = [(i, w) for i, w in zip(items, weights) if w > 0]
    if not pairs:
        return []
    total = sum(w for _, w in pairs)
    current = [0] * len(pairs)
    out = []
    for _ in range(total):
        for k, (_, w) in enumerate(pairs):
            current[k] += w
        best = max(range(len(pairs)), key=lambda k: current[k])
        current[best] -= total
        out.append(pairs[best][0])
    return out


def pick(method: str, pool: Pool, candidates: list[Member], topology: Topology | None, ldns) -> list[Member]:
    """The rotation one method makes of the candidates, or [] if it cannot pick."""
    if not candidates:
        return []
    if method == "round-robin":
        return list(candidates)
    if method == "ratio":
        return weighted(candidates, [m.ratio for m in candidates])
    if method == "global-availability":
        return [candidates[0]]
    if method == "least-connections":
        low = min(m.connections for m in candidates)
        return [m for m in candidates if m.connections == low]
    if method == "topology":
        if topology is None:
            return []
        return [candidates[i] for i in topology.best(ldns, [m.dest(pool.name) for m in candidates], "pool")]
    if method == "static-persistence":
        return [candidates[static_index(ldns, pool.static_cidr, len(candidates))]]
    return []


def static_index(ldns, cidr: tuple, n: int) -> int:
    """Static persistence: the LDNS address masked by static-persist-cidr, hashed, picks one of the
    n candidates, the same on every GTM and every time while the candidates stay the same."""
    ip = ipaddress.ip_address(ldns)
    net = ipaddress.ip_network(f"{ip}/{cidr[0] if ip.version == 4 else cidr[1]}", strict=False)
    return zlib.crc32(net.network_address.packed) % n


def resolve_pool(pool: Pool, topology: Topology | None, ldns) -> list | None:
    """The pool's rotation of outcomes for this LDNS, or None: every method failed, try the next pool."""
    members = sorted((m for m in pool.members if m.enabled), key=lambda m: (m.order, m.name))
    candidates = [m for m in members if m.available] if pool.verify else members
    for method in (pool.mode, pool.alternate, pool.fallback):
        if method == "none":
            continue
        if method == RETURN_TO_DNS:
            return [RETURN_TO_DNS]
        if method == "drop-packet":
            return [DROP]
        if method == "fallback-ip":
            if pool.fallback_ip not in ("any", "", None):
                return [Answer(pool.ttl, (pool.fallback_ip,), pool.name, pool.cname)]
            continue
        chosen = pick(method, pool, candidates, topology, ldns)
        if chosen:
            return [_answer(pool, candidates, m) for m in chosen]
    return None


def _answer(pool: Pool, candidates: list[Member], first: Member) -> Answer:
    """The chosen member first, then up to max-answers-returned - 1 more available members."""
    if pool.max_answers <= 1 or len(candidates) == 1:
        return Answer(pool.ttl, (first.data,), pool.name, pool.cname)
    i = candidates.index(first)
    ordered = candidates[i:] + candidates[:i]
    return Answer(pool.ttl, tuple(dict.fromkeys(m.data for m in ordered[:pool.max_answers])), pool.name, pool.cname)


def resolve_wideip(wip: WideIP, pools: dict[str, Pool], topology: Topology | None, ldns,
                   cname_pools: dict[str, Pool] | None = None) -> list:
    """The wide IP's rotation of outcomes for this LDNS (its pools of the query's type, and its
    pools-cname from `cname_pools`, ordered together)."""
    def of(r: PoolRef) -> Pool | None:
        return (cname_pools or {}).get(r.name) if r.cname else pools.get(r.name)
    refs = sorted((r for r in wip.pools if of(r) is not None), key=lambda r: (r.order, r.name))
    available = [r for r in refs if of(r).available]
    order: list[PoolRef] = []
    if wip.mode == "round-robin":
        order = available
    elif wip.mode == "ratio":
        order = weighted(available, [r.ratio for r in available])
    elif wip.mode == "global-availability":
        order = available
    elif wip.mode == "topology" and topology is not None:
        best = topology.best(ldns, [Dest(pool=r.name) for r in available], "wideip")
        # no record above 0: every pool scores 0, an equal highest score, served round robin
        order = [available[i] for i in best] if best else available
    rotations = {}
    for ref in dict.fromkeys(order):
        r = resolve_pool(of(ref), topology, ldns)
        if r is not None:
            rotations[ref] = r
    order = [ref for ref in order if ref in rotations]
    if wip.mode == "global-availability":
        order = order[:1]
    if not order:
        last = pools.get(wip.last_resort) if wip.last_resort else None
        r = resolve_pool(last, topology, ldns) if last is not None and last.enabled else None
        return r or [RETURN_TO_DNS]
    return interleave(order, rotations)


def interleave(order: list, rotations: dict) -> list:
    """Pools in turn, each pool's own rotation advancing when its turn comes again:
    P1m1, P2m1, P1m2, P2m2 ... (bounded)."""
    counts = {ref: order.count(ref) for ref in order}
    length = len(order) * lcm(*(max(1, -(-len(rotations[ref]) // counts[ref])) for ref in counts))
    length = min(length, MAX_ROTATION)
    seen = {ref: 0 for ref in counts}
    out = []
    for k in range(max(length, len(order))):
        ref = order[k % len(order)]
        rot = rotations[ref]
        out.append(rot[seen[ref] % len(rot)])
        seen[ref] += 1
    return out


class Picker:
    """Round-robin state over a rotation: each call gives the next outcome."""

    def __init__(self, rotation: list):
        self.rotation = rotation
        self.i = 0

    def next(self):
        out = self.rotation[self.i % len(self.rotation)]
        self.i += 1
        return out


class Persistence:
    """Wide IP persistence: an LDNS (its address masked by persist-cidr-ipv4/ipv6) keeps the answer
    it got for ttl-persistence seconds, as long as that answer is still one the wide IP would give."""

    def __init__(self):
        self.records: dict[tuple, tuple] = {}   # (wide IP, LDNS network) -> (outcome, expires)
        self.turn: dict[str, int] = {}          # round robin among new LDNSes, per wide IP

    def pick(self, wip: WideIP, ldns, rotation: list, now: float) -> tuple:
        """(outcome, expires) for this LDNS."""
        ip = ipaddress.ip_address(ldns)
        net = ipaddress.ip_network(f"{ip}/{wip.persist_cidr[0] if ip.version == 4 else wip.persist_cidr[1]}",
                                   strict=False)
        key = (wip.name, net)
        held = self.records.get(key)
        if held is not None and held[1] > now and held[0] in rotation:
            return held
        i = self.turn.get(wip.name, 0)
        self.turn[wip.name] = i + 1
        if len(self.records) > 100_000:
            self.records = {k: v for k, v in self.records.items() if v[1] > now}
        self.records[key] = (rotation[i % len(rotation)], now + wip.persist_ttl)
        return self.records[key]
