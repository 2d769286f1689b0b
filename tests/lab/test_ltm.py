"""LTM on a pair (the shared `ltm_lab`, conftest.py): real HTTP from the client through the virtual
server to web1 and web2."""
import os
import signal
import subprocess
import sys
from collections import Counter

import pytest

from lab.model import state
from lab.runtime.backends.netns import enter_netns
from lab.runtime.control import ControlError, call, node_status
from lab.runtime.lab import Lab
from tests.lab.conftest import wait_for

VIP = "10.1.10.100"
CLIENT = r'''
import socket, sys
s = socket.create_connection(("10.1.10.100", 80), timeout=5)
for line in sys.stdin:
    try:
        s.sendall(b"GET /" + line.strip().encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        data = s.recv(4096)
        print(data.split(b"\r\n\r\n", 1)[1].decode().strip() if data else "EOF", flush=True)
    except OSError as exc:
        print("ERROR", exc, flush=True)
'''


def curl(lab, path="/"):
    out = Lab.open(lab).run("client", ["curl", "-s", "-m", "3", f"http://{VIP}{path}"], capture_output=True, text=True)
    return out.stdout.split()[0] if out.returncode == 0 and out.stdout else None


def tmsh(lab, node, line):
    return call(lab, node, "tmsh", line=line)


def member(lab, node, name):
    return node_status(lab, node).ltm.pools["/Common/web_pool"].members[f"/Common/{name}"]


