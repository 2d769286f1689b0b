"""ha-pair on real namespaces: wiring, trust over 4353, the CLI, links, and clean removal."""
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from node.netlink import IPRoute

from lab.model import state
from lab.model.plan import prefix
from lab.runtime import namespaces, wiring
from lab.runtime.control import call, node_status
from lab.runtime.lab import Lab
from tests.lab.conftest import HA_PAIR, ROOT, biglab, daemon_pids, leftovers, wait_for


def status(lab: str) -> dict:
    return json.loads(biglab("status", lab, "--json").stdout)


def peer_state(lab, node, peer):
    link = node_status(lab, node).iquery.peers.get(peer)
    return link and (link.state, link.code)


def test_up_forms_trust_and_status_reports_every_node(ha_lab):
    report = status(ha_lab)
    assert report["name"] == ha_lab
    assert {n: v["kind"] for n, v in report["nodes"].items()} == {
        "bigip1": "bigip", "bigip2": "bigip", "client": "host", "web1": "server", "web2": "server"}
    assert report["nodes"]["bigip1"]["mgmt"] == "10.251.1.11"
    assert all(n["state"] == "ready" for n in report["nodes"].values())
    b1, b2 = report["nodes"]["bigip1"]["trust"], report["nodes"]["bigip2"]["trust"]
    assert b1["peers"]["bigip2"]["state"] == b2["peers"]["bigip1"]["state"] == "connected"
    assert b1["domain_ca"] == b2["domain_ca"]
    assert sorted(b2["members"]) == ["bigip1", "bigip2"]
    assert (ROOT / "certs" / ha_lab / "ca.crt").exists()


def test_each_node_has_its_vlan_interfaces_and_nothing_else(ha_lab):
    out = Lab.open(ha_lab).run("bigip1", ["ip", "-br", "-4", "addr"], capture_output=True, text=True).stdout
    assert {line.split()[0].split("@")[0]: line.split()[2] for line in out.splitlines() if not line.startswith("lo")} == {
        "mgmt": "10.251.1.11/24", "ha": "10.1.30.11/24", "external": "10.1.10.11/24",
        "internal": "10.1.20.11/24"}
    routes = Lab.open(ha_lab).run("client", ["ip", "-4", "route"], capture_output=True, text=True).stdout
    assert "default" not in routes  # nothing is routed out of the lab


def test_nodes_reach_their_vlans_and_the_host_reaches_management(ha_lab):
    ping = ["ping", "-c1", "-W2"]
    assert biglab("exec", ha_lab, "client", "--", *ping, "10.1.10.12").returncode == 0
    assert biglab("exec", ha_lab, "client", "--", *ping, "10.1.20.21", check=False).returncode != 0
    assert subprocess.run([*ping, "10.251.1.12"], capture_output=True).returncode == 0


def test_the_lab_s_bridges_are_its_own_and_the_host_s_firewall_is_not_on_their_way(ha_lab):
    plan, p = Lab.open(ha_lab).plan, prefix(ha_lab)
    with IPRoute() as ipr:   # on the host: only its veth into the management VLAN
        assert [(name, kind) for _, name, kind in wiring.lab_links(ipr, p)] == [(f"{p}h0", "veth")]
    with namespaces.inside(plan.fabric):
        with IPRoute() as fab:
            bridges = {name for _, name, kind in wiring.lab_links(fab, p) if kind == "bridge"}
        netfilter = {Path(f"/proc/sys/net/bridge/bridge-nf-call-{t}").read_text().strip()
                     for t in ("iptables", "ip6tables", "arptables")
                     if Path(f"/proc/sys/net/bridge/bridge-nf-call-{t}").exists()}
    assert bridges == {b.name for b in plan.bridges} and netfilter <= {"0"}
    # a host forward rule dropping everything from this lab's links changes nothing: no frame of it
    # passes there (bridged in the fabric; host <-> management is the host's own traffic). nft, which
    # set-up installs (a host with only iptables' nft backend sees the same hook)
    table = f"{p}test-drop"
    subprocess.run(["nft", "-f", "-"], check=True, text=True, input=(
        f"table inet {table} {{ chain forward {{ type filter hook forward priority -10; "
        f'iifname "{p}*" counter drop; }}; }}'))
    try:
        ping = ["ping", "-c1", "-W2"]
        assert biglab("exec", ha_lab, "client", "--", *ping, "10.1.10.12").returncode == 0
        assert biglab("exec", ha_lab, "bigip1", "--", *ping, "10.251.1.12").returncode == 0
        assert subprocess.run([*ping, "10.251.1.12"], capture_output=True).returncode == 0
    finally:
        subprocess.run(["nft", "delete", "table", "inet", table], check=True)


