"""The Docker backend's pure parts: the topology key, names, commands mapped into the image and
the CLI flag. The real-dockerd behaviour is in tests/lab/test_docker.py."""
import sys

import pytest

from lab.cli import parser
from lab.model.plan import make_plan
from lab.model.topology import TopologyError, load, parse
from lab.runtime.backends import BACKENDS, get_backend
from lab.runtime.backends.docker import IMAGE_PYTHON, in_image, lab_of
from tests.unit.test_topology import HA, ha


def test_backend_defaults_to_netns_and_a_topology_may_ask_for_docker():
    assert load(HA).backend == "netns"
    assert parse({**ha(), "backend": "docker"}).backend == "docker"
    with pytest.raises(TopologyError) as err:
        parse({**ha(), "backend": "lxc"}, "t.yml")
    assert err.value.path == "backend" and "'netns' or 'docker'" in err.value.problem


def test_the_cli_takes_either_backend_and_refuses_others(capsys):
    assert parser().parse_args(["up", "f.yml", "--backend", "docker"]).backend == "docker"
    assert parser().parse_args(["up", "f.yml"]).backend is None  # then the file's `backend:` decides
    with pytest.raises(SystemExit):
        parser().parse_args(["up", "f.yml", "--backend", "lxc"])
    assert "invalid choice: 'lxc'" in capsys.readouterr().err
    assert BACKENDS == ("netns", "docker")
    with pytest.raises(ValueError, match="available: netns, docker"):
        get_backend("lxc")


def test_containers_are_named_like_namespaces_and_know_their_lab():
    plan = make_plan(load(HA, name="dab1"), backend="docker")
    assert plan.backend == "docker"
    assert [n.netns for n in plan.nodes][:2] == ["bl-dab1-bigip1", "bl-dab1-bigip2"]
    assert {lab_of(n) for n in plan.nodes} == {"dab1"}


def test_the_lab_s_own_python_commands_run_with_the_image_s_python():
    assert in_image([sys.executable, "-m", "node.daemon", "x"]) == [IMAGE_PYTHON, "-m", "node.daemon", "x"]
    assert in_image(["ip", "neigh"]) == ["ip", "neigh"]
    assert in_image(["python3", sys.executable]) == ["python3", sys.executable]


def test_the_base_image_comes_from_the_host_s_own_debian_mirror(tmp_path):
    from lab.runtime.image import DEFAULT_MIRROR, host_mirror
    assert host_mirror(tmp_path) == DEFAULT_MIRROR
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\nComponents: main\n")
    assert host_mirror(tmp_path) == "http://mirror.example/debian"
    (tmp_path / "sources.list").write_text("deb [arch=amd64] http://old.example/debian bookworm main\n")
    assert host_mirror(tmp_path) == "http://old.example/debian"
