"""The Docker backend on a real dockerd: ha-pair in containers, trusted and synced; killing the
active container fails over and moves the client's ARP entry; a stopped node boots with its
configuration from its volume; `down` leaves no container, volume, veth or bridge.

Skipped, with the reason, only when dockerd cannot be reached (`.ci/run` installs and starts it;
by hand: scripts/dockerd.sh). A missing or stale image is built here (`make image`'s code).
"""
import os
import subprocess
import sys

import pytest
import yaml

from lab.lifecycle import inspect
from lab.model import state
from lab.model.plan import prefix
from lab.runtime import wiring
from lab.runtime.backends import get_backend
from lab.runtime.backends.docker import IMAGE_PYTHON, DockerUnavailable, check_image, client
from lab.runtime.control import call, node_status
from lab.runtime.lab import Lab
from tests.lab.conftest import HA_PAIR, Labs, biglab, leftovers, wait_for
from tests.lab.test_dsc import VIP, mac, neigh, sync_status, tg_states


@pytest.fixture(scope="module")
def docker():
    try:
        c = client()
    except DockerUnavailable as exc:
        pytest.skip(f"the Docker backend needs dockerd: {exc}")
    try:
        check_image(c)
    except DockerUnavailable:
        from lab.runtime.image import build
        build(say=lambda msg: None)
    return c


def docker_leftovers(c, lab: str) -> list[str]:
    p = prefix(lab)
    left = [f"container {x.name}" for x in c.containers.list(all=True) if x.name.startswith(p)]
    return left + [f"volume {v.name}" for v in c.volumes.list() if v.name.startswith(p)]


@pytest.fixture(scope="module")
def dha(docker):
    """ha-pair in containers, named `dha`, management subnet 10.254.10.0/24."""
    labs = Labs()
    try:
        yield labs(HA_PAIR, "dha", "10.254.10.0/24", "--backend", "docker")
    finally:
        labs.close()
        assert not docker_leftovers(docker, "dha")


def test_ha_pair_in_containers_is_trusted_synced_and_carries_traffic(docker, dha):
    report = inspect.status(dha)
    assert report["backend"] == "docker"
    for node in ("bigip1", "bigip2"):
        n = report["nodes"][node]
        assert n["state"] == "ready" and n["sync"] == "In Sync"
        assert all(link["state"] == "connected" for link in n["trust"]["peers"].values())
    assert tg_states(dha) == {"bigip1": "active", "bigip2": "standby"}
    # each node is its own container: no Docker network, only the capabilities it needs
    plan, be = Lab.open(dha).plan, get_backend("docker")
    for node in plan.nodes:
        attrs = docker.containers.get(node.netns).attrs
        assert attrs["HostConfig"]["NetworkMode"] == "none"
        assert set(attrs["HostConfig"]["CapAdd"]) == {"NET_ADMIN", "NET_RAW", "NET_BIND_SERVICE"}
        assert attrs["HostConfig"]["CapDrop"] == ["ALL"]
        assert any(m["Type"] == "volume" and m["Name"] == node.netns for m in attrs["Mounts"])
    daemon = int((state.node_dir(dha, "bigip1") / "daemon.pid").read_text())
    assert daemon in be.pids(plan.node("bigip1")) and be.signal(plan.node("bigip1"), daemon, 0)
    assert IMAGE_PYTHON in open(f"/proc/{daemon}/cmdline").read().replace("\0", " ")
    # traffic crosses the bridges (in the lab's fabric namespace, whatever dockerd did to the host's FORWARD chain)
    out = Lab.open(dha).run("client", ["curl", "-s", "-m", "3", f"http://{VIP}/x"], capture_output=True, text=True)
    assert out.stdout.strip() in ("web1 /x", "web2 /x")
    # tmsh through `biglab exec` (docker exec), and the host reaches the management addresses
    shown = biglab("exec", dha, "bigip2", "--", "tmsh", "show", "cm", "sync-status").stdout
    assert "In Sync" in shown
    assert subprocess.run(["ping", "-c1", "-W2", "10.254.10.12"], capture_output=True).returncode == 0


def test_killing_the_active_container_moves_the_virtual_address_and_the_clients_arp_entry(docker, dha):
    biglab("exec", dha, "client", "--", "ping", "-c1", "-W2", VIP)
    assert neigh(dha, "client", VIP) == mac(dha, "bigip1")
    docker.containers.get(f"{prefix(dha)}bigip1").kill()   # pull the power
    assert docker.containers.get(f"{prefix(dha)}bigip1").status == "exited"
    wait_for(lambda: neigh(dha, "client", VIP) == mac(dha, "bigip2"), timeout=15,
             what="the client's ARP entry for the virtual address to move to bigip2")
    assert node_status(dha, "bigip2").failover.traffic_groups["traffic-group-1"] == "active"
    assert inspect.status(dha)["nodes"]["bigip1"]["state"] == "exited"


