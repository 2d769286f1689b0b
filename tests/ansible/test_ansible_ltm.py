"""F5's Ansible modules for LTM, sys and net objects, run unmodified against an ha-pair: each
playbook twice (changes, then no change), checked in tmsh on the peer (config sync carries it;
VLANs stay on their device), then `state: absent` twice (removes, then no change)."""
from __future__ import annotations

import pytest

from tests.ansible.conftest import HA_PAIR_LAB, peer_tmsh, shows
from tests.lab.conftest import biglab

LAB = HA_PAIR_LAB


# playbook, the node to check on (the peer, unless the object is the device's own), tmsh line, text;
# undone with `state: absent` (sys db: `state: reset`)
CASES = [
    ("ltm/vlan.yml", "bigip1", "list net vlan vlan_ans", "tag 300"),
    ("ltm/node.yml", "bigip2", "list ltm node node_ans", "address 10.1.20.31"),
    ("ltm/node_fqdn.yml", "bigip2", "list ltm node node_fqdn_ans", "interval 60\n        name web.lab.example"),
    ("ltm/pool.yml", "bigip2", "list ltm pool pool_ans", "description ansible"),
    ("ltm/pool_member.yml", "bigip2", "list ltm pool pool_ans_members",
     "10.1.20.32:http {\n            address 10.1.20.32\n            monitor min 1 of { http tcp }\n"),
    ("ltm/pool_member_fqdn.yml", "bigip2", "list ltm pool pool_ans_fqdn",
     "autopopulate enabled\n                name api.lab.example"),
    ("ltm/monitor_http.yml", "bigip2", "list ltm monitor http mon_http_ans", "recv 200"),
    ("ltm/monitor_tcp.yml", "bigip2", "list ltm monitor tcp mon_tcp_ans", "interval 10"),
    ("ltm/monitor_external.yml", "bigip2", "list ltm monitor external mon_ext_ans", "user-defined USER example"),
    ("ltm/virtual_address.yml", "bigip2", "list ltm virtual-address 10.1.10.101", "address 10.1.10.101"),
    ("ltm/virtual_server.yml", "bigip2", "list ltm virtual vs_ans", "type automap"),
    ("ltm/virtual_forwarding.yml", "bigip2", "list ltm virtual vs_ans_fwd", "    ip-forward\n"),   # and a pool, m_of_n
    ("ltm/profile_http.yml", "bigip2", "list ltm profile http http_ans", "insert-xforwarded-for enabled"),
    ("ltm/snat_pool.yml", "bigip2", "list ltm snatpool snatpool_ans", "10.1.20.51"),
    ("ltm/sys_db.yml", "bigip1", "list sys db ui.advisory.enabled", 'value "true"'),
    ("ltm/irule.yml", "bigip2", "list ltm rule irule_ans", 'starts_with "/api"'),
    ("ltm/data_group.yml", "bigip2", "list ltm data-group internal dg_ans", "/legacy"),
    ("ltm/policy.yml", "bigip2", "list ltm policy pol_ans",
     "0 { http-uri path starts-with values { /api } }"),
]
UNDO = {"ltm/sys_db.yml": "reset"}


@pytest.mark.parametrize("playbook,node,line,text", CASES, ids=[c[0] for c in CASES])
def test_module_is_idempotent_syncs_and_removes(ansible, playbook, node, line, text):
    ansible.twice(playbook, "bigip1")
    shows(LAB.name, node, line, text, present=True)
    ansible.twice(playbook, "bigip1", state=UNDO.get(playbook, "absent"))
    shows(LAB.name, node, line, text, present=False)


def test_iapp_template_and_service_are_idempotent_sync_and_remove(ansible):
    """bigip_iapp_template (a file upload, then tmsh load), then bigip_iapp_service from it: each
    twice, the service's objects on the peer, then both removed twice."""
    ansible.twice("ltm/iapp_template.yml", "bigip1")
    assert "tmsh::create ltm pool" in shows(LAB.name, "bigip2", "list sys application template tcp_ans", "implementation", True)
    ansible.twice("ltm/iapp_service.yml", "bigip1")
    listed = shows(LAB.name, "bigip2", "list ltm virtual /Common/svc_ans.app/svc_ans_vs", "10.1.10.120:http", True)
    assert "app-service svc_ans.app/svc_ans" in listed
    ansible.twice("ltm/iapp_service.yml", "bigip1", state="absent")
    shows(LAB.name, "bigip2", "list ltm pool recursive", "svc_ans.app", present=False)
    ansible.twice("ltm/iapp_template.yml", "bigip1", state="absent")
    shows(LAB.name, "bigip2", "list sys application template tcp_ans", "implementation", present=False)


@pytest.mark.parametrize("playbook", ["ltm/wait.yml", "ltm/provision.yml", "ltm/command.yml"])
def test_read_only_module_succeeds_and_changes_nothing(ansible, playbook):
    for _ in range(2):
        recap = ansible.run(playbook, "bigip1")
        assert recap.clean and not recap.changed, recap.output


def test_static_route_goes_into_the_nodes_own_routing_table(ansible):
    def kernel_route():
        return biglab("exec", LAB.name, "bigip1", "--", "ip", "route", "show", "10.9.9.0/24").stdout
    ansible.twice("ltm/static_route.yml", "bigip1")
    assert "gw 10.1.20.1" in peer_tmsh(LAB.name, "bigip1", "list net route rt_ans")
    assert "via 10.1.20.1" in kernel_route()
    ansible.twice("ltm/static_route.yml", "bigip1", state="absent")
    assert kernel_route().strip() == ""