def test_logs_read_like_a_bigip_log(ha_lab):
    out = biglab("logs", ha_lab, "bigip1").stdout
    assert "bigip1 notice iquery[" in out and "Added device bigip2 (10.251.1.12)" in out
    out2 = biglab("logs", ha_lab, "bigip2").stdout
    assert "Joined the trust domain of bigip1 as peer authority" in out2


def test_a_link_taken_down_stops_traffic_until_it_is_up_again(ha_lab):
    ping = ["exec", ha_lab, "client", "--", "ping", "-c1", "-W1", "10.1.10.11"]
    biglab("link", ha_lab, "client:external", "down")
    try:
        assert status(ha_lab)["nodes"]["client"]["interfaces"]["external"]["link"] == "down"
        assert biglab(*ping, check=False).returncode != 0
    finally:
        biglab("link", ha_lab, "client:external", "up")
    wait_for(lambda: biglab(*ping, check=False).returncode == 0, what="client to reach bigip1 again")


def test_losing_the_management_link_drops_the_channel_with_a_reason_and_it_comes_back(ha_lab):
    biglab("link", ha_lab, "bigip2:mgmt", "down")
    try:
        state_, code = wait_for(lambda: (s := peer_state(ha_lab, "bigip1", "bigip2")) and s[0] != "connected" and s,
                                what="bigip1 to see bigip2 gone")
        assert code in ("idle-timeout", "timeout", "unreachable")
    finally:
        biglab("link", ha_lab, "bigip2:mgmt", "up")
    wait_for(lambda: peer_state(ha_lab, "bigip1", "bigip2")[0] == "connected", what="channel back")
    wait_for(lambda: peer_state(ha_lab, "bigip2", "bigip1")[0] == "connected", what="channel back")


