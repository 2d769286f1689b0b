"""The DNS answerer (sans-IO): a query's wire bytes and the LDNS address in, response bytes out.

Order, as on a BIG-IP DNS listener: a wide IP name gets the intelligent answer (the pool's TTL,
authoritative); else the ZoneRunner zone data; else NXDOMAIN from the zone's authority (SOA in
the authority section); a name in no zone is REFUSED. A malformed query gets FORMERR when its
header can be read, otherwise nothing; a response (QR set) is dropped.

Hot path: the decision for (query bytes after the id, LDNS address) is cached as its rotation of
precompiled responses; a query is then one dict lookup and the id patched in. The cache is
emptied whenever the view changes (configuration or health).
"""
from __future__ import annotations

import struct
import time
from collections import defaultdict

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from . import lb
from .view import View, zone_for

CACHE_MAX = 200_000
RTYPE = {dns.rdatatype.A: "a", dns.rdatatype.AAAA: "aaaa"}
OUTCOMES = ("resolutions", "dropped", "returnToDns")   # TS's wide IP counters we keep


def formerr(data: bytes) -> bytes | None:
    """A FORMERR for a query whose 12-byte header is readable (question not echoed)."""
    if len(data) < 12:
        return None
    qid, flags = struct.unpack("!HH", data[:4])
    if flags & 0x8000:
        return None   # a response: never answer it
    return struct.pack("!HHHHHH", qid, 0x8000 | (flags & 0x7900) | dns.rcode.FORMERR, 0, 0, 0, 0)


