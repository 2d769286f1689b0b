"""GTM load balancing: the preferred -> alternate -> fallback chain and the wide IP modes."""
from node.gtm.lb import DROP, RETURN_TO_DNS, Answer, Member, Picker, Pool, PoolRef, WideIP, resolve_pool, resolve_wideip, weighted
from node.gtm.topology import Record, Topology

NYC = Member("/Common/ltm-nyc:vs", "10.10.1.100", "/Common/nyc", order=0)
LON = Member("/Common/ltm-lon:vs", "10.10.2.100", "/Common/lon", order=1)
SGP = Member("/Common/ltm-sgp:vs", "10.10.3.100", "/Common/sgp", order=2)
TOPO = Topology([Record.parse("ldns: subnet 10.20.1.0/24 server: datacenter /Common/nyc", 100, 1),
                 Record.parse("ldns: subnet 10.20.1.0/24 server: datacenter /Common/lon", 50, 2),
                 Record.parse("ldns: subnet 10.20.3.0/24 server: datacenter /Common/sgp", 100, 3)])


def data(rotation):
    return [o.data[0] if isinstance(o, Answer) else o for o in rotation]


def down(m):
    return Member(m.name, m.data, m.datacenter, available=False, order=m.order)


def test_round_robin_cycles_the_available_members():
    pool = Pool("/Common/P", (NYC, down(LON), SGP))
    assert data(resolve_pool(pool, None, "10.20.1.5")) == ["10.10.1.100", "10.10.3.100"]


def test_topology_picks_the_nearest_available_datacenter():
    pool = Pool("/Common/P", (NYC, LON, SGP), mode="topology")
    assert data(resolve_pool(pool, TOPO, "10.20.1.5")) == ["10.10.1.100"]
    pool = Pool("/Common/P", (down(NYC), LON, SGP), mode="topology")
    assert data(resolve_pool(pool, TOPO, "10.20.1.5")) == ["10.10.2.100"]


def test_topology_without_a_match_hands_on_to_the_alternate_method():
    pool = Pool("/Common/P", (NYC, LON, SGP), mode="topology", alternate="global-availability")
    assert data(resolve_pool(pool, TOPO, "10.99.0.1")) == ["10.10.1.100"]


def test_no_available_member_falls_back_to_return_to_dns_by_default():
    pool = Pool("/Common/P", (down(NYC), down(LON)))
    assert resolve_pool(pool, None, "10.20.1.5") == [RETURN_TO_DNS]


def test_fallback_methods_end_the_chain():
    members = (down(NYC),)
    assert resolve_pool(Pool("/Common/P", members, fallback="drop-packet"), None, "1.1.1.1") == [DROP]
    assert data(resolve_pool(Pool("/Common/P", members, fallback="fallback-ip", fallback_ip="10.9.9.9"),
                             None, "1.1.1.1")) == ["10.9.9.9"]
    assert resolve_pool(Pool("/Common/P", members, fallback="none"), None, "1.1.1.1") is None


def test_none_skips_to_the_next_method():
    pool = Pool("/Common/P", (NYC, LON), mode="topology", alternate="none", fallback="ratio")
    assert data(resolve_pool(pool, TOPO, "10.99.0.1")) == ["10.10.1.100", "10.10.2.100"]


def test_verify_member_availability_off_keeps_unavailable_members():
    pool = Pool("/Common/P", (down(NYC),), verify=False)
    assert data(resolve_pool(pool, None, "1.1.1.1")) == ["10.10.1.100"]


def test_ratio_and_least_connections():
    a = Member("/Common/s:a", "10.0.0.1", ratio=3)
    b = Member("/Common/s:b", "10.0.0.2", ratio=1, order=1)
    assert sorted(data(resolve_pool(Pool("/Common/P", (a, b), mode="ratio"), None, "1.1.1.1"))) == \
        ["10.0.0.1"] * 3 + ["10.0.0.2"]
    busy = Member("/Common/s:a", "10.0.0.1", connections=9)
    idle = Member("/Common/s:b", "10.0.0.2", connections=1, order=1)
    assert data(resolve_pool(Pool("/Common/P", (busy, idle), mode="least-connections"), None, "1.1.1.1")) == ["10.0.0.2"]