def test_garbage_on_4353_is_refused_and_the_daemon_keeps_serving(ha_lab):
    with socket.create_connection(("10.251.1.11", 4353), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n" * 10)
        sock.settimeout(5)
        try:
            while sock.recv(4096):
                pass
        except (ConnectionResetError, socket.timeout):
            pass
    refused = wait_for(lambda: [r for r in node_status(ha_lab, "bigip1").iquery.refused
                                if r.address == "10.251.1.1"], what="the refusal")
    assert refused[-1].code == "tls"
    assert peer_state(ha_lab, "bigip1", "bigip2") == ("connected", "")


@pytest.mark.parametrize("args, message", [
    (["link", "tha", "nosuch:ha", "down"], "lab tha has no node 'nosuch'"),
    (["link", "tha", "bigip1:dmz", "down"], "node bigip1 has no interface on VLAN 'dmz'"),
    (["link", "tha", "bigip1", "down"], "give the interface as NODE:VLAN"),
    (["exec", "tha", "nosuch", "--", "true"], "lab tha has no node 'nosuch'"),
    (["status", "nolab"], "no lab named 'nolab' is up"),
    (["logs", "tha", "client"], "client is a host node: it runs no daemon"),
])
def test_unknown_names_on_the_command_line_get_a_clear_error(ha_lab, args, message):
    proc = biglab(*args, check=False)
    assert proc.returncode == 1
    assert message in " ".join(proc.stderr.split())


def test_a_bad_topology_creates_nothing(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(HA_PAIR.read_text().replace("10.1.20.22", "10.1.99.22"))
    proc = biglab("up", str(bad), "--name", "tbad", "--mgmt-subnet", "10.251.9.0/24", check=False)
    assert proc.returncode == 1
    assert f"{bad}: nodes.web2.interfaces.internal: 10.1.99.22 is not a host address" in " ".join(proc.stderr.split())
    assert leftovers("tbad") == []


def test_a_device_from_another_trust_domain_is_refused_and_can_be_added_again(make_lab):
    lab = make_lab(HA_PAIR, "tfor", "10.251.4.0/24")
    call(lab, "bigip2", "reset-trust")  # bigip2 is now a domain of its own, with its own CA
    wait_for(lambda: peer_state(lab, "bigip1", "bigip2") == ("disconnected", "untrusted"),
             what="bigip1 to refuse bigip2's certificate")
    reason = node_status(lab, "bigip1").iquery.peers["bigip2"].reason
    assert "not issued by this trust domain's CA" in reason
    wait_for(lambda: any(r.code == "untrusted" for r in node_status(lab, "bigip2").iquery.refused),
             what="bigip2 to refuse bigip1's certificate")
    call(lab, "bigip1", "add-device", address="10.251.4.12", username="admin", password="admin")
    wait_for(lambda: peer_state(lab, "bigip1", "bigip2") == ("connected", "")
             and peer_state(lab, "bigip2", "bigip1") == ("connected", ""), what="trust again")


def test_add_device_with_wrong_credentials_is_refused(make_lab):
    lab = make_lab(HA_PAIR, "tcred", "10.251.5.0/24", "--timeout", "30")
    call(lab, "bigip2", "reset-trust")
    with pytest.raises(Exception, match="authentication failed"):
        call(lab, "bigip1", "add-device", address="10.251.5.12", username="admin", password="nope")


def test_a_daemon_killed_and_restarted_keeps_its_trust(make_lab):
    lab = make_lab(HA_PAIR, "tkill", "10.251.6.0/24")
    ca = node_status(lab, "bigip2").iquery.trust.domain_ca
    pid = int((state.node_dir(lab, "bigip2") / "daemon.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: peer_state(lab, "bigip1", "bigip2")[0] == "disconnected", what="bigip2 gone")
    Lab.open(lab).start_daemon("bigip2")
    wait_for(lambda: peer_state(lab, "bigip1", "bigip2") == ("connected", ""), what="bigip2 back")
    # its control socket opens after its channels: its peer sees it back a moment before it answers
    assert wait_for(lambda: node_status(lab, "bigip2"), what="bigip2 answering").iquery.trust.domain_ca == ca


def test_sigterm_stops_a_daemon_cleanly(make_lab):
    lab = make_lab(HA_PAIR, "tterm", "10.251.7.0/24")
    pid = int((state.node_dir(lab, "bigip1") / "daemon.pid").read_text())
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}") or
             open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z", what="daemon exit")
    log = (state.node_dir(lab, "bigip1") / "log.jsonl").read_text()
    assert "Stopping on SIGTERM" in log
    assert "Traceback" not in (state.node_dir(lab, "bigip1") / "daemon.out").read_text()


def test_two_labs_run_side_by_side(ha_lab, make_lab):
    other = make_lab(HA_PAIR, "tha2", "10.251.2.0/24")
    assert all(n["state"] == "ready" for n in status(other)["nodes"].values())
    biglab("down", other)
    assert leftovers(other) == []
    assert all(n["state"] == "ready" for n in status(ha_lab)["nodes"].values())


def test_down_cleans_up_after_biglab_itself_was_killed():
    proc = subprocess.Popen([sys.executable, "-m", "lab.cli", "up", str(HA_PAIR), "--name", "tcrash",
                             "--mgmt-subnet", "10.251.3.0/24"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: daemon_pids("tcrash"), timeout=30, interval=0.005, what="daemons started")
    finally:
        proc.kill()
        proc.wait()
    pids = daemon_pids("tcrash")
    biglab("down", "tcrash")
    assert leftovers("tcrash", pids) == []
