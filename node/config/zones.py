"""ZoneRunner zones: records checked as named-checkzone (BIND 9.18) would, and answered from.

A zone is a list of zone-file lines relative to the zone's origin (`www 300 IN A 10.1.1.1`,
`@ IN MX 10 mail`). validate() refuses what BIND refuses to load, with BIND's words:
  CNAME and other data at a name              "CNAME and other data"
  two SOA or two CNAME at a name              "multiple RRs of singleton type"
  no SOA / no NS at the apex                  "has 0 SOA records" / "has no NS records"
  an in-zone apex NS target without address   "NS 'ns1.example.com' has no address records (A or AAAA)"
and returns warnings for what BIND only warns about (MX/SRV target is a CNAME; records outside the
zone are ignored; duplicates are merged).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import dns.exception
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zonefile

SINGLETON = (dns.rdatatype.SOA, dns.rdatatype.CNAME)
SUPPORTED = {dns.rdatatype.from_text(t) for t in
             ("SOA", "NS", "A", "AAAA", "CNAME", "MX", "SRV", "TXT", "PTR", "NAPTR", "DNAME", "HINFO")}
DEFAULT_TTL = 3600


class ZoneError(Exception):
    """The zone would not load; the message is BIND's reason."""


@dataclass
class Zone:
    origin: dns.name.Name
    nodes: dict = field(default_factory=dict)    # name -> {rdtype: RRset}
    warnings: list = field(default_factory=list)

    @property
    def soa(self) -> dns.rrset.RRset:
        return self.nodes[self.origin][dns.rdatatype.SOA]


def _rrsets(origin: dns.name.Name, records: list[str]) -> list[dns.rrset.RRset]:
    out = []
    for line in records:
        if not line.strip():
            continue
        try:
            out += dns.zonefile.read_rrsets(line, origin=origin, relativize=False, default_ttl=DEFAULT_TTL,
                                            rdclass=None)
        except (dns.exception.DNSException, ValueError) as exc:
            raise ZoneError(f"{line!r}: {exc}") from None
    return out


def load(name: str, records: list[str]) -> Zone:
    """Build a zone from its records, as named would load it, or raise ZoneError."""
    try:
        origin = dns.name.from_text(name)
    except dns.exception.DNSException as exc:
        raise ZoneError(f"{name!r} is not a zone name: {exc}") from None
    zone = Zone(origin)
    where = origin.to_text(omit_final_dot=True)
    rrsets = _rrsets(origin, records)   # first: a malformed owner name is the line's ZoneError
    for line in records:
        first = line.split()[0] if line.split() else ""
        if not first.endswith("."):
            continue
        try:
            owner = dns.name.from_text(first)
        except dns.exception.DNSException:
            continue   # no owner name but a comment (`; www.example.org.`): nothing to warn about
        if not owner.is_subdomain(origin):
            zone.warnings.append(f"{where}/IN: ignoring out-of-zone data ({first})")
    for rrset in rrsets:
        if rrset.rdclass != dns.rdataclass.IN:
            raise ZoneError(f"{rrset.name}: class {dns.rdataclass.to_text(rrset.rdclass)} is not IN")
        if rrset.rdtype not in SUPPORTED:
            raise ZoneError(f"{rrset.name}: type {dns.rdatatype.to_text(rrset.rdtype)} is not supported")
        node = zone.nodes.setdefault(rrset.name, {})
        have = node.get(rrset.rdtype)
        if have is None:
            node[rrset.rdtype] = rrset
            continue
        if rrset.rdtype in SINGLETON and any(rd not in have for rd in rrset):
            raise ZoneError(f"{rrset.name}: multiple RRs of singleton type")
        have.union_update(rrset)   # a duplicate record is merged
    for name_, node in zone.nodes.items():
        if dns.rdatatype.CNAME in node and len(node) > 1:
            raise ZoneError(f"{name_}: CNAME and other data")
        if dns.rdatatype.SOA in node and name_ != origin:
            raise ZoneError(f"{name_}: SOA record not at top of zone")
    apex = zone.nodes.get(origin, {})
    if dns.rdatatype.SOA not in apex:
        raise ZoneError(f"zone {where}/IN: has 0 SOA records")
    if dns.rdatatype.NS not in apex:
        raise ZoneError(f"zone {where}/IN: has no NS records")
    for ns in apex[dns.rdatatype.NS]:
        target = ns.target
        if target.is_subdomain(origin):
            tnode = zone.nodes.get(target, {})
            if dns.rdatatype.A not in tnode and dns.rdatatype.AAAA not in tnode:
                raise ZoneError(f"zone {where}/IN: NS '{target.to_text(omit_final_dot=True)}' has no address "
                                "records (A or AAAA)")
    for name_, node in zone.nodes.items():
        for rdtype, label in ((dns.rdatatype.MX, "MX"), (dns.rdatatype.SRV, "SRV")):
            for rd in node.get(rdtype, ()):
                target = rd.exchange if rdtype == dns.rdatatype.MX else rd.target
                if dns.rdatatype.CNAME in zone.nodes.get(target, {}):
                    zone.warnings.append(f"zone {where}/IN: {name_.to_text(omit_final_dot=True)}/{label} "
                                         f"'{target.to_text(omit_final_dot=True)}' is a CNAME (illegal)")
    return zone


def validate(name: str, records: list[str]) -> list[str]:
    """named-checkzone: raises ZoneError when the zone would not load; returns the warnings."""
    return load(name, records).warnings
