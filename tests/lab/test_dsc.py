"""Device Service Clustering on real namespaces: sync, failover over two VLANs, floating
addresses and gratuitous ARP, seen from the devices (tmsh) and from the client (ip neigh)."""
import os
import signal

import pytest
import yaml

from lab.model import state
from lab.runtime.control import ControlError, call, node_status
from lab.runtime.lab import Lab
from tests.lab.conftest import HA_PAIR, biglab, wait_for

VIP = "10.1.10.100"


def fast_topology(tmp_path, timeout_ms=1000, **tg):
    """ha-pair with 100 ms heartbeats and a short timeout, so path-loss tests run quickly."""
    data = yaml.safe_load(HA_PAIR.read_text())
    data["ha"].update(heartbeat_ms=100, timeout_ms=timeout_ms)
    data["ha"]["traffic_groups"]["traffic-group-1"].update(tg)
    path = tmp_path / "ha-fast.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def tmsh(lab, node, line):
    return call(lab, node, "tmsh", line=line)


def sync_status(lab, node):
    return node_status(lab, node).sync


def tg_states(lab):
    return {n: node_status(lab, n).failover.traffic_groups.get("traffic-group-1")
            for n in ("bigip1", "bigip2")}


def mac(lab, node, ifname="external"):
    out = Lab.open(lab).run(node, ["ip", "-br", "link", "show", ifname], capture_output=True, text=True).stdout
    return out.split()[2]


def neigh(lab, node, address):
    out = Lab.open(lab).run(node, ["ip", "neigh", "show", address], capture_output=True, text=True).stdout.split()
    return out[out.index("lladdr") + 1] if "lladdr" in out else None


def log_text(lab, node):
    return (state.node_dir(lab, node) / "log.jsonl").read_text()


def kill_daemon(lab, node):
    os.kill(int((state.node_dir(lab, node) / "daemon.pid").read_text()), signal.SIGKILL)


def test_up_builds_an_in_sync_pair_with_the_floating_addresses_on_the_active(make_lab):
    lab = make_lab(HA_PAIR, "tdsc", "10.251.10.0/24")
    assert tg_states(lab) == {"bigip1": "active", "bigip2": "standby"}
    for node in ("bigip1", "bigip2"):
        s = sync_status(lab, node)
        assert s.status == "In Sync" and s.groups["dg-ha"].status == "In Sync"
    ext1 = Lab.open(lab).run("bigip1", ["ip", "-4", "-br", "addr", "show", "external"], capture_output=True, text=True).stdout
    ext2 = Lab.open(lab).run("bigip2", ["ip", "-4", "-br", "addr", "show", "external"], capture_output=True, text=True).stdout
    assert VIP in ext1 and "10.1.10.10/24" in ext1 and VIP not in ext2
    prompt = call(lab, "bigip1", "prompt")
    assert prompt == "[root@bigip1:Active:In Sync] ~ # "
    # the pair carries the change both ways through the one model
    tmsh(lab, "bigip2", "create ltm pool from2 members add { 10.1.20.21:80 }")
    wait_for(lambda: "ltm pool from2" in tmsh(lab, "bigip1", "list ltm pool"), what="auto-sync to bigip1")
    # a bad tmsh line: tmsh's error, nothing changed, exit status 1
    proc = biglab("exec", lab, "bigip1", "--", "tmsh", "create", "ltm", "pool", "x", "colour", "red", check=False)
    assert proc.returncode == 1 and 'Syntax Error: "colour" unknown property' in proc.stderr
    assert "ltm pool x" not in tmsh(lab, "bigip1", "list ltm pool")