class Answerer:
    def __init__(self, view: View | None = None, now=time.monotonic):
        self.state = (view or View(), {})   # (view, its cache): swapped as one, read as one
        self.now = now
        self.persistence = lb.Persistence()
        self.queries = 0
        self.misses = 0
        # "RTYPE NAME OUTCOME" -> answers: one dict increment per query on the hot path (a str key:
        # its hash is cached, a tuple's is not)
        self.tally: defaultdict = defaultdict(int)

    @property
    def view(self) -> View:
        return self.state[0]

    @property
    def cache(self) -> dict:
        return self.state[1]

    def set_view(self, view: View) -> None:
        """A new view and an empty cache in one assignment: a listener thread in the middle of a
        miss stores its (old) decision in the old cache, which nobody reads any more."""
        self.state = (view, {})

    # -- hot path ---------------------------------------------------------------------------------
    def handle(self, data: bytes, ldns: str) -> bytes | None:
        self.queries += 1
        key = (data[2:], ldns)
        view, cache = self.state
        entry = cache.get(key)
        if entry is None or (entry[2] is not None and entry[2] <= self.now()):   # a persistence record ran out
            entry = self.build(data, ldns, view)
            if entry is None:
                return formerr(data)
            if len(cache) >= CACHE_MAX:
                cache.clear()
            cache[key] = entry
        rotation = entry[1]
        if len(rotation) == 1:
            i = 0
        else:
            i = entry[0] % len(rotation)
            entry[0] += 1
        out, key = rotation[i], entry[3][i]
        if key is not None:
            self.tally[key] += 1
        return None if out is None else data[:2] + out[2:]

    def wideip_stats(self) -> dict[str, dict[str, int]]:
        """"RTYPE NAME" -> TS's wide IP counters: requests, resolutions, dropped, returnToDns."""
        out: dict[str, dict[str, int]] = {}
        for key, n in list(self.tally.items()):
            wideip, outcome = key.rsplit(" ", 1)
            stats = out.setdefault(wideip, dict.fromkeys(OUTCOMES + ("requests",), 0))
            stats[outcome] += n
            stats["requests"] += n
        return out

    # -- a miss -----------------------------------------------------------------------------------
    def build(self, data: bytes, ldns: str, view: View | None = None) -> list | None:
        """[counter, rotation of response bytes (None: drop), when it expires (a persisted answer)
        or None, each answer's tally key (a wide IP's) or None], or None: malformed."""
        self.misses += 1
        view = view or self.view
        if len(data) >= 3 and data[2] & 0x80:
            return [0, [None], None, (None,)]   # a response sent to us: drop
        try:
            query = dns.message.from_wire(data)
        except (dns.exception.DNSException, ValueError, IndexError, struct.error):
            return None
        if query.opcode() != dns.opcode.QUERY:
            return [0, [self._wire(query, dns.rcode.NOTIMP)], None, (None,)]
        if len(query.question) != 1:
            return None
        q = query.question[0]
        qname = q.name.to_text(omit_final_dot=True).lower()
        wip = None
        if q.rdtype in RTYPE:
            wip = view.wideip(qname, RTYPE[q.rdtype])
        if wip is None:
            wip = view.wideip(qname, "cname")
        if wip is None:
            return [0, [self.from_zone(query, view.names(qname), view)], None, (None,)]
        rtype = "cname" if view.wideip(qname, RTYPE.get(q.rdtype, "")) is None else RTYPE[q.rdtype]
        ecs = next((o for o in query.options if isinstance(o, dns.edns.ECSOption)), None) if wip.prefer_ecs else None
        if ecs is not None:
            ldns = ecs.address   # the client's subnet stands for the LDNS (RFC 7871)
        rotation = lb.resolve_wideip(wip, view.pools_of(rtype), view.topology, ldns, view.pools_of("cname"))
        expires = None
        if wip.persist_ttl:
            outcome, expires = self.persistence.pick(wip, ldns, rotation, self.now())
            rotation = [outcome]
        zone_answer = None
        out, keys = [], []
        for outcome in rotation:
            if outcome == lb.DROP:
                out.append(None)
                keys.append(f"{rtype} {wip.name} dropped")
            elif outcome == lb.RETURN_TO_DNS:
                zone_answer = zone_answer or self.from_zone(query, False, view)
                out.append(zone_answer)
                keys.append(f"{rtype} {wip.name} returnToDns")
            else:
                out.append(self._wideip_answer(query, q.name, rtype, outcome, ecs))
                keys.append(f"{rtype} {wip.name} resolutions")
        return [0, out, expires, tuple(keys)]

    def _wideip_answer(self, query, qname, rtype: str, answer: lb.Answer, ecs=None) -> bytes:
        response = dns.message.make_response(query)
        if ecs is not None:   # say which client subnet the answer is for (scope = the source prefix)
            response.use_edns(0, options=[dns.edns.ECSOption(ecs.address, ecs.srclen, ecs.srclen)])
        response.flags |= dns.flags.AA
        cname = rtype == "cname" or answer.cname    # a CNAME pool answers an A or AAAA query with a CNAME
        rdtype = dns.rdatatype.CNAME if cname else {"a": dns.rdatatype.A, "aaaa": dns.rdatatype.AAAA}[rtype]
        texts = [d if not cname else d.rstrip(".") + "." for d in answer.data if d]
        if texts:
            response.answer.append(dns.rrset.from_text_list(qname, answer.ttl, dns.rdataclass.IN, rdtype, texts))
        return self._to_wire(response)

    def from_zone(self, query, wideip_name: bool = False, view: View | None = None) -> bytes:
        """BIND's answer from the zones; `wideip_name`: the name is a wide IP of another type
        (it exists: no data rather than NXDOMAIN)."""
        q = query.question[0]
        zone = zone_for(view or self.view, q.name)
        if zone is None:
            if wideip_name:
                return self._wire(query, dns.rcode.NOERROR, aa=True)
            return self._wire(query, dns.rcode.REFUSED)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        name, seen = q.name, 0
        while seen < 8:   # follow CNAMEs inside the zone
            seen += 1
            node = zone.nodes.get(name)
            if node is None:
                node, name = self._dname_or_wildcard(zone, name, response)
                if node is None:
                    break
            if q.rdtype == dns.rdatatype.ANY:
                response.answer += [self._named(r, name) for r in node.values()]
                return self._to_wire(response)
            if q.rdtype in node:
                response.answer.append(self._named(node[q.rdtype], name))
                return self._to_wire(response)
            cname = node.get(dns.rdatatype.CNAME)
            if cname is None:
                return self._negative(response, zone, dns.rcode.NOERROR)
            response.answer.append(self._named(cname, name))
            name = cname[0].target
            if not name.is_subdomain(zone.origin):
                return self._to_wire(response)
        return self._negative(response, zone, dns.rcode.NOERROR if wideip_name else dns.rcode.NXDOMAIN)

    @staticmethod
    def _named(rrset, name):
        if rrset.name == name:
            return rrset
        out = dns.rrset.RRset(name, rrset.rdclass, rrset.rdtype)
        out.update(rrset)
        out.ttl = rrset.ttl
        return out

    @staticmethod
    def _dname_or_wildcard(zone, name, response):
        """A DNAME above the name (synthesising the CNAME), or a wildcard `*.parent`."""
        parent = name
        while len(parent) > len(zone.origin):
            parent = parent.parent()
            node = zone.nodes.get(parent, {})
            dname = node.get(dns.rdatatype.DNAME)
            if dname is not None:
                response.answer.append(dname)
                target = name.relativize(parent).concatenate(dname[0].target)
                synth = dns.rrset.from_text(name, dname.ttl, dns.rdataclass.IN, dns.rdatatype.CNAME,
                                            target.to_text())
                response.answer.append(synth)
                return zone.nodes.get(target), target
            wild = zone.nodes.get(dns.name.Name((b"*",) + parent.labels))
            if wild is not None and len(name) == len(parent) + 1:
                return wild, name
        return None, name

    def _negative(self, response, zone, rcode) -> bytes:
        response.set_rcode(rcode)
        soa = zone.soa
        auth = dns.rrset.RRset(zone.origin, soa.rdclass, soa.rdtype)
        auth.update(soa)
        auth.ttl = min(soa.ttl, soa[0].minimum)
        response.authority.append(auth)
        return self._to_wire(response)

    def _wire(self, query, rcode, aa: bool = False) -> bytes:
        response = dns.message.make_response(query)
        response.set_rcode(rcode)
        if aa:
            response.flags |= dns.flags.AA
        return self._to_wire(response)

    @staticmethod
    def _to_wire(response) -> bytes:
        limit = max(512, response.request_payload or 0) if response.edns >= 0 else 512
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            response.flags |= dns.flags.TC
            response.answer, response.authority, response.additional = [], [], []
            return response.to_wire()
