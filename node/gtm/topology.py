"""Topology records and regions: who is near whom, scored exactly as BIG-IP DNS does (sans-IO).

    ldns: region /Common/REGION-A server: pool /Common/APP1-POOL1 score 30

Rules (seed 003 and F5's docs):
- Walk the records in order. The first record that matches the LDNS and a destination sets that
  destination's score; later records for the same destination are ignored. No match: score 0.
- Inside a region an exclusion (`not ...`) beats any inclusion, whatever the mask lengths; a
  nested region counts as if its members were listed in the parent.
- Longest match (on by default) sorts the records once, when the configuration loads: source
  subnets by mask length, longest first; a region is one entity, whatever matched inside it.
  Order: subnet > region > isp > state > country > continent > negated, then the destination
  the same way (datacenter and pool after subnet), then creation order. Not the score: the seed's
  walk-through (a later score-40 record for POOL2 never used) only holds if score does not sort.
- Records with a datacenter destination apply only when a pool picks among its members.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

SOURCE_RANK = {"subnet": 0, "region": 1, "isp": 2, "geoip-isp": 2, "state": 3, "country": 4, "continent": 5}
DEST_RANK = {"subnet": 0, "datacenter": 1, "pool": 2, "region": 3, "isp": 4, "geoip-isp": 4, "state": 5, "country": 6,
             "continent": 7}
NEGATED_RANK = 8


@dataclass(frozen=True)
class Term:
    negated: bool
    kind: str           # subnet region datacenter pool; isp geoip-isp state country continent (no lab
    value: str          # client has a location: they never match)  "/Common/R", "10.0.0.0/24", '"US/Ohio"'
    net: object = None  # the ip_network of a subnet term

    @classmethod
    def parse(cls, text: str) -> "Term":
        neg = text.startswith("not ")
        kind, _, value = text.removeprefix("not ").partition(" ")   # a value may be quoted, with spaces
        net = ipaddress.ip_network(value, strict=False) if kind == "subnet" else None
        return cls(neg, kind, value, net)

    def __str__(self) -> str:
        return f"{'not ' if self.negated else ''}{self.kind} {self.value}"


@dataclass(frozen=True)
class Dest:
    """What a destination term is matched against: a pool (wide IP level) or a member (pool level)."""
    pool: str | None = None
    datacenter: str | None = None
    address: object = None   # ip_address of the member's virtual server


@dataclass(frozen=True)
class Record:
    source: Term
    dest: Term
    score: int = 1
    order: int = 0

    @classmethod
    def parse(cls, name: str, score: int = 1, order: int = 0) -> "Record":
        src, dst = name.removeprefix("ldns: ").split(" server: ")
        return cls(Term.parse(src), Term.parse(dst), score, order)

    @property
    def name(self) -> str:
        return f"ldns: {self.source} server: {self.dest}"


class Regions:
    """Named regions, each a list of terms; membership with exclusions winning."""

    def __init__(self, regions: dict[str, list[str]] | None = None):
        self.terms = {name: [Term.parse(t) for t in terms] for name, terms in (regions or {}).items()}

    def flat(self, name: str, seen: frozenset = frozenset()) -> list[Term]:
        """A region's terms with nested (included) regions listed in place of their names."""
        out = []
        for t in self.terms.get(name, []):
            if t.kind == "region" and not t.negated:
                if t.value not in seen and t.value != name:
                    out += self.flat(t.value, seen | {name})
            else:
                out.append(t)
        return out

    def _contains(self, name: str, match) -> bool:
        terms = self.flat(name)
        if any(t.negated and match(t) for t in terms):
            return False
        return any(not t.negated and match(t) for t in terms)

    def has_ip(self, name: str, ip) -> bool:
        return self._contains(name, lambda t: self._term_ip(t, ip))

    def has_dest(self, name: str, dest: Dest) -> bool:
        return self._contains(name, lambda t: self._term_dest(t, dest))

    def _term_ip(self, t: Term, ip) -> bool:
        """A term ignoring its negation: does it cover the address?"""
        if t.kind == "subnet":
            return ip.version == t.net.version and ip in t.net
        if t.kind == "region":
            return self.has_ip(t.value, ip)
        return False

    def _term_dest(self, t: Term, dest: Dest) -> bool:
        if t.kind == "subnet":
            return dest.address is not None and dest.address.version == t.net.version and dest.address in t.net
        if t.kind == "datacenter":
            return dest.datacenter == t.value
        if t.kind == "pool":
            return dest.pool == t.value
        if t.kind == "region":
            return self.has_dest(t.value, dest)
        return False

    def source_matches(self, t: Term, ip) -> bool:
        return self._term_ip(t, ip) != t.negated

    def dest_matches(self, t: Term, dest: Dest) -> bool:
        return self._term_dest(t, dest) != t.negated


def _rank(t: Term, ranks: dict) -> tuple:
    if t.negated:
        return NEGATED_RANK, 0
    return ranks.get(t.kind, NEGATED_RANK - 1), -(t.net.prefixlen if t.net is not None else 0)


def longest_match_order(records: list[Record]) -> list[Record]:
    return sorted(records, key=lambda r: (*_rank(r.source, SOURCE_RANK), *_rank(r.dest, DEST_RANK), r.order))


def evaluation_order(records: list[Record], longest_match: bool = True) -> list[Record]:
    """The order BIG-IP DNS walks the records (and `GET /gtm/topology` lists them)."""
    records = sorted(records, key=lambda r: r.order)
    return longest_match_order(records) if longest_match else records


class Topology:
    """The records in evaluation order (sorted once, as at config load) and the regions."""

    def __init__(self, records: list[Record], regions: Regions | None = None, longest_match: bool = True):
        self.records = evaluation_order(records, longest_match)
        self.regions = regions or Regions()

    def scores(self, ldns, dests: list[Dest], level: str = "pool") -> list[int]:
        """Each destination's score for this LDNS: the first matching record sets it."""
        ip = ipaddress.ip_address(ldns) if isinstance(ldns, str) else ldns
        scores: list[int | None] = [None] * len(dests)
        left = len(dests)
        for r in self.records:
            if level == "wideip" and r.dest.kind not in ("pool", "region"):
                continue   # datacenter (and member subnet) destinations apply when a pool picks members
            if not self.regions.source_matches(r.source, ip):
                continue
            for i, d in enumerate(dests):
                if scores[i] is None and self.regions.dest_matches(r.dest, d):
                    scores[i] = r.score
                    left -= 1
            if not left:
                break
        return [s or 0 for s in scores]

    def best(self, ldns, dests: list[Dest], level: str = "pool") -> list[int]:
        """Indexes of the destinations with the highest score (ties: served round robin); none
        when nothing scored above 0 (the method cannot pick)."""
        scores = self.scores(ldns, dests, level)
        top = max(scores, default=0)
        return [i for i, s in enumerate(scores) if s == top] if top > 0 else []
