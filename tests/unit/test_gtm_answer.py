"""The DNS answerer on the wire: wide IPs, zone data, NXDOMAIN, REFUSED, FORMERR, the cache."""
import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from node.config.schema import full_path
from node.config.store import ConfigStore, Op
from node.config.tmsh import parse
from node.gtm.answer import Answerer
from node.gtm.health import HealthTable
from node.gtm.view import compile_view

CONFIG = [
    "create gtm datacenter nyc", "create gtm datacenter lon",
    "create gtm server s-nyc datacenter nyc product generic-host addresses add { 10.10.1.5 } "
    "virtual-servers add { vs { destination 10.10.1.100:80 } }",
    "create gtm server s-lon datacenter lon product generic-host addresses add { 10.10.2.5 } "
    "virtual-servers add { vs { destination 10.10.2.100:80 } }",
    "create gtm server ltm-sgp datacenter lon addresses add { 10.3.1.23 } virtual-server-discovery enabled",
    "create gtm pool a www members add { s-nyc:vs s-lon:vs } load-balancing-mode topology ttl 17",
    "create gtm pool a sgp members add { ltm-sgp:vs_www }",
    "create gtm wideip a www.example.com pools add { www } aliases add { www.example.net }",
    "create gtm wideip a *.apps.example.com pools add { www }",
    "create gtm wideip a dark.example.com pools add { sgp }",
    "create gtm topology ldns: subnet 10.20.1.0/24 server: datacenter nyc score 100",
    "create gtm topology ldns: subnet 10.20.2.0/24 server: datacenter lon score 100",
    'create gtm zone example.com records add { "@ 3600 IN SOA ns1 hostmaster 1 3600 600 86400 60" '
    '"@ IN NS ns1" "ns1 IN A 10.30.0.53" "mail 300 IN A 10.40.0.25" "@ IN MX 10 mail" '
    '"alias IN CNAME mail" "old IN DNAME new.example.org." "txt IN TXT \\"hello world\\"" }',
]


@pytest.fixture
def answerer():
    return build_answerer()


def build_answerer() -> Answerer:
    """An answerer over CONFIG (also what the DNS fuzz harness asks)."""
    store = ConfigStore(None, "gtm1")
    for line in CONFIG:
        cmd = parse(line)
        path = cmd.name if cmd.type == "gtm topology" else full_path(cmd.name, wild=cmd.type.startswith("gtm wideip"))
        store.commit([Op(cmd.verb, cmd.type, path, cmd.values)])
    return Answerer(compile_view(store.objects, HealthTable(), 0.0, lambda peer: False))


def ask(answerer, name, rdtype="A", ldns="10.20.1.9", qid=4242):
    q = dns.message.make_query(name, rdtype)
    q.id = qid
    wire = answerer.handle(q.to_wire(), ldns)
    return dns.message.from_wire(wire)


def addresses(r):
    return [rd.to_text() for rrset in r.answer for rd in rrset]


def test_a_wide_ip_answers_by_topology_with_the_pools_ttl(answerer):
    r = ask(answerer, "www.example.com", ldns="10.20.1.9")
    assert addresses(r) == ["10.10.1.100"] and r.answer[0].ttl == 17 and r.flags & dns.flags.AA
    assert addresses(ask(answerer, "www.example.com", ldns="10.20.2.9")) == ["10.10.2.100"]
    assert addresses(ask(answerer, "WWW.Example.NET.", ldns="10.20.2.9")) == ["10.10.2.100"]   # an alias
    assert addresses(ask(answerer, "x.apps.example.com", ldns="10.20.2.9")) == ["10.10.2.100"]  # wildcard


def test_the_cached_answer_keeps_each_querys_id(answerer):
    assert ask(answerer, "www.example.com", qid=1).id == 1
    assert ask(answerer, "www.example.com", qid=2).id == 2
    assert answerer.misses == 1


def test_zone_data_answers_names_that_are_not_wide_ips(answerer):
    assert addresses(ask(answerer, "mail.example.com")) == ["10.40.0.25"]
    assert addresses(ask(answerer, "example.com", "MX")) == ["10 mail.example.com."]
    assert addresses(ask(answerer, "alias.example.com")) == ["mail.example.com.", "10.40.0.25"]
    assert addresses(ask(answerer, "txt.example.com", "TXT")) == ['"hello world"']
    r = ask(answerer, "x.old.example.com", "A")
    assert r.answer[1].rdtype == dns.rdatatype.CNAME and addresses(r)[1] == "x.new.example.org."


def test_nxdomain_comes_from_the_zones_authority(answerer):
    r = ask(answerer, "nosuch.example.com")
    assert r.rcode() == dns.rcode.NXDOMAIN and r.authority[0].rdtype == dns.rdatatype.SOA
    r = ask(answerer, "mail.example.com", "AAAA")     # the name exists: NODATA
    assert r.rcode() == dns.rcode.NOERROR and not r.answer and r.authority


def test_names_outside_every_zone_are_refused(answerer):
    assert ask(answerer, "www.elsewhere.org").rcode() == dns.rcode.REFUSED


def test_a_wide_ip_with_no_available_pool_returns_to_dns(answerer):
    # dark.example.com's only member is on an LTM we have no iQuery data from: unknown, not a candidate
    assert ask(answerer, "dark.example.com").rcode() == dns.rcode.NXDOMAIN


