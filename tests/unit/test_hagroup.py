"""HA groups: F5's score formula, the ha-score failover method (no sockets), and the
configuration checks (pools exist, no auto-failback with an HA group; a multicast failover path's
group and interface)."""
import pytest

from node.cm.failover import ACTIVE, STANDBY, BecomeStandby, TrafficGroup
from node.cm.hagroup import group_score, pool_score
from node.config.ha_checks import multicast_path
from node.config.schema import object_path
from node.config.store import ConfigStore, Op
from node.config.tmsh import parse
from node.errors import InUse, Invalid, NotFound
from tests.unit.test_failover_cluster import Cluster

TG = "traffic-group-1"


def test_a_pool_scores_its_weight_times_the_share_of_members_up():
    assert pool_score(50, 4, 4) == 50
    assert pool_score(50, 3, 4) == 37          # rounded down
    assert pool_score(50, 0, 4) == 0 and pool_score(50, 0, 0) == 0


def test_below_minimum_threshold_a_pool_scores_nothing_and_from_sufficient_its_whole_weight():
    assert pool_score(40, 1, 4, minimum=2) == 0
    assert pool_score(40, 2, 4, minimum=2) == 20
    assert pool_score(40, 2, 4, sufficient="2") == 40 and pool_score(40, 1, 4, sufficient="2") == 20


def test_the_group_score_is_the_sum_of_its_pools_and_a_disabled_group_scores_zero():
    group = {"pools": [{"name": "/Common/a", "weight": 30}, {"name": "/Common/b", "weight": 70}]}
    counts = {"/Common/a": (1, 2), "/Common/b": (2, 2)}
    assert group_score(group, counts) == (85, {"/Common/a": 15, "/Common/b": 70})
    assert group_score({**group, "status": "disabled"}, counts)[0] == 0


def ha_pair():
    c = Cluster([TrafficGroup(TG, ("bigip1", "bigip2"), ha_group="hg")], names=("bigip1", "bigip2"))
    for fo in c.devices.values():
        fo.set_scores({TG: 100}, {TG: 10}, 0.0)
    return c


def test_the_traffic_group_goes_to_the_device_with_the_higher_score():
    c = Cluster([TrafficGroup(TG, ("bigip1", "bigip2"), ha_group="hg")], names=("bigip1", "bigip2"))
    c.devices["bigip1"].set_scores({TG: 50}, {TG: 10}, 0.0)
    c.devices["bigip2"].set_scores({TG: 100}, {TG: 10}, 0.0)
    c.run(4)
    assert c.actives(TG) == ["bigip2"]      # ha-order would have said bigip1


def test_losing_members_fails_over_once_the_score_drops_below_the_peers_and_the_bonus_holds_it():
    c = ha_pair()
    c.run(4)
    assert c.actives(TG) == ["bigip1"]
    # 95 + bonus 10 is still above the peer's 100: no failover
    assert not c.devices["bigip1"].set_scores({TG: 95}, {TG: 10}, c.now)
    c.run(1)
    assert c.actives(TG) == ["bigip1"]
    actions = c.devices["bigip1"].set_scores({TG: 50}, {TG: 10}, c.now)
    assert actions == [BecomeStandby(TG, "HA score 60 is lower than bigip2's 100")]
    c.run(1)
    assert c.actives(TG) == ["bigip2"] and c.devices["bigip1"].state[TG] == STANDBY
    # bigip1 healed: 100 is not above bigip2's 100 + its bonus, so the group stays
    c.devices["bigip1"].set_scores({TG: 100}, {TG: 10}, c.now)
    c.run(2)
    assert c.actives(TG) == ["bigip2"]
    assert c.devices["bigip1"].group_rows()[1]["ha_score"] == 110


@pytest.fixture
def store(tmp_path):
    s = ConfigStore(tmp_path / "running.json", "bigip1", now=lambda: 1000.0)
    for line in ("create net vlan internal", "create net self int address 10.1.20.11/24 vlan internal",
                 "create ltm pool web members add { 10.1.20.21:80 10.1.20.22:80 }"):
        run(s, line)
    return s


