"""F5's Ansible modules (f5networks.f5_modules, from the `ansible` package) against real lab nodes.

Each module names its lab (`LAB = HA_PAIR_LAB`, a LabSpec below) and takes the `ansible` fixture:
a runner with an inventory for that lab, which the project's ansible-playbook runs each playbook
with twice: the first run must change the device, the second must change nothing (idempotence).
A lab is brought up by the first test that needs it and kept while the next test names the same
one, whatever its module (test_ansible_ltm, _part, _sys and _ucs share one ha-pair). The result is then checked in tmsh on the peer, never trusted from the
module's own report (some modules report success on a 404).

Every provider sets `no_f5_teem: true`: without it each module posts usage data to F5 at the end
of its run, out of the lab (the F5_TEEM variable does not turn it off).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from lab.model import topology
from lab.runtime.guard import lab_route
from tests.lab.conftest import HA_PAIR, ROOT, Shared, biglab, for_worker, wait_for

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
RECAP = re.compile(r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
                   r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)", re.M)


def pytest_collection_modifyitems(config, items):
    reason = None
    if os.geteuid() != 0:
        reason = "Ansible conformance tests need root (a real lab: namespaces, bridges, veth)"
    elif not ANSIBLE_PLAYBOOK.exists():
        reason = "ansible is not installed (pip install -e '.[test]')"
    if reason:
        for item in items:
            if "tests/ansible" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=reason))


@dataclass
class Recap:
    ok: int
    changed: int
    unreachable: int
    failed: int
    output: str

    @property
    def clean(self) -> bool:
        return not self.failed and not self.unreachable


class Ansible:
    """Runs playbooks under tests/ansible/playbooks against the hosts of one lab."""

    def __init__(self, workdir: Path, hosts: dict[str, str], timeout: float = 180):
        self.workdir = workdir
        self.timeout = timeout
        self.inventory = workdir / "inventory.yml"
        self.hosts = hosts
        provider = {"server": "{{ ansible_host }}", "server_port": 443, "user": "admin",
                    "password": "admin", "validate_certs": False, "no_f5_teem": True}
        self.inventory.write_text(yaml.safe_dump({"all": {
            "hosts": {name: {"ansible_host": address} for name, address in hosts.items()},
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                     "provider": provider}}}))

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
        env.update(ANSIBLE_HOME=str(self.workdir / "home"), ANSIBLE_LOCAL_TEMP=str(self.workdir / "tmp"),
                   ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_RETRY_FILES_ENABLED="False",
                   ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_GATHERING="explicit",
                   ANSIBLE_FORCE_COLOR="0", F5_TELEMETRY_OFF="true")
        return env

    def run(self, playbook: str, host: str, **extra_vars) -> Recap:
        lab_route(self.hosts[host])   # the modules connect from the host: only to a lab that is up
        cmd = [str(ANSIBLE_PLAYBOOK), "-i", str(self.inventory), "-l", host, str(PLAYBOOKS / playbook)]
        for key, value in extra_vars.items():
            cmd += ["-e", f"{key}={value}"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout, env=self.env(),
                              cwd=self.workdir)
        output = proc.stdout + proc.stderr
        found = {m["host"]: m for m in RECAP.finditer(proc.stdout)}
        if host not in found:
            raise AssertionError(f"no PLAY RECAP for {host} ({' '.join(cmd)} -> {proc.returncode}):\n{output}")
        m = found[host]
        return Recap(int(m["ok"]), int(m["changed"]), int(m["unreachable"]), int(m["failed"]), output)

    def twice(self, playbook: str, host: str, **extra_vars) -> None:
        """The first run changes the device, the second (same input) changes nothing."""
        first = self.run(playbook, host, **extra_vars)
        assert first.clean and first.changed, f"run 1 of {playbook} {extra_vars}:\n{first.output}"
        second = self.run(playbook, host, **extra_vars)
        assert second.clean and not second.changed, f"run 2 of {playbook} {extra_vars}:\n{second.output}"


@dataclass(frozen=True)
class LabSpec:
    """A lab the modules here run against: its topology, its name and management subnet, and the
    node the playbooks run on."""
    topology: Path
    name: str
    mgmt_subnet: str
    host: str

    def address(self, node: str) -> str:
        """A node's management address in this lab."""
        topo = topology.load(self.topology, self.name, self.mgmt_subnet)
        return str(topo.address(node, topo.mgmt_vlan).ip)


HA_PAIR_LAB = LabSpec(HA_PAIR, *for_worker("tansl", "10.251.70.0/24"), "bigip1")
GTM_LAB = LabSpec(ROOT / "topologies" / "gtm-3dc.yml", *for_worker("tansg", "10.251.74.0/24"), "gtm1")
ONBOARD_LAB = LabSpec(ROOT / "topologies" / "ha-pair-onboard.yml", *for_worker("tanscm", "10.251.73.0/24"), "bigip1")
LABS: dict[LabSpec, Shared] = {}


@pytest.fixture
def ansible(request, tmp_path_factory) -> Ansible:
    """A runner of playbooks against the host of the test module's LAB, brought up if it is not."""
    spec: LabSpec = request.module.LAB
    shared = LABS.setdefault(spec, Shared(spec.topology, spec.name, spec.mgmt_subnet))
    shared.get()
    timeout = getattr(request.module, "ANSIBLE_TIMEOUT", 180)
    return Ansible(tmp_path_factory.mktemp("ansible"), {spec.host: spec.address(spec.host)}, timeout)


def pytest_runtest_teardown(item, nextitem):
    """Takes a lab down once the next test (if any) runs against another one."""
    keep = getattr(nextitem.module, "LAB", None) if nextitem is not None else None
    for spec, shared in LABS.items():
        if spec != keep:
            shared.close()


def peer_tmsh(lab: str, node: str, line: str) -> str:
    """tmsh on a node, as a user types it; a refusal (nonzero exit) comes back as its text."""
    proc = biglab("exec", lab, node, "--", "tmsh", *line.split(), check=False)
    return proc.stdout + proc.stderr


def shows(lab: str, node: str, line: str, text: str, present: bool = True) -> str:
    """Waits until `tmsh LINE` on a node shows TEXT (or, present=False, no longer does)."""
    def seen():
        out = peer_tmsh(lab, node, line)
        return out if (text in out) == present else None
    return wait_for(seen, timeout=20, interval=0.3, what=f"{node} `{line}` shows {text!r}: {present}")
