"""Topology scoring exactly as seed 003 and F5's docs describe (pure functions, no I/O)."""
import ipaddress

import pytest

from node.gtm.topology import Dest, Record, Regions, Topology, longest_match_order

P1, P2 = "/Common/APP1-POOL1", "/Common/APP1-POOL2"
POOLS = [Dest(pool=P1), Dest(pool=P2)]
REGIONS = Regions({
    "/Common/REGION-A": ["subnet 10.0.0.0/8"],
    "/Common/REGION-B": ["subnet 10.1.0.0/16"],
    "/Common/REGION-C": ["subnet 10.1.1.0/24", "not subnet 10.0.0.0/8"],
    "/Common/PARENT": ["region /Common/REGION-B", "subnet 192.168.0.0/16"],
})
LDNS = "10.1.1.5"   # in REGION-A and REGION-B, explicitly listed (but excluded) in REGION-C


def records(*rows, **kw):
    return Topology([Record.parse(f"ldns: region /Common/{src} server: pool /Common/{dst}", score, i)
                     for i, (src, dst, score) in enumerate(rows, 1)], REGIONS, **kw)


def test_an_exclusion_inside_a_region_beats_a_more_specific_inclusion():
    ip = ipaddress.ip_address(LDNS)
    assert not REGIONS.has_ip("/Common/REGION-C", ip)
    assert REGIONS.has_ip("/Common/REGION-A", ip) and REGIONS.has_ip("/Common/REGION-B", ip)


def test_a_nested_region_counts_as_if_its_members_were_listed_in_the_parent():
    assert REGIONS.has_ip("/Common/PARENT", ipaddress.ip_address("10.1.200.1"))
    assert REGIONS.has_ip("/Common/PARENT", ipaddress.ip_address("192.168.3.3"))
    assert not REGIONS.has_ip("/Common/PARENT", ipaddress.ip_address("10.2.0.1"))


def test_equal_highest_scores_tie_and_are_served_round_robin():
    topo = records(("REGION-A", "APP1-POOL1", 10), ("REGION-B", "APP1-POOL2", 10))
    assert topo.scores(LDNS, POOLS, "wideip") == [10, 10]
    assert topo.best(LDNS, POOLS, "wideip") == [0, 1]


def test_first_matching_record_sets_the_destination_score():
    # the seed's four records: POOL2 gets 20 from the first, its later 40 is never used
    topo = records(("REGION-B", "APP1-POOL2", 20), ("REGION-A", "APP1-POOL1", 30),
                   ("REGION-A", "APP1-POOL2", 40), ("REGION-B", "APP1-POOL1", 10))
    assert topo.scores(LDNS, POOLS, "wideip") == [30, 20]
    assert topo.best(LDNS, POOLS, "wideip") == [0]


def test_removing_the_record_that_scored_pool1_lets_its_later_lower_record_count():
    topo = records(("REGION-B", "APP1-POOL2", 20), ("REGION-A", "APP1-POOL2", 40),
                   ("REGION-B", "APP1-POOL1", 10))
    assert topo.scores(LDNS, POOLS, "wideip") == [10, 20]
    assert topo.best(LDNS, POOLS, "wideip") == [1]


def test_no_matching_record_scores_zero_and_the_method_cannot_pick():
    topo = records(("REGION-C", "APP1-POOL1", 100))
    assert topo.scores(LDNS, POOLS, "wideip") == [0, 0]
    assert topo.best(LDNS, POOLS, "wideip") == []


def test_longest_match_sorts_source_subnets_by_mask_length():
    short = Record.parse("ldns: subnet 10.0.0.0/8 server: pool /Common/APP1-POOL1", 50, 1)
    long = Record.parse("ldns: subnet 10.1.1.0/24 server: pool /Common/APP1-POOL1", 5, 2)
    assert Topology([short, long]).scores(LDNS, POOLS) == [5, 0]
    assert Topology([short, long], longest_match=False).scores(LDNS, POOLS) == [50, 0]


