"""BIG-IP DNS, property-based: the topology scorer against a brute-force reading of seed 003's
rules, and the DNS answerer on random and garbage queries (an answer, FORMERR, or nothing for
what has no readable header or is a response; never an exception)."""
import ipaddress

import dns.edns
import dns.flags
import dns.message
import dns.opcode
import dns.rdatatype
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.gtm.topology import Dest, Record, Regions, Term, Topology

from test_gtm_answer import answerer  # noqa: F401 (the fixture: the answerer over a GTM config)

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                         HealthCheck.function_scoped_fixture])

# -- the topology scorer ------------------------------------------------------------------------
# A small address world, so that subnets nest, overlap and miss often.
SUBNETS = ["10.0.0.0/28", "10.0.0.0/29", "10.0.0.8/29", "10.0.0.0/30", "10.0.0.4/30", "10.0.0.5/32",
           "10.0.0.12/31", "0.0.0.0/0", "2001:db8::/32"]
ADDRESSES = ["10.0.0.%d" % i for i in range(16)] + ["2001:db8::1"]
POOLS, DCS = ["/Common/P1", "/Common/P2", "/Common/P3"], ["/Common/nyc", "/Common/lon"]
REGION_NAMES = ["/Common/R0", "/Common/R1", "/Common/R2", "/Common/R3"]


def term(kinds, regions_below):
    """A term's text; a region term names only regions below (the config refuses a region cycle)."""
    def text(neg, kind, value):
        return f"{'not ' if neg else ''}{kind} {value}"
    values = {"subnet": st.sampled_from(SUBNETS), "pool": st.sampled_from(POOLS),
              "datacenter": st.sampled_from(DCS)}
    if regions_below:
        values["region"] = st.sampled_from(regions_below)
    kinds = [k for k in kinds if k in values]
    return st.sampled_from(kinds).flatmap(lambda k: st.builds(text, st.booleans(), st.just(k), values[k]))


@st.composite
def regions(draw) -> dict:
    out = {}
    for i, name in enumerate(REGION_NAMES):
        out[name] = draw(st.lists(term(("subnet", "region", "pool", "datacenter"), REGION_NAMES[:i]), max_size=4))
    return out


@st.composite
def records(draw) -> list:
    rows = draw(st.lists(st.tuples(term(("subnet", "subnet", "region"), REGION_NAMES),
                                   term(("pool", "pool", "subnet", "region", "datacenter"), REGION_NAMES),
                                   st.integers(0, 50)), max_size=12))
    names = {}
    for src, dst, score in rows:   # a record's name is its key: one per source and destination
        names.setdefault(f"ldns: {src} server: {dst}", score)
    return [Record.parse(n, score, order) for order, (n, score) in enumerate(names.items(), 1)]


DESTS = st.lists(st.builds(Dest, st.sampled_from(POOLS + [None]), st.sampled_from(DCS + [None]),
                           st.sampled_from([None] + ADDRESSES).map(lambda a: a and ipaddress.ip_address(a))),
                 min_size=1, max_size=4)


class Reference:
    """Seed 003 and F5's docs, read literally and computed the slow way."""

    def __init__(self, regions: dict):
        self.regions = regions

    def members(self, region: str) -> tuple[list, list]:
        """(inclusions, exclusions) of a region, a nested region's listed as the parent's own."""
        inc, exc = [], []
        for text in self.regions.get(region, []):
            words = text.split()
            neg, (kind, value) = words[0] == "not", words[-2:]
            if kind == "region" and not neg:
                i, e = self.members(value)
                inc, exc = inc + i, exc + e
            else:
                (exc if neg else inc).append((kind, value))
        return inc, exc

    def covers(self, kind: str, value: str, what) -> bool:
        """Does the term (ignoring negation) cover `what`: an LDNS address or a Dest?"""
        if kind == "region":
            inc, exc = self.members(value)
            return (any(self.covers(k, v, what) for k, v in inc)
                    and not any(self.covers(k, v, what) for k, v in exc))
        if isinstance(what, Dest):
            if kind == "pool":
                return what.pool == value
            if kind == "datacenter":
                return what.datacenter == value
            what = what.address
            if what is None:
                return False
        if kind != "subnet":
            return False
        net = ipaddress.ip_network(value)
        return (what.version == net.version
                and int(net.network_address) <= int(what) <= int(net.broadcast_address))

    def matches(self, t: Term, what) -> bool:
        return self.covers(t.kind, t.value, what) != t.negated

    @staticmethod
    def order(records: list, longest_match: bool) -> list:
        """Creation order; longest match sorts by the source (subnets longest mask first, then
        region, ..., negated last), then by the destination the same way, then creation order."""
        def rank(t: Term, kinds: list) -> tuple:
            if t.negated:
                return (len(kinds), 0)
            return (kinds.index(t.kind), -ipaddress.ip_network(t.value).prefixlen if t.kind == "subnet" else 0)
        by_creation = sorted(records, key=lambda r: r.order)
        if not longest_match:
            return by_creation
        return sorted(by_creation, key=lambda r: (rank(r.source, ["subnet", "region", "isp", "state", "country",
                                                                  "continent"]),
                                                  rank(r.dest, ["subnet", "datacenter", "pool", "region", "isp",
                                                                "state", "country", "continent"])))

    def scores(self, records, longest_match, ldns, dests, level) -> list[int]:
        out = []
        for d in dests:
            score = 0
            for r in self.order(records, longest_match):   # the first matching record sets the score
                if level == "wideip" and r.dest.kind not in ("pool", "region"):
                    continue
                if self.matches(r.source, ldns) and self.matches(r.dest, d):
                    score = r.score
                    break
            out.append(score)
        return out


