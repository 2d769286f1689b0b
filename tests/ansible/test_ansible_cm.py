"""F5's Ansible modules for clustering (f5networks.f5_modules, unmodified) against a pair that
starts untrusted and unclustered (topologies/ha-pair-onboard.yml): each playbook twice (changes,
then no change), the result read in tmsh on the PEER."""
from __future__ import annotations

from tests.ansible.conftest import ONBOARD_LAB, peer_tmsh

LAB = ONBOARD_LAB
ANSIBLE_TIMEOUT = 300
B2 = LAB.address("bigip2")


def test_trust_device_group_members_traffic_group_and_sync_cluster_the_pair(ansible):
    assert "Standalone" in peer_tmsh(LAB.name, "bigip2", "show cm sync-status")
    ansible.twice("cm/cluster.yml", "bigip1", peer=B2)
    dg = peer_tmsh(LAB.name, "bigip2", "list cm device-group dg-ha")
    assert "devices { bigip1 bigip2 }" in dg and "type sync-failover" in dg and "auto-sync enabled" in dg
    assert "ha-order { bigip1 bigip2 }" in peer_tmsh(LAB.name, "bigip2", "list cm traffic-group traffic-group-1")
    status = peer_tmsh(LAB.name, "bigip2", "show cm sync-status")
    assert "dg-ha (In Sync): All devices in the device group are in sync" in status


def test_a_traffic_group_is_made_and_removed(ansible):
    ansible.twice("cm/traffic_group.yml", "bigip1")
    assert "ha-order { bigip2 bigip1 }" in peer_tmsh(LAB.name, "bigip2", "list cm traffic-group traffic-group-2")
    ansible.twice("cm/traffic_group.yml", "bigip1", state="absent")
    assert "traffic-group-2" not in peer_tmsh(LAB.name, "bigip2", "list cm traffic-group")


def test_the_group_and_the_trust_are_undone(ansible):
    ansible.twice("cm/unclustered.yml", "bigip1", peer=B2)
    assert "dg-ha" not in peer_tmsh(LAB.name, "bigip2", "list cm device-group")
    status = peer_tmsh(LAB.name, "bigip2", "show cm sync-status")
    assert "Standalone" in status and "Optional action: Add a device to the trust domain" in status
