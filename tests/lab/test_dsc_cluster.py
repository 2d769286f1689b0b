"""Active-active and a 4-device group on real namespaces: each traffic group on its own device,
the survivors carry the dead device's groups down ha-order or load-aware, auto-failback brings one
back, and `show cm traffic-group` names each group's next active."""
from lab.runtime.control import call, node_status
from lab.runtime.lab import Lab
from tests.lab.conftest import ROOT, wait_for
from tests.lab.test_dsc import kill_daemon, mac, neigh

AA = ROOT / "topologies" / "active-active.yml"
C4 = ROOT / "topologies" / "cluster-4.yml"


def actives(lab, nodes, tgs):
    """traffic group -> the devices active for it (as each device says of itself)."""
    states = {n: node_status(lab, n).failover.traffic_groups for n in nodes}
    return {tg: sorted(n for n in nodes if states[n].get(tg) == "active") for tg in tgs}


def test_active_active_failover_of_one_group_and_auto_failback(make_lab):
    lab = make_lab(AA, "taa", "10.250.60.0/24")
    nodes, tgs = ("bigip1", "bigip2"), ("traffic-group-1", "traffic-group-2")
    assert actives(lab, nodes, tgs) == {"traffic-group-1": ["bigip1"], "traffic-group-2": ["bigip2"]}
    for vip, owner in (("10.1.10.100", "bigip1"), ("10.1.10.200", "bigip2")):
        out = Lab.open(lab).run("client", ["curl", "-s", "-m", "5", f"http://{vip}/"], capture_output=True, text=True)
        assert out.returncode == 0 and out.stdout
        assert neigh(lab, "client", vip) == mac(lab, owner)
    kill_daemon(lab, "bigip1")
    wait_for(lambda: node_status(lab, "bigip2").failover.traffic_groups["traffic-group-1"] == "active",
             timeout=15, what="bigip2 to take traffic-group-1")
    wait_for(lambda: neigh(lab, "client", "10.1.10.100") == mac(lab, "bigip2"), timeout=15, what="ARP to move")
    assert node_status(lab, "bigip2").failover.traffic_groups["traffic-group-2"] == "active"
    Lab.open(lab).start_daemon("bigip1")
    # traffic-group-1 has auto-failback (10 s): it goes home; traffic-group-2 was never away
    wait_for(lambda: actives(lab, nodes, tgs) == {"traffic-group-1": ["bigip1"], "traffic-group-2": ["bigip2"]},
             timeout=30, what="auto-failback of traffic-group-1")
    wait_for(lambda: neigh(lab, "client", "10.1.10.100") == mac(lab, "bigip1"), timeout=15, what="ARP back")


def test_four_devices_three_groups_cascade_down_ha_order_and_load_aware(make_lab):
    lab = make_lab(C4, "tc4", "10.250.61.0/24")
    nodes = ("bigip1", "bigip2", "bigip3", "bigip4")
    tgs = ("traffic-group-1", "traffic-group-2", "traffic-group-3")
    assert actives(lab, nodes, tgs) == {"traffic-group-1": ["bigip1"], "traffic-group-2": ["bigip2"],
                                        "traffic-group-3": ["bigip3"]}
    for n in nodes:
        wait_for(lambda: node_status(lab, n).sync.status == "In Sync", what=f"{n} in sync")
    shown = call(lab, "bigip1", "tmsh", line="show cm traffic-group")
    row = next(line.split() for line in shown.splitlines() if line.startswith("traffic-group-3") and "bigip4" in line)
    assert row[2:4] == ["standby", "true"]     # bigip4 (twice the ha-capacity) is next for traffic-group-3
    assert "Summary" in call(lab, "bigip1", "tmsh", line="show cm failover-status")
    kill_daemon(lab, "bigip3")
    wait_for(lambda: actives(lab, ("bigip1", "bigip2", "bigip4"), tgs)["traffic-group-3"] == ["bigip4"],
             timeout=15, what="bigip4 to take traffic-group-3 (load-aware)")
    kill_daemon(lab, "bigip1")
    wait_for(lambda: actives(lab, ("bigip2", "bigip4"), tgs) == {"traffic-group-1": ["bigip2"],
                                                                 "traffic-group-2": ["bigip2"],
                                                                 "traffic-group-3": ["bigip4"]},
             timeout=15, what="bigip2 to take traffic-group-1 (ha-order)")
