"""F5's modules that read or save the whole system, run unmodified against the ha-pair the LTM
modules use: bigip_device_info with every subset, bigip_config."""
from __future__ import annotations

from tests.ansible.conftest import HA_PAIR_LAB, peer_tmsh

LAB = HA_PAIR_LAB


def test_device_info_reads_every_subset_twice_and_changes_nothing(ansible):
    peer_tmsh(LAB.name, "bigip1", "create ltm policy pol_ans requires { http } rules { r1 { ordinal 1 } }")
    try:
        for _ in range(2):
            recap = ansible.run("sys/device_info_all.yml", "bigip1")
            assert recap.clean and not recap.changed, recap.output
    finally:
        peer_tmsh(LAB.name, "bigip1", "delete ltm policy pol_ans")
