"""GTM objects in the one object model: F5's tmsh syntax, checks, and the GTM sync scope."""
import json
import re

import pytest

from node.config.schema import full_path
from node.config.store import ConfigError, ConfigStore, Op
from node.config.tmsh import TmshSyntaxError, parse, render

ZONE = ['"@ 3600 IN SOA ns1 hostmaster 1 3600 600 86400 60"', '"@ IN NS ns1"', '"ns1 IN A 10.30.0.53"']


def run(store, line):
    cmd = parse(line)
    path = cmd.name if cmd.type in ("gtm topology", "gtm global-settings") else \
        full_path(cmd.name, wild=cmd.type.startswith("gtm wideip"))
    return store.commit([Op(cmd.verb, cmd.type, path, cmd.values)])


@pytest.fixture
def store(tmp_path):
    s = ConfigStore(tmp_path / "running.json", "gtm1", now=lambda: 1000.0)
    for line in ("create gtm datacenter nyc", "create gtm datacenter lon",
                 "create gtm server ltm-nyc datacenter nyc addresses add { 10.3.1.21 { device-name ltm-nyc } } "
                 "virtual-servers add { vs_www { destination 10.3.1.100:80 } }",
                 "create gtm server web-lon datacenter lon product generic-host addresses add { 10.10.2.5 } "
                 "virtual-servers add { vs1 { destination 10.10.2.100:80 } }",
                 "create gtm pool a P1 members add { ltm-nyc:vs_www web-lon:vs1 } load-balancing-mode topology",
                 "create gtm pool a P2 members add { web-lon:vs1 }",
                 "create gtm region R-A region-members add { subnet 10.0.0.0/16 not subnet 10.0.1.0/24 }"):
        run(s, line)
    return s


def test_objects_made_with_f5_syntax_are_listed_back(store):
    run(store, "create gtm wideip a www.example.com pool-lb-mode topology pools add { P1 P2 } last-resort-pool a P2")
    text = render("gtm wideip a", "/Common/www.example.com", store.get("gtm wideip a", "/Common/www.example.com"))
    assert "pool-lb-mode topology" in text and "P1 { order 0 }" not in text and "P2 { order 1 }" in text
    assert "last-resort-pool a P2" in text       # with the pool's type, as F5 lists it
    pool = store.get("gtm pool a", "/Common/P1")
    assert "web-lon:vs1 { member-order 1 }" in render("gtm pool a", "/Common/P1", pool)
    assert [m["name"] for m in pool["members"]] == ["/Common/ltm-nyc:vs_www", "/Common/web-lon:vs1"]
    assert pool["ttl"] == 30 and pool["alternate-mode"] == "round-robin" and pool["fallback-mode"] == "return-to-dns"
    region = store.get("gtm region", "/Common/R-A")
    assert region["region-members"] == ["subnet 10.0.0.0/16", "not subnet 10.0.1.0/24"]
    assert "not subnet 10.0.1.0/24 { }" in render("gtm region", "/Common/R-A", region)


def test_a_topology_record_is_named_by_its_ldns_and_server_sides(store):
    run(store, "create gtm topology ldns: subnet 10.0.0.5/24 server: pool /Common/P1 score 30")
    run(store, "create gtm topology ldns: not region R-A server: datacenter nyc")
    names = list(store.of_type("gtm topology"))
    assert names == ["ldns: subnet 10.0.0.0/24 server: pool /Common/P1",
                     "ldns: not region /Common/R-A server: datacenter /Common/nyc"]
    first, second = store.of_type("gtm topology").values()
    assert (first["score"], first["order"], second["score"], second["order"]) == (30, 1, 1, 2)
    run(store, "modify gtm topology ldns: subnet 10.0.0.0/24 server: pool /Common/P1 score 5")
    assert store.get("gtm topology", names[0])["score"] == 5
    run(store, "delete gtm topology ldns: subnet 10.0.0.0/24 server: pool /Common/P1")
    assert names[0] not in store.of_type("gtm topology")


def test_location_terms_are_stored_and_listed_as_f5_lists_them(store):
    run(store, 'create gtm region R-G region-members add { state "US/New Hampshire" not geoip-isp "Some ISP" '
               'isp Comcast country DE continent -- }')
    run(store, 'create gtm topology ldns: state "US/New Hampshire" server: pool P1')
    region = store.get("gtm region", "/Common/R-G")
    assert region["region-members"] == ['state "US/New Hampshire"', 'not geoip-isp "Some ISP"', "isp /Common/Comcast",
                                        "country DE", "continent --"]
    assert 'state "US/New Hampshire" { }' in render("gtm region", "/Common/R-G", region)
    assert list(store.of_type("gtm topology")) == ['ldns: state "US/New Hampshire" server: pool /Common/P1']