@pytest.mark.parametrize("junk", [b"", b"\x00", b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03ww",
                                  b"\xff" * 40])
def test_malformed_queries_get_formerr_or_nothing(answerer, junk):
    out = answerer.handle(junk, "10.20.1.9")
    if out is not None:
        r = dns.message.from_wire(out, question_only=True)
        assert r.rcode() == dns.rcode.FORMERR and r.id == int.from_bytes(junk[:2], "big")
    assert addresses(ask(answerer, "www.example.com")) == ["10.10.1.100"]   # still answering


def _store(lines):
    store = ConfigStore(None, "gtm1")
    for line in CONFIG + lines:
        cmd = parse(line)
        path = cmd.name if cmd.type == "gtm topology" else full_path(cmd.name, wild=cmd.type.startswith("gtm wideip"))
        store.commit([Op(cmd.verb, cmd.type, path, cmd.values)])
    return store


def test_persistence_keeps_an_ldns_network_on_its_answer_for_ttl_persistence():
    store = _store(["create gtm pool a rr members add { s-nyc:vs s-lon:vs }",
                    "create gtm wideip a app.example.com pools add { rr } persistence enabled ttl-persistence 60 "
                    "persist-cidr-ipv4 24"])
    clock = [0.0]
    a = Answerer(compile_view(store.objects, HealthTable(), 0.0, lambda peer: False), now=lambda: clock[0])
    first = addresses(ask(a, "app.example.com", ldns="10.50.0.1"))
    assert all(addresses(ask(a, "app.example.com", ldns="10.50.0.1")) == first for _ in range(4))
    assert addresses(ask(a, "app.example.com", ldns="10.50.0.77")) == first      # the same /24
    other = addresses(ask(a, "app.example.com", ldns="10.60.0.1"))
    assert other != first                                                       # a new LDNS: the next one
    assert addresses(ask(a, "app.example.com", ldns="10.70.0.1")) == first      # and the next
    clock[0] = 61.0
    assert addresses(ask(a, "app.example.com", ldns="10.50.0.1")) != first      # expired: picked again


def test_cname_and_aaaa_wide_ips():
    store = _store(["create gtm server v6 datacenter nyc product generic-host addresses add { 2001:db8::5 } "
                    "virtual-servers add { vs6 { destination 2001:db8::100.80 } }",
                    "create gtm pool aaaa P6 members add { v6:vs6 }",
                    "create gtm wideip aaaa www.example.com pools add { P6 }",
                    "create gtm pool cname C members add { www.example.org }",
                    "create gtm wideip cname go.example.com pools add { C }"])
    a = Answerer(compile_view(store.objects, HealthTable(), 0.0, lambda peer: False))
    assert addresses(ask(a, "www.example.com", "AAAA")) == ["2001:db8::100"]
    r = ask(a, "go.example.com", "A")
    assert addresses(r) == ["www.example.org."] and r.answer[0].rdtype == dns.rdatatype.CNAME


def test_a_cname_pool_on_an_a_wide_ip_answers_with_a_cname_when_it_is_picked():
    store = _store(["create gtm pool cname away members add { www.example.org }",
                    "create gtm pool a gone members add { s-nyc:vs } status disabled",
                    "create gtm wideip a moved.example.com pool-lb-mode global-availability "
                    "pools add { gone { order 0 } } pools-cname add { away { order 1 } }"])
    a = Answerer(compile_view(store.objects, HealthTable(), 0.0, lambda peer: False))
    r = ask(a, "moved.example.com", "A")      # its A pool is unavailable: the CNAME pool, next in order
    assert addresses(r) == ["www.example.org."] and r.answer[0].rdtype == dns.rdatatype.CNAME
    store.commit([Op("modify", "gtm pool a", "/Common/gone", {"status": ("set", "enabled")})])
    a = Answerer(compile_view(store.objects, HealthTable(), 0.0, lambda peer: False))
    assert addresses(ask(a, "moved.example.com", "A")) == ["10.10.1.100"]


def test_the_edns_client_subnet_stands_for_the_ldns_when_the_wide_ip_prefers_it():
    store = _store(["modify gtm wideip a www.example.com topology-prefer-edns0-client-subnet enabled"])
    a = Answerer(compile_view(store.objects, HealthTable(), 0.0, lambda peer: False))
    q = dns.message.make_query("www.example.com", "A", use_edns=0,
                               options=[dns.edns.ECSOption("10.20.2.0", 24)])
    r = dns.message.from_wire(a.handle(q.to_wire(), "10.20.1.9"))    # sent by nyc's LDNS for a lon client
    assert addresses(r) == ["10.10.2.100"]
    assert r.options[0].address == "10.20.2.0" and r.options[0].scopelen == 24
    assert addresses(ask(a, "www.example.com", ldns="10.20.1.9")) == ["10.10.1.100"]   # no ECS: the source


def test_each_wide_ip_counts_its_requests_and_answers_cached_or_not(answerer):
    for qid in (1, 2, 3):   # one miss, two cached answers
        ask(answerer, "www.example.com", qid=qid)
    ask(answerer, "nosuch.example.com")   # not a wide IP: no wide IP counts it
    assert answerer.wideip_stats() == {"a www.example.com": {"requests": 3, "resolutions": 3, "dropped": 0,
                                                             "returnToDns": 0}}
