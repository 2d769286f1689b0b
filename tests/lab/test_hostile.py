"""Hostile traffic against running nodes: garbage and forged heartbeats on UDP 1026, malformed DNS
over UDP and TCP 53 (and a TCP slow-loris). The node keeps serving, its memory stays flat, and its
peer misses no heartbeat. The floods are bounded and sent from lab nodes to lab addresses."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import requests
import urllib3

from lab.model import state
from lab.model.plan import prefix
from lab.runtime.control import ControlError, call, node_status
from tests.lab.conftest import HA_PAIR, ROOT, biglab, module_lab, wait_for

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
urllib3.disable_warnings()

LAB, DNS_LAB = "thost", "thdns"
MGMT = {"bigip1": "10.251.63.11", "bigip2": "10.251.63.12"}
EXTERNAL = {"bigip1": "10.1.10.11", "bigip2": "10.1.10.12"}   # the client's VLAN: not a failover path
INTERNAL = {"bigip1": "10.1.20.11", "bigip2": "10.1.20.12"}   # web1's VLAN: a failover path
LISTENER = "10.30.0.53"
TG = "traffic-group-1"
RSS_GROWTH_KB = 32 * 1024


lab = module_lab(HA_PAIR, LAB, "10.251.63.0/24")
dns_lab = module_lab(ROOT / "topologies" / "gtm-3dc.yml", DNS_LAB, "10.251.64.0/24",
                     ready=lambda name: wait_for(lambda: "10.10.1.100" in dig(name, "www.example.com"), 30,
                                                 what="gtm1 answering www"))


def in_node(lab: str, node: str, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", prefix(lab) + node, *argv], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def flood(lab: str, node: str | None, *args) -> dict:
    """A bounded flood from a lab node, or from the host (None: the management network's side)."""
    argv = (sys.executable, "-m", "tests.lab.flood", *map(str, args))
    proc = in_node(lab, node, *argv) if node else subprocess.run(argv, capture_output=True, text=True,
                                                                 timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def rss_kb(lab: str, node: str) -> int:
    pid = (state.node_dir(lab, node) / "daemon.pid").read_text().strip()
    line = next(l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:"))
    return int(line.split()[1])


def missed(lab: str) -> dict[str, int]:
    """How often each bigip logged a heartbeat path lost (010c0083) so far."""
    return {n: (state.node_dir(lab, n) / "log.jsonl").read_text().count('"010c0083"') for n in MGMT}


def channel_up(lab: str) -> bool:
    return "bigip2" in node_status(lab, "bigip1").iquery.open_peers()


def roles(lab: str) -> dict[str, str]:
    return {n: node_status(lab, n).failover.traffic_groups[TG] for n in MGMT}


def serving(lab: str) -> bool:
    """Both bigips answer REST, and each hears the other on both heartbeat paths."""
    try:
        return all(_serving(lab, n, addr) for n, addr in MGMT.items())
    except (requests.RequestException, ControlError):
        return False


def _serving(lab: str, n: str, addr: str) -> bool:
    if requests.get(f"https://{addr}/mgmt/tm/sys", auth=("admin", "admin"), verify=False,
                    timeout=5).status_code != 200:
        return False
    peer = node_status(lab, n).failover.peers["bigip2" if n == "bigip1" else "bigip1"]
    return peer.alive and [s for a, s in peer.paths.items()
                           if a in (*INTERNAL.values(), "10.1.30.11", "10.1.30.12")] == ["up", "up"]


@pytest.fixture
def healthy(lab):
    """The pair settled (bigip1 active) before and after; any node a test stopped is started again."""
    wait_for(lambda: serving(lab) and roles(lab) == {"bigip1": "active", "bigip2": "standby"}, 30,
             what="the pair settled")
    yield lab
    biglab("chaos", lab, "reset")
    for n in MGMT:
        try:
            node_status(lab, n)
        except ControlError:
            biglab("chaos", lab, "start", n)
    wait_for(lambda: serving(lab) and sorted(roles(lab).values()) == ["active", "standby"], 30,
             what="the pair settled again")
    if roles(lab)["bigip1"] != "active":   # no auto-failback: an admin gives the group back
        call(lab, "bigip2", "tmsh", line=f"run sys failover standby traffic-group {TG}")
    wait_for(lambda: serving(lab) and roles(lab) == {"bigip1": "active", "bigip2": "standby"}, 30,
             what="bigip1 active again")


# -- heartbeats ---------------------------------------------------------------------------------
def test_garbage_heartbeats_leave_failover_heartbeats_and_memory_alone(healthy):
    before, rss, bad = missed(LAB), rss_kb(LAB, "bigip1"), node_status(LAB, "bigip1").failover.bad_heartbeats
    flood(LAB, "client", "hb-garbage", EXTERNAL["bigip1"], 100_000)
    flood(LAB, "web1", "hb-garbage", INTERNAL["bigip1"], 300_000)   # on a heartbeat path itself
    flood(LAB, "web1", "hb-garbage", INTERNAL["bigip2"], 100_000)
    assert node_status(LAB, "bigip1").failover.bad_heartbeats > bad, "the flood reached the node"
    assert serving(LAB) and roles(LAB) == {"bigip1": "active", "bigip2": "standby"}
    assert missed(LAB) == before, "a peer missed heartbeats during the flood"
    assert rss_kb(LAB, "bigip1") - rss < RSS_GROWTH_KB


def test_a_heartbeat_with_a_malformed_field_does_not_stop_the_standby(healthy):
    flood(LAB, "web1", "hb-forge", INTERNAL["bigip2"], 0.05, "bigip1", '{"declined": 5, "tgs": {}}')
    time.sleep(1.0)
    assert serving(LAB)


def test_a_forged_heartbeat_from_an_address_that_is_no_failover_path_is_ignored(healthy):
    flood(LAB, "client", "hb-forge", EXTERNAL["bigip1"], 0.5, "bigip2", '{"tgs": {}, "state": "standby"}')
    assert "10.1.10.51" not in node_status(LAB, "bigip1").failover.peers["bigip2"].paths


def test_forged_heartbeats_do_not_keep_a_killed_active_alive(healthy):
    timeout = node_status(LAB, "bigip2").failover.timeout
    forger = subprocess.Popen(["ip", "netns", "exec", prefix(LAB) + "client", sys.executable, "-m", "tests.lab.flood",
                               "hb-forge", EXTERNAL["bigip2"], str(timeout + 4), "bigip1"], cwd=ROOT,
                              stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        biglab("chaos", LAB, "kill", "bigip1")
        wait_for(lambda: node_status(LAB, "bigip2").failover.traffic_groups[TG] == "active", timeout + 2,
                 what="bigip2 taking over from the killed bigip1")
    finally:
        forger.wait(timeout + 10)


# -- 4353 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("certificate", ["untrusted", "trusted"])
def test_malformed_4353_frames_leave_the_channel_heartbeats_and_memory_alone(healthy, certificate):
    """Malformed and truncated frames over TLS to bigip1's 4353, from a self-signed certificate
    (refused at the handshake) and from bigip2's own (past the handshake, into the framing)."""
    certdir = str(state.node_dir(LAB, "bigip2")) if certificate == "trusted" else "-"
    wait_for(lambda: channel_up(LAB), 30, what="bigip1's 4353 channel to bigip2")
    before, rss = missed(LAB), rss_kb(LAB, "bigip1")
    log = (state.node_dir(LAB, "bigip1") / "log.jsonl").read_text()
    flood(LAB, None, "iq-frames", MGMT["bigip1"], 500, certdir)
    flood(LAB, None, "iq-frames", MGMT["bigip1"], 500, certdir)
    after = (state.node_dir(LAB, "bigip1") / "log.jsonl").read_text()[len(log):]
    assert ('"channel-refused"' if certificate == "untrusted" else '"bad-message"') in after or \
        '"inbound-closed"' in after, "the flood reached the 4353 listener"
    assert serving(LAB) and roles(LAB) == {"bigip1": "active", "bigip2": "standby"}
    assert '"channel-down"' not in after and channel_up(LAB), "bigip1's 4353 channel to bigip2 dropped"
    assert missed(LAB) == before, "a peer missed heartbeats during the flood"
    assert rss_kb(LAB, "bigip1") - rss < RSS_GROWTH_KB


# -- DNS ----------------------------------------------------------------------------------------
def dig(lab: str, name: str, *opts: str) -> str:
    return in_node(lab, "client-nyc", "dig", "+short", "+time=2", "+tries=1", *opts, f"@{LISTENER}", name,
                   timeout=10).stdout


def listener_errors(lab: str) -> int:
    return sum(s.errors for s in node_status(lab, "gtm1").gtm.listeners.values())


def test_malformed_dns_over_udp_and_tcp_leaves_the_listener_answering(dns_lab):
    rss, errors = rss_kb(dns_lab, "gtm1"), listener_errors(dns_lab)
    flood(dns_lab, "client-nyc", "dns-udp", LISTENER, 100_000)
    flood(dns_lab, "client-nyc", "dns-tcp", LISTENER, 500)
    assert "10.10.1.100" in dig(dns_lab, "www.example.com")
    assert "10.10.1.100" in dig(dns_lab, "www.example.com", "+tcp")
    assert listener_errors(dns_lab) == errors, "the answerer raised on a query"
    assert rss_kb(dns_lab, "gtm1") - rss < RSS_GROWTH_KB


def test_a_tcp_slow_loris_does_not_starve_queries(dns_lab):
    loris = subprocess.Popen(["ip", "netns", "exec", prefix(dns_lab) + "client-lon", sys.executable, "-m",
                              "tests.lab.flood", "dns-slowloris", LISTENER, "200", "8"], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(2)   # the connections are open and trickling
        for _ in range(4):
            started = time.monotonic()
            assert "10.10.1.100" in dig(dns_lab, "www.example.com", "+tcp")
            assert "10.10.1.100" in dig(dns_lab, "www.example.com")
            assert time.monotonic() - started < 3
            time.sleep(1)
    finally:
        out, _ = loris.communicate(timeout=30)
    assert json.loads(out)["connections"] == 200


# -- lab addresses stay on the host ----------------------------------------------------------------
DOWN = "10.252.89.11"   # a management address whose lab is not up: the host's default route would take it


def test_a_host_side_helper_refuses_the_address_of_a_lab_that_is_down(lab):
    assert flood(LAB, None, "tls-idle", MGMT["bigip1"], 443, 1, 0)["opened"] == 1   # its lab is up: through
    bench = f"import sys; sys.path.insert(0, 'bench'); import common; common.host_argv(['wrk'], {DOWN!r})"
    for argv in ([sys.executable, "-m", "tests.lab.flood", "tls-idle", DOWN, "443", "1", "0"],
                 [sys.executable, "-c", bench]):
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert proc.returncode != 0 and f"{DOWN}: no lab is up on this address" in proc.stderr, proc.stderr