def test_gtm_rules_and_prober_pools_are_stored_checked_and_in_use(store):
    run(store, 'create gtm rule log_q { when DNS_REQUEST { log local0. "q [DNS::question name]" } }')
    run(store, "create gtm wideip a r.example.com pools add { P1 } rules { log_q }")
    wip = store.get("gtm wideip a", "/Common/r.example.com")
    assert wip["rules"] == ["/Common/log_q"]
    assert "    rules {\n        log_q\n    }\n" in render("gtm wideip a", "/Common/r.example.com", wip)
    assert render("gtm rule", "/Common/log_q", store.get("gtm rule", "/Common/log_q")).startswith(
        "gtm rule log_q {\n when DNS_REQUEST {")
    run(store, "create gtm prober-pool probers load-balancing-mode round-robin members add { ltm-nyc { order 0 } }")
    run(store, "modify gtm server web-lon prober-pool probers prober-preference pool")
    assert store.get("gtm prober-pool", "/Common/probers")["members"][0]["name"] == "/Common/ltm-nyc"
    assert store.get("gtm server", "/Common/web-lon")["prober-pool"] == "/Common/probers"
    for line, message in (("create gtm rule bad { when HTTP_REQUEST { } }", "unknown event (HTTP_REQUEST)"),
                          ("delete gtm rule log_q", "in use by a Wide IP"),
                          ("create gtm prober-pool p2 members add { nosuch }", "Server (/Common/nosuch)"),
                          ("delete gtm prober-pool probers", "in use by a Server (/Common/web-lon)")):
        with pytest.raises(ConfigError, match=re.escape(message)):
            run(store, line)


def test_global_settings_take_the_load_balancing_group(store):
    assert store.get("gtm global-settings", "/Common/global-settings")["topology-longest-match"] == "yes"
    run(store, "modify gtm global-settings load-balancing topology-longest-match no")
    run(store, "modify gtm global-settings general { synchronization yes }")
    v = store.get("gtm global-settings", "/Common/global-settings")
    assert (v["topology-longest-match"], v["synchronization"]) == ("no", "yes")


def test_gtm_changes_are_the_sync_groups_not_the_device_groups(store, tmp_path):
    assert store.cid is None and store.gtm_gen[0] > 0
    peer = ConfigStore(tmp_path / "peer.json", "gtm2")
    assert peer.apply_shared("gtm", store.snapshot("gtm"), store.gtm_gen)
    assert peer.get("gtm pool a", "/Common/P1") == store.get("gtm pool a", "/Common/P1")
    assert not peer.apply_shared("gtm", store.snapshot("gtm"), store.gtm_gen)   # not newer
    run(peer, "create gtm datacenter sgp")   # the peer's newer change wins the other way
    assert peer.gtm_gen > store.gtm_gen
    assert store.apply_shared("gtm", peer.snapshot("gtm"), peer.gtm_gen)
    assert store.get("gtm datacenter", "/Common/sgp") is not None


@pytest.mark.parametrize("line, message", [
    ("create gtm server x datacenter nowhere addresses add { 1.1.1.1 }", "The requested Datacenter (/Common/nowhere)"),
    ("create gtm server x datacenter nyc", "requires at least one address"),
    ("create gtm pool a P3 members add { nosuch:vs }", "The requested Server (/Common/nosuch) was not found"),
    ("create gtm pool a P3 members add { web-lon:nosuch }", "Virtual Server (/Common/web-lon:nosuch)"),
    ("create gtm pool a P3 load-balancing-mode cpu", "load-balancing-mode cpu is not emulated"),
    ("create gtm pool a P3 load-balancing-mode fastest", '"fastest" is not one of'),
    ("create gtm wideip a w.example.com pools add { NOPE }", "The requested Pool (/Common/NOPE) was not found"),
    ("create gtm topology ldns: region NOPE server: pool P1", "The requested Region (/Common/NOPE)"),
    ("create gtm topology ldns: datacenter nyc server: pool P1", "an LDNS is not matched by datacenter"),
    ("create gtm region R-B region-members add { region R-B }", "contains itself"),
    ("delete gtm datacenter nyc", "in use by a Server (/Common/ltm-nyc)"),
    ("delete gtm server web-lon", "in use by a Pool"),
    ("delete gtm global-settings", "built-in"),
    ("create gtm zone example.com records add { " + " ".join(ZONE) + ' "www IN CNAME a" "www IN A 1.1.1.1" }',
     "CNAME and other data"),
    ("create gtm zone example.com records add { " + " ".join(ZONE[:2]) + " }", "has no address records"),
    ("create gtm zone example.com records add { " + " ".join(ZONE[1:]) + " }", "has 0 SOA records"),
])
def test_a_refused_gtm_change_says_why_and_changes_nothing(store, line, message):
    before = json.loads(store.path.read_text())
    with pytest.raises((ConfigError, TmshSyntaxError)) as err:
        run(store, line)
    assert message in str(err.value)
    assert json.loads(store.path.read_text()) == before


def test_a_refused_zone_change_leaves_the_zone_as_it_was(store):
    run(store, "create gtm zone example.com records add { " + " ".join(ZONE) + ' "www IN A 10.1.1.1" }')
    before = store.get("gtm zone", "/Common/example.com")["records"]
    with pytest.raises(ConfigError, match="multiple RRs of singleton type"):
        run(store, 'modify gtm zone example.com records add { "@ IN SOA ns2 h 2 1 1 1 1" }')
    assert store.get("gtm zone", "/Common/example.com")["records"] == before
    run(store, 'modify gtm zone example.com records delete { "www IN A 10.1.1.1" }')
    assert "www IN A 10.1.1.1" not in store.get("gtm zone", "/Common/example.com")["records"]


def test_wide_ip_names_take_wildcards_other_names_do_not(store):
    run(store, "create gtm wideip a *.apps.example.com pools add { P2 }")
    with pytest.raises(ConfigError, match="invalid name"):
        run(store, "create gtm pool a P* ")