class Held:
    """A keep-alive connection from the client, held open across configuration changes."""

    def __init__(self, lab):
        ns = Lab.open(lab).plan.node("client").netns
        self.proc = subprocess.Popen([sys.executable, "-c", CLIENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, preexec_fn=lambda: enter_netns(f"/run/netns/{ns}"))

    def get(self, path: str) -> str:
        self.proc.stdin.write(path + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def close(self):
        self.proc.kill()
        self.proc.wait()


def test_requests_spread_over_both_members_round_robin(ltm_lab):
    served = Counter(curl(ltm_lab) for _ in range(10))
    assert served == {"web1": 5, "web2": 5}
    stats = node_status(ltm_lab, "bigip1").ltm.virtuals["/Common/vs_http"].stats
    assert stats.tot_conns >= 10 and stats.bytes_in > 0 and stats.bytes_out > 0


def test_ratio_member_weights_the_members(ltm_lab):
    tmsh(ltm_lab, "bigip1", "modify ltm pool web_pool load-balancing-mode ratio-member members modify "
                            "{ 10.1.20.21:80 { ratio 3 } }")
    try:
        served = Counter(curl(ltm_lab) for _ in range(8))
        assert served == {"web1": 6, "web2": 2}
    finally:
        tmsh(ltm_lab, "bigip1", "modify ltm pool web_pool load-balancing-mode round-robin members modify "
                                "{ 10.1.20.21:80 { ratio 1 } }")


def test_a_member_whose_server_stops_is_marked_down_and_gets_no_traffic(ltm_lab):
    pid = int((state.node_dir(ltm_lab, "web1") / "web.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    try:
        wait_for(lambda: member(ltm_lab, "bigip1", "10.1.20.21:80").availability == "offline",
                 what="web1 marked down")
        m = member(ltm_lab, "bigip1", "10.1.20.21:80")
        assert m.reason.startswith("Pool member has been marked down by a monitor")
        assert Counter(curl(ltm_lab) for _ in range(4)) == {"web2": 4}
        text = subprocess.run([sys.executable, "-m", "lab.cli", "logs", ltm_lab, "bigip1"], capture_output=True,
                              text=True).stdout
        assert "01070638:5: Pool /Common/web_pool member /Common/10.1.20.21:80 monitor status down" in text
    finally:
        Lab.open(ltm_lab).start_server("web1")
    wait_for(lambda: member(ltm_lab, "bigip1", "10.1.20.21:80").availability == "available", what="web1 up")


def only_one_serves(lab, down: str, up: str, server: str) -> None:
    """`down` marked down by its monitor, `up` still up, and every request served by `server`."""
    wait_for(lambda: member(lab, "bigip1", down).availability == "offline", what=f"{down} marked down")
    assert member(lab, "bigip1", up).availability == "available"
    assert Counter(curl(lab) for _ in range(4)) == {server: 4}


def test_a_member_is_probed_by_its_own_monitor_rule_instead_of_its_pools(ltm_lab):
    """web1's own rule (an HTTP monitor whose receive string its page never matches) takes it down;
    web2, under the pool's rule, keeps serving."""
    tmsh(ltm_lab, "bigip1", 'create ltm monitor http never interval 1 timeout 3 recv "no-such-page-text"')
    tmsh(ltm_lab, "bigip1", "modify ltm pool web_pool members modify { 10.1.20.21:80 { monitor min 1 of { never } } }")
    try:
        only_one_serves(ltm_lab, down="10.1.20.21:80", up="10.1.20.22:80", server="web2")
        listed = tmsh(ltm_lab, "bigip1", "list ltm pool web_pool")
        assert "monitor min 1 of { never }" in listed
    finally:
        tmsh(ltm_lab, "bigip1", "modify ltm pool web_pool members modify { 10.1.20.21:80 { monitor default } }")
        tmsh(ltm_lab, "bigip1", "delete ltm monitor http never")
    wait_for(lambda: member(ltm_lab, "bigip1", "10.1.20.21:80").availability == "available", what="web1 up")


def test_an_external_monitors_script_runs_with_the_members_address_and_port(ltm_lab):
    """A script (uploaded, installed as a sys file external-monitor) that prints only for web1's
    address and port: web1 stays up, web2 goes down, traffic goes to web1 alone."""
    upload = state.node_dir(ltm_lab, "bigip1") / "var/config/rest/downloads/only_web1.sh"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_text('#!/bin/sh\n[ "$1" = "::ffff:10.1.20.21" ] && [ "$2" = 80 ] && [ "$WANT" = yes ] && echo up\n')
    tmsh(ltm_lab, "bigip1", "create sys file external-monitor only_web1 "
                            "source-path file:///var/config/rest/downloads/only_web1.sh")
    tmsh(ltm_lab, "bigip1", "create ltm monitor external only_web1 run only_web1 interval 1 timeout 3 "
                            "user-defined WANT yes")
    tmsh(ltm_lab, "bigip1", "modify ltm pool web_pool monitor only_web1")
    try:
        only_one_serves(ltm_lab, down="10.1.20.22:80", up="10.1.20.21:80", server="web1")
    finally:
        tmsh(ltm_lab, "bigip1", "modify ltm pool web_pool monitor fast")   # as ltm_ready set it
        tmsh(ltm_lab, "bigip1", "delete ltm monitor external only_web1")
        tmsh(ltm_lab, "bigip1", "delete sys file external-monitor only_web1")
    wait_for(lambda: member(ltm_lab, "bigip1", "10.1.20.22:80").availability == "available", what="web2 up")


def test_a_member_at_an_address_the_device_cannot_reach_is_marked_down_and_gets_no_traffic(ltm_lab):
    """A BIG-IP takes a member at any address; its monitor finds it unreachable. The node has no
    route to 10.9.9.0/24, so each probe fails at once and no packet leaves the node."""
    tmsh(ltm_lab, "bigip1", "modify ltm pool web_pool members add { 10.9.9.1:80 }")
    try:
        wait_for(lambda: member(ltm_lab, "bigip1", "10.9.9.1:80").availability == "offline",
                 what="10.9.9.1:80 marked down")
        assert member(ltm_lab, "bigip1", "10.9.9.1:80").reason.startswith(
            "Pool member has been marked down by a monitor")
        assert set(curl(ltm_lab) for _ in range(6)) <= {"web1", "web2"}
    finally:
        tmsh(ltm_lab, "bigip1", "modify ltm pool web_pool members delete { 10.9.9.1:80 }")
        tmsh(ltm_lab, "bigip1", "delete ltm node 10.9.9.1")


def test_a_disabled_member_keeps_its_connections_and_gets_no_new_ones_and_forced_offline_ends_them(ltm_lab):
    held = Held(ltm_lab)
    try:
        first = held.get("one").split()[0]
        addr = {"web1": "10.1.20.21:80", "web2": "10.1.20.22:80"}[first]
        other = "web2" if first == "web1" else "web1"
        tmsh(ltm_lab, "bigip1", f"modify ltm pool web_pool members modify {{ {addr} {{ session user-disabled }} }}")
        assert held.get("two") == f"{first} /two"            # the existing connection goes on
        assert Counter(curl(ltm_lab) for _ in range(4)) == {other: 4}
        tmsh(ltm_lab, "bigip1", f"modify ltm pool web_pool members modify {{ {addr} {{ state user-down }} }}")
        assert held.get("three").startswith(("EOF", "ERROR")) or held.get("three") == ""
        assert member(ltm_lab, "bigip1", addr).reason == "Forced down"
    finally:
        held.close()
        for addr in ("10.1.20.21:80", "10.1.20.22:80"):
            tmsh(ltm_lab, "bigip1", f"modify ltm pool web_pool members modify {{ {addr} {{ session user-enabled state user-up }} }}")


def test_garbage_and_half_closes_do_not_stop_the_virtual_server(ltm_lab):
    script = ("import socket\n"
              "s = socket.create_connection(('10.1.10.100', 80), timeout=5)\n"
              "s.sendall(bytes(range(256)) * 4)\n"
              "s.shutdown(socket.SHUT_WR)\n"
              "try:\n    s.recv(4096)\nexcept OSError:\n    pass\n")
    for _ in range(3):
        Lab.open(ltm_lab).run("client", [sys.executable, "-c", script], timeout=10)
    assert curl(ltm_lab) in ("web1", "web2")


@pytest.mark.parametrize("line, message", [
    ("create ltm virtual bad destination 10.9.9.9:80 pool web_pool", "is on no VLAN of this device"),
    ('create ltm monitor http badre recv "([a-z"', "not a valid regular expression"),
])
def test_bad_ltm_configuration_is_refused_and_changes_nothing(ltm_lab, line, message):
    before = tmsh(ltm_lab, "bigip1", "list ltm virtual") + tmsh(ltm_lab, "bigip1", "list ltm pool")
    with pytest.raises(ControlError, match=message):
        tmsh(ltm_lab, "bigip1", line)
    assert tmsh(ltm_lab, "bigip1", "list ltm virtual") + tmsh(ltm_lab, "bigip1", "list ltm pool") == before


def test_the_standby_serves_nothing_and_after_failover_the_new_active_serves(ltm_lab):
    assert node_status(ltm_lab, "bigip2").ltm.virtuals["/Common/vs_http"].serving is False
    tmsh(ltm_lab, "bigip1", "run sys failover standby")
    try:
        wait_for(lambda: node_status(ltm_lab, "bigip2").ltm.virtuals["/Common/vs_http"].serving, what="bigip2 serving")
        wait_for(lambda: curl(ltm_lab) in ("web1", "web2"), what="a request through bigip2")
        assert node_status(ltm_lab, "bigip2").ltm.virtuals["/Common/vs_http"].stats.tot_conns >= 1
        assert node_status(ltm_lab, "bigip1").ltm.virtuals["/Common/vs_http"].serving is False
    finally:   # the lab is shared with test_ltm_dataplane.py: bigip2 hands the group back
        tmsh(ltm_lab, "bigip2", "run sys failover standby")
        wait_for(lambda: node_status(ltm_lab, "bigip1").ltm.virtuals["/Common/vs_l4"].serving, what="bigip1 serving again")
        wait_for(lambda: all(curl(ltm_lab, f":{port}/") in ("web1", "web2") for port in (80, 81)),
                 what="the client through bigip1 again (its ARP moved back)")
