"""Active-active and a 4-device group on real namespaces: each traffic group on its own device,
the survivors carry the dead device's groups down ha-order or load-aware, auto-failback brings one
back, and `show cm traffic-group` names each group's next active."""
import subprocess
import sys

from lab.runtime.control import call, node_status
from lab.runtime.lab import Lab
from tests.lab.conftest import HA_PAIR, ROOT, biglab, wait_for
from tests.lab.test_dsc import VIP, kill_daemon, log_text, mac, neigh

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
    # connection mirroring: a channel a traffic group, each from its active device to the other, on its own port
    for vip, name in (("10.1.10.100", "vs_m_one"), ("10.1.10.200", "vs_m_two")):
        call(lab, "bigip1", "tmsh", line=f"create ltm virtual {name} destination {vip}:91 pool web_pool profiles "
                                         "replace-all-with { fastL4 } source-address-translation { type automap } mirror enabled")
    for node, name, channel in (("bigip1", "vs_m_one", "10.1.30.12:1029"), ("bigip2", "vs_m_two", "10.1.30.11:1030")):
        wait_for(lambda: f"{channel} (connected)" in call(
            lab, node, "tmsh", line=f"show ltm virtual {name}"), what=f"{name}'s mirroring channel")
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


def test_ha_group_score_failover_when_the_active_loses_its_pool_members(make_lab):
    lab = make_lab(HA_PAIR, "thag", "10.250.62.0/24")
    tmsh = lambda node, line: call(lab, node, "tmsh", line=line)
    tmsh("bigip1", "create ltm monitor http fast interval 1 timeout 3")
    tmsh("bigip1", "modify ltm pool web_pool monitor fast")
    for n in ("bigip1", "bigip2"):     # an HA group is the device's own: made on each
        wait_for(lambda: "fast" in tmsh(n, "list ltm pool web_pool"), what=f"the monitor synced to {n}")
        tmsh(n, "create sys ha-group hg pools add { web_pool { weight 50 } } active-bonus 10")
    tmsh("bigip1", "modify cm traffic-group traffic-group-1 ha-group hg")
    score = lambda: int(next(line.split()[-1] for line in tmsh("bigip1", "show sys ha-group").splitlines()
                             if line.startswith("Score")))
    wait_for(lambda: score() == 50, what="bigip1 scores 50")
    shown = tmsh("bigip1", "show cm traffic-group")
    assert "HA Score" in shown
    row = next(line.split() for line in shown.splitlines() if line.startswith("traffic-group-1") and "bigip1" in line)
    assert row[2] == "active" and row[-1] == "60"       # 50 and the active bonus
    assert actives(lab, ("bigip1", "bigip2"), ["traffic-group-1"]) == {"traffic-group-1": ["bigip1"]}
    biglab("link", lab, "bigip1:internal", "down")      # bigip1's monitors lose every member; heartbeats go on ha
    try:
        wait_for(lambda: actives(lab, ("bigip1", "bigip2"), ["traffic-group-1"]) == {"traffic-group-1": ["bigip2"]},
                 timeout=20, what="traffic-group-1 to move to bigip2 on its HA score")
        assert score() == 0
        assert "Standby for traffic group traffic-group-1: HA score" in log_text(lab, "bigip1")
    finally:
        biglab("link", lab, "bigip1:internal", "up")
    # healed, bigip1 scores 50 again, not above bigip2's 50 + 10: the group stays
    wait_for(lambda: score() == 50, what="bigip1 healed")
    assert actives(lab, ("bigip1", "bigip2"), ["traffic-group-1"]) == {"traffic-group-1": ["bigip2"]}


