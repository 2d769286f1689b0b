"""F5's Ansible modules for iRules and data groups, run unmodified against an ha-pair: each
playbook twice (changes, then no change), checked in tmsh on the peer, then `state: absent` twice."""
from __future__ import annotations

import pytest

from tests.ansible.conftest import Ansible, peer_tmsh
from tests.lab.conftest import HA_PAIR, one_lab, wait_for

LAB = "tantcl"
B1 = "10.250.42.11"


@pytest.fixture(scope="module")
def lab():
    with one_lab(HA_PAIR, LAB, "10.250.42.0/24") as name:
        yield name


@pytest.fixture(scope="module")
def ansible(lab, tmp_path_factory):
    return Ansible(tmp_path_factory.mktemp("ansible"), {"bigip1": B1})


def shows(node: str, line: str, text: str, present: bool) -> str:
    def seen():
        out = peer_tmsh(LAB, node, line)
        return out if (text in out) == present else None
    return wait_for(seen, timeout=20, interval=0.3, what=f"{node} `{line}` shows {text!r}: {present}")


CASES = [
    ("tcl/irule.yml", "bigip2", "list ltm rule irule_ans", 'starts_with "/api"'),
    ("tcl/data_group.yml", "bigip2", "list ltm data-group internal dg_ans", "/legacy"),
]


@pytest.mark.parametrize("playbook,node,line,text", CASES, ids=[c[0] for c in CASES])
def test_module_is_idempotent_syncs_and_removes(ansible, playbook, node, line, text):
    ansible.twice(playbook, "bigip1")
    shows(node, line, text, present=True)
    ansible.twice(playbook, "bigip1", state="absent")
    shows(node, line, text, present=False)