def test_kill_9_of_the_active_moves_the_virtual_address_and_the_clients_arp_entry(make_lab):
    lab = make_lab(HA_PAIR, "tkfo", "10.251.11.0/24")
    biglab("exec", lab, "client", "--", "ping", "-c1", "-W2", VIP)
    assert neigh(lab, "client", VIP) == mac(lab, "bigip1")
    kill_daemon(lab, "bigip1")
    wait_for(lambda: neigh(lab, "client", VIP) == mac(lab, "bigip2"), timeout=15, what="client ARP entry to move")
    assert node_status(lab, "bigip2").failover.traffic_groups["traffic-group-1"] == "active"
    text = log_text(lab, "bigip2")
    assert "010c007e" in text and "Gratuitous ARP for traffic-group-1" in text
    assert "Active for traffic group traffic-group-1." in text and "010c0053" in text and "010c0019" in text
    # the dead device's floating addresses lapse; it comes back standby, in sync, with what changed meanwhile
    tmsh(lab, "bigip2", "create ltm pool while-away")
    Lab.open(lab).start_daemon("bigip1")
    wait_for(lambda: sync_status(lab, "bigip1").status == "In Sync", what="bigip1 back in sync")
    assert "ltm pool while-away" in tmsh(lab, "bigip1", "list ltm pool")
    assert tg_states(lab) == {"bigip1": "standby", "bigip2": "active"}


def test_losing_the_ha_vlan_alone_is_not_a_failover(make_lab, tmp_path):
    lab = make_lab(fast_topology(tmp_path), "tone", "10.251.12.0/24")
    biglab("link", lab, "bigip2:ha", "down")
    try:
        wait_for(lambda: "010c0083" in log_text(lab, "bigip2"), what="the lost path logged")
        wait_for(lambda: "010c0083" in log_text(lab, "bigip1"), what="the lost path logged")
        assert "from device bigip1 (10.1.30.11) (unicast: -> 10.1.30.12)." in log_text(lab, "bigip2")
        assert tg_states(lab) == {"bigip1": "active", "bigip2": "standby"}
        assert "010c007e" not in log_text(lab, "bigip2")
        paths = node_status(lab, "bigip2").failover.peers["bigip1"].paths
        assert paths == {"10.1.30.11": "down", "10.1.20.11": "up"}
    finally:
        biglab("link", lab, "bigip2:ha", "up")
    wait_for(lambda: "010c0084" in log_text(lab, "bigip2"), what="the path back after its gap")


def test_losing_every_path_is_a_loud_split_brain_that_heals_to_one_active(make_lab, tmp_path):
    lab = make_lab(fast_topology(tmp_path), "tsplit", "10.251.13.0/24")
    group = "224.0.0.245:62960"
    with pytest.raises(ControlError, match="is not a multicast address"):
        tmsh(lab, "bigip2", "modify cm device bigip2 multicast-interface eth0 multicast-ip 10.1.30.9 multicast-port 62960")
    assert "multicast-ip any6" in tmsh(lab, "bigip2", "list cm device bigip2 all-properties")
    for node in ("bigip1", "bigip2"):   # the multicast failover path, on the management network
        tmsh(lab, node, f"modify cm device {node} multicast-interface eth0 multicast-ip 224.0.0.245 multicast-port 62960")
    wait_for(lambda: node_status(lab, "bigip2").failover.peers["bigip1"].paths.get(group) == "up", what="multicast heard")
    biglab("chaos", lab, "block", "bigip2", "1026/udp")   # every unicast heartbeat path, both ways
    try:
        wait_for(lambda: node_status(lab, "bigip2").failover.peers["bigip1"].paths == {
            "10.1.30.11": "down", "10.1.20.11": "down", group: "up"}, what="only the multicast path left")
        assert tg_states(lab) == {"bigip1": "active", "bigip2": "standby"} and "010c007e" not in log_text(lab, "bigip2")
        shown = tmsh(lab, "bigip2", "show cm failover-status")
        assert "CM::Failover Connections" in shown and f"eth0:{group}" in shown
        tmsh(lab, "bigip1", "modify cm device bigip1 multicast-ip any6")   # without it: every path lost
        wait_for(lambda: tg_states(lab) == {"bigip1": "active", "bigip2": "active"}, what="split brain")
        warn = node_status(lab, "bigip2").failover.split_brain["traffic-group-1"]
        assert "SPLIT BRAIN" in warn  # the 4353 channel (mgmt) is still up: each sees the other active
        assert "WARNING" in tmsh(lab, "bigip2", "show cm failover-status")
    finally:
        biglab("chaos", lab, "unblock", "bigip2", "1026/udp")
    wait_for(lambda: tg_states(lab) == {"bigip1": "active", "bigip2": "standby"}, what="one active again")
    wait_for(lambda: "Announcing traffic-group-1 again" in log_text(lab, "bigip1"), what="the winner's GARP")


