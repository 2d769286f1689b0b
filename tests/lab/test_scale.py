"""Scale on real namespaces: daemons forked from the host's warm interpreter (and the old way on
request), their memory in `biglab status`."""
import json
import os
import signal
from pathlib import Path

from lab.model import state
from lab.runtime import forkserver, ntpd, samepage
from lab.runtime.control import node_status
from tests.lab.conftest import HA_PAIR, biglab, wait_for


def parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def daemon_pid(lab: str, node: str) -> int:
    return int((state.node_dir(lab, node) / "daemon.pid").read_text())


def connected(lab, node, peer) -> bool:
    link = node_status(lab, node).iquery.peers.get(peer)
    return bool(link) and link.state == "connected"


def test_daemons_are_forked_from_one_warm_interpreter_and_lose_nothing(make_lab):
    lab = make_lab(HA_PAIR, "tfork", "10.251.40.0/24")
    server = forkserver.pid()
    assert server is not None and os.listdir(f"/proc/{server}/task") == [str(server)]  # one thread
    b1, b2 = daemon_pid(lab, "bigip1"), daemon_pid(lab, "bigip2")
    assert parent(b1) == parent(b2) == server
    web1 = int((state.node_dir(lab, "web1") / "web.pid").read_text())   # a server node's web server too,
    assert parent(web1) == server and "node.webserver" not in Path(f"/proc/{web1}/cmdline").read_text()
    ntp = ntpd.pid(lab)   # and the lab's NTP server, in the host's namespace
    assert parent(ntp) == server and os.readlink(f"/proc/{ntp}/ns/net") == os.readlink("/proc/self/ns/net")
    assert os.readlink(f"/proc/{b1}/cwd") == str(state.node_dir(lab, "bigip1"))
    assert "ready" in (state.node_dir(lab, "bigip1") / "log.jsonl").read_text()
    nodes = json.loads(biglab("status", lab, "--json").stdout)["nodes"]
    mem = nodes["bigip1"]["memory"]
    assert 0 < mem["uss"] < mem["pss"] < mem["rss"]   # the imports' pages are shared
    # the server's memory was marked for same-page merging before it forked, so the daemon's is too
    flags = [line.split()[1:] for line in Path(f"/proc/{b1}/smaps").read_text().splitlines()
             if line.startswith("VmFlags:")]
    assert any("mg" in f for f in flags)
    if os.access(samepage.KSM / "run", os.W_OK):
        assert (samepage.KSM / "run").read_text().strip() == "1"   # ksmd runs while the server does
    # kill -9: the server reaps it (no zombie); started again, it is forked again
    os.kill(b2, signal.SIGKILL)
    wait_for(lambda: not Path(f"/proc/{b2}").exists(), what="the killed daemon reaped")
    wait_for(lambda: not connected(lab, "bigip1", "bigip2"), what="bigip2 gone")
    biglab("chaos", lab, "start", "bigip2")
    again = daemon_pid(lab, "bigip2")
    assert again != b2 and parent(again) == server
    wait_for(lambda: connected(lab, "bigip1", "bigip2"), what="bigip2 back")
    # the server itself killed: its daemons run on; a daemon started again gets a new server
    os.kill(server, signal.SIGKILL)
    biglab("chaos", lab, "stop", "bigip2")
    biglab("chaos", lab, "start", "bigip2")
    again = forkserver.pid()
    assert again not in (None, server) and parent(daemon_pid(lab, "bigip2")) == again
    wait_for(lambda: connected(lab, "bigip2", "bigip1"), what="bigip2 back")
    # the server is the host's: `down` leaves it warm for the next `up` (it ends itself a minute
    # after its last daemon; the lab's own processes are gone, as the fixture checks)
    biglab("down", lab)
    assert forkserver.pid() == again


def test_no_fork_server_starts_an_interpreter_per_daemon(make_lab):
    lab = make_lab(HA_PAIR, "tfork2", "10.251.41.0/24", "--no-fork-server")
    b1 = daemon_pid(lab, "bigip1")   # the old way: an interpreter per daemon
    assert "node.daemon" in Path(f"/proc/{b1}/cmdline").read_text() and parent(b1) != forkserver.pid()
    web1 = int((state.node_dir(lab, "web1") / "web.pid").read_text())
    assert "node.webserver" in Path(f"/proc/{web1}/cmdline").read_text()
    assert "memory" in json.loads(biglab("status", lab, "--json").stdout)["nodes"]["bigip1"]