def test_vlan_failsafe_then_gateway_failsafe_take_the_device_out_of_service(make_lab):
    lab = make_lab(HA_PAIR, "tfsafe", "10.250.63.0/24")
    tmsh = lambda node, line: call(lab, node, "tmsh", line=line)
    tg1 = lambda: actives(lab, ("bigip1", "bigip2"), ["traffic-group-1"])["traffic-group-1"]
    assert tg1() == ["bigip1"]
    # VLAN failsafe on bigip1's internal VLAN: its link goes down, nothing is heard there for 2 s
    tmsh("bigip1", "modify net vlan internal failsafe enabled failsafe-timeout 2 failsafe-action failover")
    biglab("link", lab, "bigip1:internal", "down")
    try:
        wait_for(lambda: tg1() == ["bigip2"], timeout=15, what="VLAN failsafe to fail bigip1 over")
        assert "01140029" in log_text(lab, "bigip1")
        assert "HA vlan_fs /Common/internal fails action is failover." in log_text(lab, "bigip1")
        assert "vlan_fs /Common/internal fails, action is failover" in tmsh("bigip1", "show cm failover-status")
        assert node_status(lab, "bigip1").failover.failsafe == {"vlan_fs /Common/internal": "failover"}
    finally:
        biglab("link", lab, "bigip1:internal", "up")
    wait_for(lambda: "HA vlan_fs /Common/internal is now responding." in log_text(lab, "bigip1"),
             what="the VLAN failsafe to recover")
    tmsh("bigip1", "modify net vlan internal failsafe disabled")
    # gateway failsafe: bigip2 (now active) loses its gateway pool's one member
    tmsh("bigip2", "create ltm monitor http fast interval 1 timeout 3")
    tmsh("bigip2", "create ltm pool gw_pool members add { 10.1.20.21:80 } monitor fast "
                   "min-up-members 1 min-up-members-checking enabled")
    wait_for(lambda: "gw_pool" in tmsh("bigip1", "list ltm pool gw_pool"), what="gw_pool synced")
    biglab("link", lab, "bigip2:internal", "down")
    try:
        wait_for(lambda: tg1() == ["bigip1"], timeout=15, what="gateway failsafe to fail bigip2 over")
        assert "HA pool_memb_down /Common/gw_pool fails action is failover." in log_text(lab, "bigip2")
    finally:
        biglab("link", lab, "bigip2:internal", "up")
    wait_for(lambda: "HA pool_memb_down /Common/gw_pool is now responding." in log_text(lab, "bigip2"),
             what="the gateway failsafe to recover")
    events = biglab("events", lab).stdout
    assert "vlan_fs" in events and "pool_memb_down" in events


def test_system_failsafe_a_crashed_data_plane_fails_over_and_crashed_monitors_restart(make_lab):
    lab = make_lab(HA_PAIR, "tsysfs", "10.250.64.0/24")
    tmsh = lambda node, line: call(lab, node, "tmsh", line=line)
    tg1 = lambda: actives(lab, ("bigip1", "bigip2"), ["traffic-group-1"])["traffic-group-1"]
    tmsh("bigip1", "modify sys daemon-ha tmm heartbeat-action failover")
    out = biglab("chaos", lab, "crash", "bigip1", "tmm").stdout
    assert "tmm crashed; heartbeat-action failover" in out
    wait_for(lambda: tg1() == ["bigip2"], timeout=15, what="bigip2 to take over from bigip1's dead tmm")
    text = log_text(lab, "bigip1")
    assert "tmm (the LTM data plane) exited unexpectedly" in text
    assert "HA daemon_heartbeat tmm fails action is failover." in text
    assert "daemon_heartbeat tmm fails, action is failover" in tmsh("bigip1", "show cm failover-status")
    assert "crash bigip1 tmm" in biglab("chaos", lab, "list").stdout
    wait_for(lambda: Lab.open(lab).run("client", ["curl", "-s", "-m", "3", f"http://{VIP}/"],
                                       capture_output=True).returncode == 0, what="the virtual served by bigip2")
    biglab("chaos", lab, "reset")
    wait_for(lambda: "HA daemon_heartbeat tmm is now responding." in log_text(lab, "bigip1"), what="tmm back")
    assert node_status(lab, "bigip1").failover.failsafe == {}
    # bigd's heartbeat-action is restart: logged, restarted a second later, no failover
    biglab("chaos", lab, "crash", "bigip1", "bigd")
    wait_for(lambda: "HA daemon_heartbeat bigd is now responding." in log_text(lab, "bigip1"), what="bigd restarted")
    text = log_text(lab, "bigip1")
    assert "HA daemon_heartbeat bigd fails action is restart." in text and "Re-starting bigd" in text
    assert tg1() == ["bigip2"]
    proc = biglab("chaos", lab, "crash", "bigip1", "gtmd", check=False)
    assert proc.returncode != 0 and "no subsystem 'gtmd' on this device" in proc.stderr


def test_forged_heartbeats_do_not_keep_a_dead_active_alive(make_lab):
    lab = make_lab(HA_PAIR, "tforge", "10.250.65.0/24")
    tg1 = lambda: node_status(lab, "bigip2").failover.traffic_groups["traffic-group-1"]
    assert tg1() == "standby"
    forging = subprocess.Popen([sys.executable, "-m", "lab.cli", "chaos", lab, "forge", "internal", "bigip1", "bigip2",
                                "10"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: node_status(lab, "bigip2").failover.forged_heartbeats > 0, what="forged heartbeats arriving")
        assert tg1() == "standby"
        kill_daemon(lab, "bigip1")
        # the forgeries say bigip1 is alive and active: bigip2 takes none of them and takes over
        wait_for(lambda: tg1() == "active", timeout=15, what="bigip2 to take over despite the forged heartbeats")
        out, err = forging.communicate(timeout=30)
    finally:
        forging.kill()
    assert forging.returncode == 0, err
    assert "forged heartbeats as bigip1 to bigip2 on internal" in out
    st = node_status(lab, "bigip2").failover
    assert st.forged_heartbeats >= 10 and st.peers["bigip1"].alive is False
