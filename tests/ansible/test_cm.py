"""F5's Ansible modules for clustering (f5networks.f5_modules, unmodified) against a pair that
starts untrusted and unclustered (topologies/ha-pair-onboard.yml): each playbook runs twice, the
first run changes, the second changes nothing, and the result is read in tmsh on the PEER."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "tests" / "ansible" / "playbooks" / "cm"
ANSIBLE = Path(sys.executable).parent / "ansible-playbook"
LAB, SUBNET = "tacm", "10.251.73.0/24"
BIGIP1, BIGIP2 = "10.251.73.11", "10.251.73.12"

pytestmark = [pytest.mark.lab, pytest.mark.skipif(os.geteuid() != 0, reason="a real lab needs root")]


def biglab(*args: str, timeout: float = 120) -> str:
    proc = subprocess.run([sys.executable, "-m", "lab.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"biglab {' '.join(args)}: {proc.stdout}\n{proc.stderr}"
    return proc.stdout


def tmsh(node: str, line: str) -> str:
    return biglab("exec", LAB, node, "--", "tmsh", *line.split())


@pytest.fixture(scope="module")
def ansible(tmp_path_factory):
    """The onboarding pair, and a runner of one playbook: returns (changed, failed) from the recap."""
    d = tmp_path_factory.mktemp("ansible")
    (d / "inventory.ini").write_text(
        f"bigip1 ansible_host={BIGIP1} peer={BIGIP2} admin_user=admin admin_password=admin "
        f"ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    (d / "ansible.cfg").write_text("[defaults]\ngathering = explicit\nretry_files_enabled = False\n"
                                   "host_key_checking = False\n")
    env = {**os.environ, "ANSIBLE_CONFIG": str(d / "ansible.cfg"), "F5_TELEMETRY_OFF": "true"}

    def run(playbook: str, *extra: str) -> tuple[int, int]:
        proc = subprocess.run([str(ANSIBLE), "-i", str(d / "inventory.ini"), str(PLAYBOOKS / playbook), *extra],
                              cwd=d, env=env, capture_output=True, text=True, timeout=300)
        recap = re.search(r"bigip1\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)
        assert recap, f"no PLAY RECAP from {playbook}:\n{proc.stdout}\n{proc.stderr}"
        failed = int(recap.group(2)) + int(recap.group(3))
        assert failed == 0, f"{playbook} failed:\n{proc.stdout[-3000:]}"
        return int(recap.group(1)), failed

    biglab("up", str(ROOT / "topologies" / "ha-pair-onboard.yml"), "--name", LAB, "--mgmt-subnet", SUBNET,
           timeout=300)
    try:
        yield run
    finally:
        biglab("down", LAB, timeout=120)


def twice(run, playbook: str, *extra: str) -> None:
    assert run(playbook, *extra)[0] > 0, f"{playbook}: the first run changed nothing"
    assert run(playbook, *extra)[0] == 0, f"{playbook}: the second run changed something"


def test_trust_device_group_members_traffic_group_and_sync_cluster_the_pair(ansible):
    assert "Standalone" in tmsh("bigip2", "show cm sync-status")
    twice(ansible, "cluster.yml")
    dg = tmsh("bigip2", "list cm device-group dg-ha")
    assert "devices { bigip1 bigip2 }" in dg and "type sync-failover" in dg and "auto-sync enabled" in dg
    assert "ha-order { bigip1 bigip2 }" in tmsh("bigip2", "list cm traffic-group traffic-group-1")
    status = tmsh("bigip2", "show cm sync-status")
    assert "In Sync" in status and "dg-ha (In Sync): All devices in the device group are in sync" in status


def test_a_traffic_group_is_made_and_removed(ansible):
    twice(ansible, "traffic_group.yml")
    assert "ha-order { bigip2 bigip1 }" in tmsh("bigip2", "list cm traffic-group traffic-group-2")
    twice(ansible, "traffic_group.yml", "-e", "tg_state=absent")
    assert "traffic-group-2" not in tmsh("bigip2", "list cm traffic-group")


def test_the_group_and_the_trust_are_undone(ansible):
    twice(ansible, "unclustered.yml")
    assert "dg-ha" not in tmsh("bigip2", "list cm device-group")
    status = tmsh("bigip2", "show cm sync-status")
    assert "Standalone" in status and "Optional action: Add a device to the trust domain" in status