def test_longest_match_treats_a_region_as_one_entity():
    # REGION-A matched through a /8 and REGION-B through a /16: equal rank, creation order stands
    topo = records(("REGION-A", "APP1-POOL1", 10), ("REGION-B", "APP1-POOL1", 99))
    assert topo.scores(LDNS, POOLS) == [10, 0]


def test_longest_match_order_subnet_before_region_before_negated():
    rs = [Record.parse("ldns: not subnet 1.0.0.0/8 server: pool /Common/A", 1, 1),
          Record.parse("ldns: region /Common/REGION-A server: pool /Common/A", 1, 2),
          Record.parse("ldns: subnet 10.0.0.0/8 server: pool /Common/A", 1, 3),
          Record.parse("ldns: subnet 10.1.0.0/16 server: datacenter /Common/nyc", 1, 4),
          Record.parse("ldns: subnet 10.1.0.0/16 server: subnet 10.9.9.0/24", 1, 5)]
    assert [r.order for r in longest_match_order(rs)] == [5, 4, 3, 2, 1]


def test_negation_on_either_side():
    rs = [Record.parse("ldns: not region /Common/REGION-B server: pool /Common/APP1-POOL1", 10, 1),
          Record.parse("ldns: region /Common/REGION-B server: not pool /Common/APP1-POOL1", 20, 2)]
    topo = Topology(rs, REGIONS)
    assert topo.scores(LDNS, POOLS) == [0, 20]
    assert topo.scores("172.16.0.1", POOLS) == [10, 0]


def test_datacenter_destinations_apply_only_when_a_pool_picks_members():
    topo = Topology([Record.parse("ldns: subnet 10.0.0.0/8 server: datacenter /Common/nyc", 10, 1)])
    members = [Dest(pool=P1, datacenter="/Common/nyc", address=ipaddress.ip_address("10.10.1.100")),
               Dest(pool=P1, datacenter="/Common/lon", address=ipaddress.ip_address("10.10.2.100"))]
    assert topo.scores(LDNS, members, "pool") == [10, 0]
    assert topo.scores(LDNS, [Dest(pool=P1, datacenter="/Common/nyc")], "wideip") == [0]


def test_region_destinations_match_datacenters_pools_and_member_subnets():
    regions = Regions({"/Common/EU": ["datacenter /Common/lon", "subnet 10.10.3.0/24"]})
    topo = Topology([Record.parse("ldns: subnet 10.0.0.0/8 server: region /Common/EU", 7, 1)], regions)
    members = [Dest(pool=P1, datacenter="/Common/lon"), Dest(pool=P1, address=ipaddress.ip_address("10.10.3.9")),
               Dest(pool=P1, datacenter="/Common/nyc")]
    assert topo.scores(LDNS, members) == [7, 7, 0]


@pytest.mark.parametrize("ldns, expected", [("10.1.1.5", [30, 0]), ("10.2.0.1", [30, 0]), ("11.0.0.1", [0, 0])])
def test_subnet_sources(ldns, expected):
    topo = Topology([Record.parse("ldns: subnet 10.0.0.0/8 server: pool /Common/APP1-POOL1", 30, 1)])
    assert topo.scores(ldns, POOLS) == expected


def test_location_terms_never_match_a_lab_client_and_their_not_form_always_does():
    topo = Topology([Record.parse(f'ldns: state "US/New Hampshire" server: pool {P1}', 50, 1),
                     Record.parse(f"ldns: country DE server: pool {P1}", 40, 2),
                     Record.parse(f"ldns: not country DE server: pool {P2}", 30, 3)])
    assert topo.scores(LDNS, POOLS, "wideip") == [0, 30]
    geo = Regions({"/Common/G": ["isp /Common/Comcast", 'geoip-isp "x y"', "continent --"]})
    assert not geo.has_ip("/Common/G", ipaddress.ip_address(LDNS))