def test_a_killed_node_boots_with_its_configuration_from_its_volume(docker, dha):
    container = docker.containers.get(f"{prefix(dha)}bigip1")
    if container.status == "running":  # on its own: pull the power first
        container.kill()
    call(dha, "bigip2", "tmsh", line="create ltm pool while-off members add { 10.1.20.21:80 }")
    boot(dha, "bigip1")
    Lab.open(dha).start_daemon("bigip1")
    wait_for(lambda: sync_status(dha, "bigip1").status == "In Sync", timeout=20, what="bigip1 back in sync")
    members = node_status(dha, "bigip1").iquery.trust.members
    assert {m.name for m in members} == {"bigip1", "bigip2"}  # trust kept in the volume
    assert "ltm pool while-off" in call(dha, "bigip1", "tmsh", line="list ltm pool")
    assert tg_states(dha) == {"bigip1": "standby", "bigip2": "active"}
    # pause freezes it (its heartbeats stop), resume thaws it
    wait_for(lambda: set(paths_to(dha, "bigip1").values()) == {"up"}, timeout=15,
             what="bigip1's heartbeats heard on every path")
    container.pause()
    try:
        assert inspect.status(dha)["nodes"]["bigip1"]["state"] == "paused"
        wait_for(lambda: set(paths_to(dha, "bigip1").values()) == {"down"}, timeout=15,
                 what="bigip2 to lose every heartbeat path to the paused bigip1")
    finally:
        container.unpause()
    wait_for(lambda: set(paths_to(dha, "bigip1").values()) == {"up"}, timeout=15,
             what="bigip1's heartbeats back after resume")


def boot(lab, name):
    """Start a killed container again and wire it as `up` did (its volume kept the node's state)."""
    node = Lab.open(lab).node(name)
    client().containers.get(node.netns).start()
    wiring.wire_node(get_backend("docker").netns_ref(node), node)


def paths_to(lab, peer, node="bigip2"):
    return node_status(lab, node).failover.peers[peer].paths


def test_topology_backend_key_and_down_leaves_nothing(docker, tmp_path):
    topo = {"name": "dsm", "backend": "docker", "trust": False,
            "vlans": {"mgmt": {"subnet": "10.1.1.0/24", "host_address": "10.1.1.1"},
                      "lan": {"subnet": "10.1.2.0/24"}},
            "nodes": {"h1": {"kind": "host", "interfaces": {"mgmt": "10.1.1.21", "lan": "10.1.2.21"}},
                      "h2": {"kind": "host", "interfaces": {"lan": "10.1.2.22"}}}}
    path = tmp_path / "small.yml"
    path.write_text(yaml.safe_dump(topo))
    labs = Labs()
    try:
        labs(path, "dsm", "10.254.11.0/24")
        assert inspect.status("dsm")["backend"] == "docker"
        assert biglab("exec", "dsm", "h1", "--", "ping", "-c1", "-W2", "10.1.2.22").returncode == 0
        # exec passes output and status back: docker exec -i (stdin too), or the SDK without docker
        proc = subprocess.run([sys.executable, "-m", "lab.cli", "exec", "dsm", "h2", "--", "sh", "-c",
                               "cat; echo err >&2; exit 3"], input="in\n", capture_output=True, text=True)
        assert (proc.returncode, proc.stdout, proc.stderr) == (3, "in\n", "err\n")
        no_cli = {**os.environ, "PATH": "/nonexistent"}
        proc = subprocess.run([sys.executable, "-m", "lab.cli", "exec", "dsm", "h2", "--", "sh", "-c",
                               "echo out; echo err >&2; exit 3"], env=no_cli, capture_output=True, text=True)
        assert (proc.returncode, proc.stdout, proc.stderr) == (3, "out\n", "err\n")
        # run_in: subprocess.run's contract (stdin, timeout); nft and tc work in a node
        h1 = Lab.open("dsm").plan.node("h1")
        assert Lab.open("dsm").run("h1", ["cat"], input="x" * 100000, capture_output=True, text=True).stdout == "x" * 100000
        nft = Lab.open("dsm").run("h1", ["nft", "-f", "-"], input="table inet t {\n chain c { type filter hook input "
                            "priority 0; tcp dport 4353 drop; }\n}\n", capture_output=True, text=True)
        assert nft.returncode == 0, nft.stderr
        assert Lab.open("dsm").run("h1", ["tc", "qdisc", "show", "dev", "lan"], capture_output=True).returncode == 0
        with pytest.raises(subprocess.TimeoutExpired):
            Lab.open("dsm").run("h1", ["sleep", "30"], timeout=0.5)
        # one process by its host pid, as chaos verbs do it
        be = get_backend("docker")
        pid = be.start(h1, ["sleep", "300"], str(state.node_dir("dsm", "h1") / "sleep.out"))
        assert pid in be.pids(h1) and be.signal(h1, pid, 0)
        assert not be.signal(Lab.open("dsm").plan.node("h2"), pid, 0)  # not h2's process
        be.stop_process(h1, pid)
        assert pid not in be.pids(h1) and not be.signal(h1, pid, 0)
    finally:
        labs.close()  # checks: no namespace, veth, bridge, run dir or daemon left
    assert docker_leftovers(docker, "dsm") == []


def test_missing_image_is_a_clear_error_that_makes_nothing(docker, monkeypatch):
    monkeypatch.setenv("BIGLAB_IMAGE", "biglab-none:missing")
    proc = biglab("up", str(HA_PAIR), "--name", "dnoimg", "--mgmt-subnet", "10.254.12.0/24",
                  "--backend", "docker", check=False)
    assert proc.returncode == 1
    assert "no image biglab-none:missing: build it with `make image`" in proc.stderr
    assert leftovers("dnoimg") == [] and docker_leftovers(docker, "dnoimg") == []