def run(store, line):
    cmd = parse(line)
    return store.commit([Op(cmd.verb, cmd.type, object_path(cmd.type, cmd.name), cmd.values)])


def test_an_ha_group_names_pools_that_exist_and_keeps_them_in_use(store):
    with pytest.raises(NotFound, match=r"The requested Pool \(/Common/nope\) was not found"):
        run(store, "create sys ha-group hg pools add { nope { weight 50 } }")
    assert store.get("sys ha-group", "/Common/hg") is None
    run(store, "create sys ha-group hg pools add { web { weight 50 minimum-threshold 1 } } active-bonus 20")
    hg = store.get("sys ha-group", "/Common/hg")
    assert hg["active-bonus"] == 20 and hg["pools"][0]["name"] == "/Common/web"
    with pytest.raises(InUse):
        run(store, "delete ltm pool web")


def test_a_traffic_group_with_auto_failback_cannot_take_an_ha_group(store):
    run(store, "create sys ha-group hg pools add { web { weight 50 } }")
    run(store, "create cm traffic-group tg2 auto-failback-enabled true")
    with pytest.raises(Invalid, match="cannot use HA group hg with auto-failback enabled"):
        run(store, "modify cm traffic-group tg2 ha-group hg")
    assert store.get("cm traffic-group", "/Common/tg2")["ha-group"] == "none"
    run(store, "modify cm traffic-group tg2 auto-failback-enabled false ha-group hg")
    with pytest.raises(InUse):
        run(store, "delete sys ha-group hg")



def test_a_multicast_failover_path_needs_a_multicast_group_and_an_interface_the_device_has(store):
    run(store, "create net interface internal")
    run(store, "create cm device bigip1 unicast-address { 10.1.20.11 }")
    with pytest.raises(Invalid, match="multicast-ip 10.1.20.9 is not a multicast address"):
        run(store, "modify cm device bigip1 multicast-interface eth0 multicast-ip 10.1.20.9 multicast-port 62960")
    with pytest.raises(NotFound, match=r"The requested Interface \(eth9\) was not found"):
        run(store, "modify cm device bigip1 multicast-interface eth9 multicast-ip 224.0.0.245 multicast-port 62960")
    dev = store.get("cm device", "/Common/bigip1")
    assert (dev.get("multicast-interface"), dev["multicast-ip"], dev["multicast-port"]) == (None, "any6", 0)
    run(store, "modify cm device bigip1 multicast-interface eth0 multicast-ip 224.0.0.245 multicast-port 62960")
    assert multicast_path(store.get("cm device", "/Common/bigip1")) == ("eth0", "224.0.0.245", 62960)
    run(store, "modify cm device bigip1 multicast-interface internal")       # a data interface it has
    run(store, "modify cm device bigip1 multicast-ip any6")
    assert multicast_path(store.get("cm device", "/Common/bigip1")) is None  # any6: off, as F5's default

async def test_rest_takes_an_ha_group_as_bigip_device_ha_group_sends_it():
    from tests.unit.test_rest_shapes import client, rest_of
    rest, store = rest_of()
    async with client(rest) as c:
        await c.post("/mgmt/tm/ltm/pool", json={"name": "web", "partition": "Common"})
        r = await c.post("/mgmt/tm/sys/ha-group", json={
            "name": "hg", "activeBonus": 20, "enabled": True,
            "pools": [{"name": "/Common/web", "weight": 50, "attribute": "percent-up-members", "minimumThreshold": 1}]})
        assert r.status_code == 200, r.text
        got = (await c.get("/mgmt/tm/sys/ha-group/hg")).json()
        assert got["fullPath"] == "hg" and got["activeBonus"] == 20 and got["enabled"] is True
        assert got["pools"] == [{"name": "web", "partition": "Common", "fullPath": "/Common/web", "weight": 50,
                                 "minimumThreshold": 1, "sufficientThreshold": "all", "attribute": "percent-up-members"}]
        r = await c.patch("/mgmt/tm/cm/traffic-group/traffic-group-1", json={"haGroup": "hg"})
        assert r.status_code == 200 and r.json()["haGroup"] == "hg"
