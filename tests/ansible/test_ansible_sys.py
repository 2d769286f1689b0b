"""F5's modules that read or load the whole system, run unmodified against the ha-pair the LTM
modules use: bigip_device_info with every subset; bigip_config verifying, merging (synced to the
peer, saved) and refusing bad content with F5's error, nothing changed."""
from __future__ import annotations

import httpx

from lab.model import state
from tests.ansible.conftest import HA_PAIR_LAB, peer_tmsh, shows

LAB = HA_PAIR_LAB


def test_device_info_reads_every_subset_twice_and_changes_nothing(ansible):
    peer_tmsh(LAB.name, "bigip1", "create ltm policy pol_ans requires { http } rules { r1 { ordinal 1 } }")
    try:
        for _ in range(2):
            recap = ansible.run("sys/device_info_all.yml", "bigip1")
            assert recap.clean and not recap.changed, recap.output
    finally:
        peer_tmsh(LAB.name, "bigip1", "delete ltm policy pol_ans")


def pool_generation(name: str) -> int:
    url = f"https://{LAB.address('bigip1')}/mgmt/tm/ltm/pool/~Common~{name}"
    return httpx.get(url, auth=("admin", "admin"), verify=False).json()["generation"]


def test_config_verifies_merges_once_saves_and_refuses_bad_content(ansible):
    try:
        verified = ansible.run("sys/config.yml", "bigip1", verify="true", save="false")
        assert verified.clean and not verified.changed, verified.output
        assert "was not found" in peer_tmsh(LAB.name, "bigip1", "list ltm pool cfg_pool")   # verify: nothing made
        first = ansible.run("sys/config.yml", "bigip1")
        assert first.clean and first.changed, first.output
        shows(LAB.name, "bigip2", "list ltm pool cfg_pool", "cfg_node:http")    # merged on bigip1, synced
        saved = state.lab_dir(LAB.name) / "bigip1" / "config" / "bigip.conf"
        assert "ltm pool /Common/cfg_pool {" in saved.read_text()
        generation = pool_generation("cfg_pool")
        again = ansible.run("sys/config.yml", "bigip1")      # the module says changed: it always saves
        assert again.clean, again.output
        assert pool_generation("cfg_pool") == generation     # the same text merged again changes nothing
        for verify in ("true", "false"):
            refused = ansible.run("sys/config.yml", "bigip1", broken="true", verify=verify, save="false")
            assert refused.failed and "01020036:3: The requested Monitor (/Common/no_such_monitor) was not found." \
                in refused.output and "configuration process failed." in refused.output, refused.output
        assert "was not found" in peer_tmsh(LAB.name, "bigip1", "list ltm pool cfg_bad")
    finally:
        peer_tmsh(LAB.name, "bigip1", "delete ltm pool cfg_pool")
        peer_tmsh(LAB.name, "bigip1", "delete ltm node cfg_node")


def test_management_route_remote_syslog_and_trunk_are_idempotent_and_removed(ansible):
    ansible.twice("sys/local_settings.yml", "bigip1")
    assert "network 10.9.8.0/24" in peer_tmsh(LAB.name, "bigip1", "list sys management-route mr_ans")
    assert "host 10.1.20.99 remote-port 1514" in peer_tmsh(LAB.name, "bigip1", "list sys syslog")
    assert "lacp enabled" in peer_tmsh(LAB.name, "bigip1", "list net trunk trunk_ans")
    ansible.twice("sys/local_settings.yml", "bigip1", state="absent")
    assert peer_tmsh(LAB.name, "bigip1", "list sys syslog").strip() == "sys syslog { }"
    assert "trunk_ans" not in peer_tmsh(LAB.name, "bigip1", "list net trunk")
