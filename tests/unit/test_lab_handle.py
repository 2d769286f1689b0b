"""The Lab handle without a real lab: what it runs in a node, and what it refuses."""
import os
import sys

import pytest

from lab.model.errors import LabError
from lab.model.plan import make_plan
from lab.model.topology import load
from lab.runtime.lab import Lab
from tests.unit.test_topology import HA


@pytest.fixture
def lab(tmp_path, monkeypatch):
    monkeypatch.setenv("BIGLAB_RUN_DIR", str(tmp_path))
    return Lab(make_plan(load(HA, name="hnd")))


def test_tmsh_in_a_bigip_is_our_client_told_its_socket_without_touching_this_process(lab):
    before = dict(os.environ)
    argv, env = lab.command(lab.node("bigip1"), ["tmsh", "list", "ltm", "pool"])
    assert argv == [sys.executable, "-m", "node.tmsh_cli", "list", "ltm", "pool"]
    assert env == {"BIGLAB_CTL": str(lab.node_dir("bigip1") / "ctl.sock")}
    assert dict(os.environ) == before
    assert lab.command(lab.node("client"), ["ping", "-c1", "x"]) == (["ping", "-c1", "x"], {})
    with pytest.raises(LabError, match="client is a host node: tmsh runs on bigip nodes"):
        lab.command(lab.node("client"), ["tmsh"])


def test_unknown_nodes_and_vlans_are_refused_naming_what_there_is(lab):
    with pytest.raises(LabError, match="lab hnd has no node 'nosuch' \\(nodes: bigip1, bigip2"):
        lab.node("nosuch")
    with pytest.raises(LabError, match="node client has no interface on VLAN 'ha'"):
        lab.interface("client", "ha")
    assert lab.bigips == ["bigip1", "bigip2"]


def test_a_lab_that_is_not_up_cannot_be_opened(lab):
    with pytest.raises(LabError, match="no lab named 'hnd' is up \\(labs up: none\\)"):
        Lab.open("hnd")