@FAST
@given(regions(), records(), st.booleans(), st.sampled_from(ADDRESSES), DESTS, st.sampled_from(["pool", "wideip"]))
def test_the_scorer_agrees_with_a_brute_force_reading_of_the_rules(regs, recs, longest, ldns, dests, level):
    topo = Topology(recs, Regions(regs), longest)
    ip = ipaddress.ip_address(ldns)
    want = Reference(regs).scores(recs, longest, ip, dests, level)
    assert topo.scores(ldns, dests, level) == want
    top = max(want)
    assert topo.best(ldns, dests, level) == ([i for i, s in enumerate(want) if s == top] if top > 0 else [])


@FAST
@given(regions(), st.sampled_from(REGION_NAMES), st.sampled_from(ADDRESSES))
def test_region_membership_agrees_with_the_reference(regs, name, ldns):
    ip = ipaddress.ip_address(ldns)
    assert Regions(regs).has_ip(name, ip) == Reference(regs).covers("region", name, ip)


# -- the DNS answerer ---------------------------------------------------------------------------
NAMES = st.sampled_from(["www.example.com", "WWW.Example.COM", "www.example.net", "x.apps.example.com",
                         "dark.example.com", "example.com", "mail.example.com", "alias.example.com",
                         "a.old.example.com", "nope.example.com", "txt.example.com", "other.org", "."])
RDTYPES = st.sampled_from(["A", "AAAA", "CNAME", "MX", "ANY", "SOA", "NS", "TXT", "SRV", "PTR", "AXFR", "IXFR",
                           "TYPE65280"])


@st.composite
def queries(draw) -> bytes:
    """A query as a resolver sends it (EDNS, client subnet, flags, opcodes), then maybe damaged."""
    q = dns.message.make_query(draw(NAMES), draw(RDTYPES),
                               use_edns=draw(st.sampled_from([None, 0, 1])),
                               payload=draw(st.sampled_from([512, 1232, 4096, 65535])),
                               options=draw(st.sampled_from([[], [dns.edns.ECSOption("10.20.1.0", 24)],
                                                             [dns.edns.ECSOption("2001:db8::", 56)]])))
    q.id = draw(st.integers(0, 65535))
    q.set_opcode(draw(st.sampled_from([dns.opcode.QUERY] * 4 + [dns.opcode.NOTIFY, dns.opcode.UPDATE, 3])))
    if draw(st.booleans()):
        q.flags &= ~dns.flags.RD
    wire = bytearray(q.to_wire())
    damage = draw(st.sampled_from(["none", "none", "flip", "truncate", "extend", "counts"]))
    if damage == "flip" and wire:
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(wire) - 1))
            wire[i] = draw(st.integers(0, 255))
    elif damage == "truncate":
        wire = wire[:draw(st.integers(0, len(wire)))]
    elif damage == "extend":
        wire += draw(st.binary(max_size=40))
    elif damage == "counts":
        wire[4:12] = draw(st.binary(min_size=8, max_size=8))
    return bytes(wire)


def check_reply(data: bytes, out):
    if len(data) < 12 or data[2] & 0x80:
        assert out is None   # nothing to answer to, or a response: dropped
        return
    assert out is not None, "a query with a readable header gets an answer or FORMERR"
    reply = dns.message.from_wire(out)
    assert reply.id == int.from_bytes(data[:2], "big") and reply.flags & dns.flags.QR


@FAST
@given(queries(), st.sampled_from(["10.20.1.9", "10.20.2.9", "10.99.0.1", "2001:db8::9"]))
def test_any_query_gets_an_answer_or_formerr(answerer, data, ldns):  # noqa: F811
    check_reply(data, answerer.handle(data, ldns))
    check_reply(data, answerer.handle(data, ldns))   # the second time from the cache


@FAST
@given(st.binary(max_size=600))
def test_any_bytes_get_an_answer_formerr_or_nothing(answerer, data):  # noqa: F811
    check_reply(data, answerer.handle(data, "10.20.1.9"))