def test_without_auto_sync_a_change_is_pending_until_config_sync(make_lab):
    lab = make_lab(HA_PAIR, "tman", "10.251.14.0/24")
    tmsh(lab, "bigip1", "modify cm device-group dg-ha auto-sync disabled")
    wait_for(lambda: "auto-sync enabled" not in tmsh(lab, "bigip2", "list cm device-group"),
             what="the device group change to spread")
    tmsh(lab, "bigip1", "create ltm pool manual")
    wait_for(lambda: sync_status(lab, "bigip2").status == "Changes Pending", what="Changes Pending")
    assert "bigip1 has changes pending" in str(sync_status(lab, "bigip1").groups["dg-ha"].details)
    assert "manual" not in tmsh(lab, "bigip2", "list ltm pool")
    tmsh(lab, "bigip1", "run cm config-sync to-group dg-ha")
    wait_for(lambda: sync_status(lab, "bigip2").status == "In Sync", what="In Sync after config-sync")
    assert "ltm pool manual" in tmsh(lab, "bigip2", "list ltm pool")


def test_changes_on_both_sides_of_a_partition_are_a_conflict_and_nothing_is_lost(make_lab):
    lab = make_lab(HA_PAIR, "tconf", "10.251.15.0/24")
    biglab("link", lab, "bigip2:mgmt", "down")   # the 4353 channel runs on mgmt
    try:
        wait_for(lambda: sync_status(lab, "bigip1").status == "Disconnected", what="Disconnected")
        tmsh(lab, "bigip1", "create ltm pool left")
        tmsh(lab, "bigip2", "create ltm pool right")
    finally:
        biglab("link", lab, "bigip2:mgmt", "up")
    for node in ("bigip1", "bigip2"):
        wait_for(lambda: "possible change conflict between" in str(sync_status(lab, node).groups), what="conflict")
        assert sync_status(lab, node).status == "Changes Pending"
    assert "ltm pool left" in tmsh(lab, "bigip1", "list ltm pool")
    assert "ltm pool right" in tmsh(lab, "bigip2", "list ltm pool")   # not overwritten by auto-sync
    tmsh(lab, "bigip2", "run cm config-sync from-group dg-ha")       # bigip2 chooses bigip1's side
    wait_for(lambda: sync_status(lab, "bigip2").status == "In Sync", what="In Sync")
    assert "ltm pool left" in tmsh(lab, "bigip2", "list ltm pool")


def test_a_sync_the_peer_cannot_apply_is_a_sync_failure_with_its_reason(make_lab):
    lab = make_lab(HA_PAIR, "tfail", "10.251.16.0/24")
    tmsh(lab, "bigip1", "create net vlan dmz")  # VLANs are not synced: bigip2 has none
    tmsh(lab, "bigip1", "create net self dmz-float address 10.9.9.1/24 vlan dmz traffic-group traffic-group-1")
    wait_for(lambda: sync_status(lab, "bigip1").status == "Sync Failure", what="Sync Failure")
    detail = sync_status(lab, "bigip1").groups["dg-ha"].details["bigip2"]
    assert "The requested VLAN (/Common/dmz) was not found" in detail
    assert "dmz-float" not in tmsh(lab, "bigip2", "list net self")


def test_run_sys_failover_standby_offline_and_online(make_lab, tmp_path):
    lab = make_lab(fast_topology(tmp_path), "tforce", "10.251.17.0/24")
    tmsh(lab, "bigip1", "run sys failover standby traffic-group traffic-group-1")
    wait_for(lambda: tg_states(lab) == {"bigip1": "standby", "bigip2": "active"}, what="bigip2 active")
    tmsh(lab, "bigip2", "run sys failover offline")
    wait_for(lambda: tg_states(lab) == {"bigip1": "active", "bigip2": "standby"}, what="bigip1 active")
    assert call(lab, "bigip2", "prompt").startswith("[root@bigip2:Forced Offline:")
    with pytest.raises(ControlError, match="no other device is available"):
        tmsh(lab, "bigip1", "run sys failover standby")
    tmsh(lab, "bigip2", "run sys failover online")
    assert node_status(lab, "bigip2").failover.state == "standby"