def test_max_answers_returned_adds_the_next_available_members():
    pool = Pool("/Common/P", (NYC, down(LON), SGP), max_answers=2)
    assert [o.data for o in resolve_pool(pool, None, "1.1.1.1")] == [("10.10.1.100", "10.10.3.100"),
                                                                        ("10.10.3.100", "10.10.1.100")]


def test_weighted_spreads_by_ratio():
    assert weighted(["a", "b"], [2, 1]) == ["a", "b", "a"]
    assert weighted(["a", "b"], [0, 1]) == ["b"]


POOLS = {"/Common/P1": Pool("/Common/P1", (NYC,), ttl=10), "/Common/P2": Pool("/Common/P2", (LON,), ttl=20),
         "/Common/P3": Pool("/Common/P3", (down(SGP),))}


def test_wide_ip_round_robin_alternates_pools_and_skips_unavailable_ones():
    wip = WideIP("www", (PoolRef("/Common/P1"), PoolRef("/Common/P3", 1), PoolRef("/Common/P2", 2)))
    assert data(resolve_wideip(wip, POOLS, None, "1.1.1.1")) == ["10.10.1.100", "10.10.2.100"]
    assert [o.ttl for o in resolve_wideip(wip, POOLS, None, "1.1.1.1")] == [10, 20]


def test_wide_ip_global_availability_takes_the_first_available_pool():
    wip = WideIP("www", (PoolRef("/Common/P3"), PoolRef("/Common/P2", 1), PoolRef("/Common/P1", 2)),
                 mode="global-availability")
    assert data(resolve_wideip(wip, POOLS, None, "1.1.1.1")) == ["10.10.2.100"]


def test_wide_ip_topology_scores_pools():
    topo = Topology([Record.parse("ldns: subnet 10.0.0.0/8 server: pool /Common/P2", 10, 1),
                     Record.parse("ldns: subnet 10.0.0.0/8 server: pool /Common/P1", 5, 2)])
    wip = WideIP("www", (PoolRef("/Common/P1"), PoolRef("/Common/P2", 1)), mode="topology")
    assert data(resolve_wideip(wip, POOLS, topo, "10.1.1.1")) == ["10.10.2.100"]
    assert data(resolve_wideip(wip, POOLS, topo, "11.1.1.1")) == ["10.10.1.100", "10.10.2.100"]  # all tie at 0


def test_last_resort_pool_when_no_pool_is_available():
    wip = WideIP("www", (PoolRef("/Common/P3"),), last_resort="/Common/P2")
    assert data(resolve_wideip(wip, POOLS, None, "1.1.1.1")) == ["10.10.2.100"]
    assert resolve_wideip(WideIP("www", (PoolRef("/Common/P3"),)), POOLS, None, "1.1.1.1") == [RETURN_TO_DNS]


def test_interleaving_advances_each_pool_in_its_turn():
    pools = {"/Common/A": Pool("/Common/A", (NYC, LON)), "/Common/B": Pool("/Common/B", (SGP,))}
    wip = WideIP("www", (PoolRef("/Common/A"), PoolRef("/Common/B", 1)))
    picker = Picker(resolve_wideip(wip, pools, None, "1.1.1.1"))
    assert [picker.next().data[0] for _ in range(6)] == ["10.10.1.100", "10.10.3.100", "10.10.2.100",
                                                          "10.10.3.100", "10.10.1.100", "10.10.3.100"]


def test_static_persistence_sends_one_ldns_network_to_one_member():
    pool = Pool("/Common/P", (NYC, LON, SGP), mode="static-persistence", static_cidr=(24, 64))
    picks = {ldns: data(resolve_pool(pool, None, ldns)) for ldns in (f"10.20.{i}.5" for i in range(40))}
    assert all(len(p) == 1 for p in picks.values())                  # no rotation: the same answer each time
    assert len({p[0] for p in picks.values()}) == 3                  # different LDNS networks spread
    assert data(resolve_pool(pool, None, "10.20.7.200")) == picks["10.20.7.5"]   # the same /24: the same member
    lost = picks["10.20.7.5"][0]
    left = Pool("/Common/P", tuple(down(m) if m.data == lost else m for m in (NYC, LON, SGP)),
                mode="static-persistence", static_cidr=(24, 64))
    assert data(resolve_pool(left, None, "10.20.7.5"))[0] != lost     # its member down: another available one
