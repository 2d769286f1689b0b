"""F5's Ansible modules for BIG-IP DNS (GTM), run unmodified against gtm-3dc's gtm1: each playbook
twice (changes, then no change), checked in tmsh on gtm2 (the GTM sync group carries it), then
`state: absent` twice (removes, then no change). A DNS listener is gtm1's own and stays there."""
from __future__ import annotations

import pytest

from tests.ansible.conftest import GTM_LAB, peer_tmsh
from tests.lab.conftest import wait_for

LAB = GTM_LAB


def on_gtm2(line: str, text: str, present: bool) -> str:
    """Waits for gtm2 to list `text` (or no longer list it): GTM sync carries gtm1's change."""
    def seen():
        out = peer_tmsh(LAB.name, "gtm2", line)
        return out if (text in out) == present else None
    return wait_for(seen, timeout=20, interval=0.3, what=f"gtm2 `{line}` shows {text!r}: {present}")


# playbook, tmsh line on gtm2, text gtm2 must show (and no longer show once absent)
CASES = [
    ("gtm/datacenter.yml", "list gtm datacenter dc_ans", "location Frankfurt"),
    ("gtm/server.yml", "list gtm server srv_ans", "10.40.1.10 { device-name srv_ans }"),
    ("gtm/virtual_server.yml", "list gtm server srv_vs_ans", "vs_ans { destination 10.40.2.100:"),
    ("gtm/pool.yml", "list gtm pool a gp_ans", "monitor min 1 of { http tcp }"),
    ("gtm/pool_member.yml", "list gtm pool a gp_mem_ans", "ltm-sgp:vs_www { description ansible ratio 2 }"),
    ("gtm/wide_ip.yml", "list gtm wideip a ans.example.com", "last-resort-pool a www_pool"),
    ("gtm/topology_record.yml", "list gtm topology one-line",
     "gtm topology ldns: subnet 10.50.0.0/16 server: datacenter /Common/nyc { order"),
    ("gtm/topology_region.yml", "list gtm region region_ans", "not subnet 10.60.9.0/24 { }"),
    ("gtm/monitor_http.yml", "list gtm monitor http gmon_http_ans", 'recv "200 OK"'),
    ("gtm/monitor_https.yml", "list gtm monitor https gmon_https_ans", "cipherlist DEFAULT"),
    ("gtm/monitor_tcp.yml", "list gtm monitor tcp gmon_tcp_ans", "recv 250"),
    ("gtm/monitor_bigip.yml", "list gtm monitor bigip gmon_bigip_ans", "aggregate-dynamic-ratios sum-members"),
    ("gtm/monitor_tcp_half_open.yml", "list gtm monitor tcp-half-open gmon_tho_ans", "probe-interval 2"),
]


@pytest.mark.parametrize("playbook,line,text", CASES, ids=[c[0] for c in CASES])
def test_module_is_idempotent_syncs_and_removes(ansible, playbook, line, text):
    ansible.twice(playbook, "gtm1")
    on_gtm2(line, text, present=True)
    ansible.twice(playbook, "gtm1", state="absent")
    on_gtm2(line, text, present=False)


def test_global_settings_are_idempotent_and_sync(ansible):
    ansible.twice("gtm/global.yml", "gtm1")
    on_gtm2("list gtm global-settings", "synchronize-zone-files yes", present=True)
    ansible.twice("gtm/global.yml", "gtm1", zone_sync="no")
    on_gtm2("list gtm global-settings", "synchronize-zone-files yes", present=False)


def test_dns_listener_is_idempotent_and_stays_on_its_device(ansible):
    ansible.twice("gtm/dns_listener.yml", "gtm1")
    assert "address 10.30.0.55" in peer_tmsh(LAB.name, "gtm1", "list gtm listener listener_ans")
    assert "was not found" in peer_tmsh(LAB.name, "gtm2", "list gtm listener listener_ans")   # local: not synced
    ansible.twice("gtm/dns_listener.yml", "gtm1", state="absent")
    assert "was not found" in peer_tmsh(LAB.name, "gtm1", "list gtm listener listener_ans")


@pytest.mark.parametrize("rtype", ["mx", "srv", "naptr"])
def test_mx_srv_and_naptr_pools_and_wide_ips_are_idempotent_sync_and_go(ansible, rtype):
    ansible.twice("gtm/wide_ip_named.yml", "gtm1", rtype=rtype)
    on_gtm2(f"list gtm wideip {rtype} {rtype}.example.com", f"{rtype}_pool_ans", present=True)
    on_gtm2(f"list gtm pool {rtype} {rtype}_pool_ans", "ttl 120", present=True)
    ansible.twice("gtm/wide_ip_named.yml", "gtm1", rtype=rtype, state="absent")
    on_gtm2(f"list gtm pool {rtype} {rtype}_pool_ans", "ttl 120", present=False)
