"""The failure lab against real labs: every chaos verb, events, capture, NTP, certificates, and
every shipped scenario. One module-scoped ha-pair (`cht`, 10.253.2.0/24) carries most tests;
each test leaves it healed (`biglab chaos cht reset` in the fixture), and it is removed at the end
even when a test fails, with a check that nothing (namespaces, links, daemons, NTP server) is left.
"""
from __future__ import annotations

import json

from pathlib import Path

import pytest

from lab.lifecycle import inspect
from lab.model import state
from lab.runtime import ntpd
from lab.runtime.control import node_status
from lab.runtime.lab import Lab
from lab.runtime.processes import alive

from tests.lab.conftest import HA_PAIR, ROOT, Labs, biglab, wait_for

LAB = "cht"
LONG = ("flapping",)   # minutes of random loss: bench/chaos.py runs them
SCENARIOS = sorted(p for p in (ROOT / "scenarios").glob("*.yml") if "ha-pair" in p.read_text() and p.stem not in LONG)
GTM_SCENARIOS = sorted(p for p in (ROOT / "scenarios").glob("*.yml") if "gtm-3dc" in p.read_text())


@pytest.fixture(scope="module")
def lab():
    labs = Labs()
    server = None
    try:
        labs(HA_PAIR, LAB, "10.253.2.0/24")
        server = ntpd.pid(LAB)
        yield LAB
    finally:
        labs.close()
        # a zombie has ended: init reaps the detached server in its own time (here up to ~1.5 s)
        assert server is None or not alive(server), "the lab's NTP server survived down"


@pytest.fixture
def healed(lab):
    """The lab, settled: one active device, In Sync; every fault repaired afterwards."""
    wait_for(settled, 30, what="the lab to settle")
    yield lab
    biglab("chaos", LAB, "reset")
    wait_for(settled, 30, what="the lab to settle after the test")


def st(node: str) -> dict:
    return node_status(LAB, node, timeout=2.0)


def settled() -> bool:
    s1, s2 = st("bigip1"), st("bigip2")
    active = [s for s in (s1, s2) if s.failover.traffic_groups.get("traffic-group-1") == "active"]
    return len(active) == 1 and s1.sync.status == s2.sync.status == "In Sync"


def link(node: str, peer: str) -> dict:
    return st(node).iquery.peers[peer]


def chaos_list() -> str:
    return biglab("chaos", LAB, "list").stdout


def active() -> str:
    return next(n for n in ("bigip1", "bigip2")
                if st(n).failover.traffic_groups.get("traffic-group-1") == "active")


def ping(node: str, address: str) -> bool:
    return Lab.open(LAB).run(node, ["ping", "-c1", "-W1", address], capture_output=True).returncode == 0


# -- verbs --------------------------------------------------------------------------------------
def test_link_down_and_up_is_listed_and_shown_in_status(healed):
    biglab("chaos", LAB, "link", "bigip1:ha", "down")
    assert "link bigip1:ha down" in chaos_list()
    assert inspect.status(LAB)["nodes"]["bigip1"]["interfaces"]["ha"]["link"] == "down"
    wait_for(lambda: st("bigip2").failover.peers["bigip1"].paths["10.1.30.11"] == "down", 10,
             what="the ha heartbeat path to be lost")
    assert st("bigip2").failover.peers["bigip1"].alive
    biglab("chaos", LAB, "link", "bigip1:ha", "up")
    assert "no faults" in chaos_list()
    wait_for(lambda: st("bigip2").failover.peers["bigip1"].paths["10.1.30.11"] == "up", 10,
             what="the ha path back")


def test_netem_loss_drops_packets_and_reset_restores_them(healed):
    biglab("chaos", LAB, "netem", "bigip1:ha", "--loss", "100%")
    assert "netem bigip1:ha loss 100%" in chaos_list()
    assert not ping("bigip1", "10.1.30.12")
    assert ping("bigip1", "10.1.20.12")            # other interfaces are untouched
    biglab("chaos", LAB, "netem", "bigip1:ha", "reset")
    assert ping("bigip1", "10.1.30.12") and "no faults" in chaos_list()


def test_netem_delay_is_applied_or_refused_clearly(healed):
    proc = biglab("chaos", LAB, "netem", "bigip2:ha", "--delay", "40ms", "--jitter", "5ms", check=False)
    if proc.returncode == 0:  # a kernel with sch_netem
        out = Lab.open(LAB).run("bigip2", ["tc", "qdisc", "show", "dev", "ha"], capture_output=True, text=True)
        assert "netem" in out.stdout and "delay 40ms" in out.stdout
    else:
        assert "CONFIG_NET_SCH_NETEM" in proc.stderr and "no faults" in chaos_list()


def test_netem_in_the_topology_is_applied_at_up(make_lab, tmp_path):
    import yaml
    data = yaml.safe_load(HA_PAIR.read_text())
    data.pop("ha"), data.pop("config")
    data["netem"] = {"client:external": {"loss": "100%"}}
    path = tmp_path / "lossy.yml"
    path.write_text(yaml.safe_dump(data))
    name = make_lab(path, "ctn", "10.253.3.0/24")
    assert Lab.open(name).run("client", ["ping", "-c1", "-W1", "10.1.10.11"], capture_output=True).returncode != 0
    assert Lab.open(name).run("bigip1", ["ping", "-c1", "-W1", "10.1.10.12"], capture_output=True).returncode == 0


def test_block_a_udp_port_cuts_ntp_for_that_node(healed):
    biglab("chaos", LAB, "block", "bigip1", "123/udp")        # (4353: the blocked-4353 scenario)
    assert "block bigip1 123/udp" in chaos_list()
    nft = Lab.open(LAB).run("bigip1", ["nft", "list", "table", "inet", "biglab_chaos"], capture_output=True, text=True)
    assert nft.stdout.count("udp dport 123 drop") == 2
    wait_for(lambda: not st("bigip1").ntp.synchronized, 15, what="bigip1 to lose NTP")
    assert st("bigip2").ntp.synchronized
    biglab("chaos", LAB, "unblock", "bigip1", "123/udp")
    wait_for(lambda: st("bigip1").ntp.synchronized, 10, what="bigip1 back in sync with NTP")


def test_pause_the_active_fails_over_and_resume_settles_to_one_active(healed):
    first = active()
    other = "bigip2" if first == "bigip1" else "bigip1"
    biglab("chaos", LAB, "pause", first)
    assert f"paused {first}" in chaos_list()
    wait_for(lambda: st(other).failover.traffic_groups["traffic-group-1"] == "active", 10,
             what=f"{other} to take over")
    assert "paused" in biglab("chaos", LAB, "start", first, check=False).stderr
    biglab("chaos", LAB, "resume", first)
    wait_for(settled, 20, what="one active device after resume")


def test_stop_and_start_a_server_and_kill_refuses_a_host(healed):
    biglab("chaos", LAB, "stop", "web1")
    assert "stopped web1" in chaos_list()
    assert Lab.open(LAB).run("bigip1", ["curl", "-s", "-m", "2", "http://10.1.20.21/"],
                         capture_output=True).returncode != 0
    biglab("chaos", LAB, "start", "web1")
    wait_for(lambda: Lab.open(LAB).run("bigip1", ["curl", "-s", "-m", "2", "http://10.1.20.21/x"],
                                   capture_output=True, text=True).stdout.startswith("web1"), 10, what="web1 back")
    proc = biglab("chaos", LAB, "kill", "client", check=False)
    assert proc.returncode == 1 and "host node" in proc.stderr


def test_stop_then_start_a_bigip_keeps_its_configuration(healed):
    biglab("chaos", LAB, "stop", "bigip2")
    assert "stopped bigip2" in chaos_list()
    wait_for(lambda: st("bigip1").sync.status == "Disconnected", 15, what="Disconnected")
    biglab("chaos", LAB, "start", "bigip2")
    wait_for(settled, 20, what="In Sync after start")
    assert "web_pool" in Lab.open(LAB).tmsh("bigip2", "list ltm pool")


def test_partition_halves_splits_the_pair_and_bridge_needs_three(healed):
    biglab("chaos", LAB, "partition", "--halves")
    assert "partition (halves) bigip1 | bigip2" in chaos_list()
    assert not ping("bigip1", "10.1.30.12") and not ping("bigip2", "10.1.1.11")
    proc = biglab("chaos", LAB, "partition", "bigip1", "bigip2", check=False)
    assert "already in place" in proc.stderr
    biglab("chaos", LAB, "heal")
    assert ping("bigip1", "10.1.30.12")
    proc = biglab("chaos", LAB, "partition", "--bridge", check=False)
    assert proc.returncode == 1 and "at least 3 nodes" in proc.stderr and "no faults" in chaos_list()


def test_version_mismatch_is_refused_with_the_reason_and_reset_heals(healed):
    biglab("chaos", LAB, "version", "bigip2", "2.0")
    assert "version bigip2 2.0" in chaos_list()
    wait_for(lambda: link("bigip1", "bigip2").code == "version-mismatch", 15, what="version-mismatch")
    assert "speaks 2.0, this device 1.0" in link("bigip1", "bigip2").reason
    biglab("chaos", LAB, "version", "bigip2", "reset")
    wait_for(settled, 20, what="In Sync after the version reset")


def test_a_short_lived_certificate_expires_and_renewal_restores_trust(healed):
    out = biglab("chaos", LAB, "cert", "bigip2", "renew", "--valid", "4").stdout
    assert "valid until" in out
    wait_for(lambda: link("bigip1", "bigip2").code == "expired", 20, what="bigip2's certificate to expire")
    assert "certificate of bigip2 expired" in link("bigip1", "bigip2").reason
    assert "node clock" in link("bigip1", "bigip2").reason
    biglab("chaos", LAB, "cert", "bigip2", "renew")
    wait_for(settled, 20, what="trust back after renewal")
    assert st("bigip1").iquery.trust.domain_ca == st("bigip2").iquery.trust.domain_ca


def test_ntp_keeps_clocks_in_step_and_shows_in_tmsh(healed):
    wait_for(lambda: st("bigip1").ntp.synchronized, 10, what="NTP sync")
    text = Lab.open(LAB).tmsh("bigip1", "show sys ntp")
    assert "*10.253.2.1" in text and "synchronized" in text
    biglab("chaos", LAB, "clock", "bigip1", "-2h")       # NTP is running: it steps the clock back
    wait_for(lambda: abs(st("bigip1").clock.offset) < 1, 10, what="NTP to step the clock back")
    assert any(e.get("event") == "ntp-step" and e["device"] == "bigip1" for e in events())


def test_clock_skew_without_ntp_breaks_4353_and_reset_heals(healed):
    biglab("chaos", LAB, "ntp", "stop")
    assert "ntp stopped" in chaos_list()
    biglab("chaos", LAB, "clock", "bigip1", "-2h", "--drift", "500")
    wait_for(lambda: link("bigip1", "bigip2").code == "not-yet-valid", 10, what="not-yet-valid")
    assert "node clock" in link("bigip1", "bigip2").reason
    assert st("bigip1").clock.drift_ppm == 500
    biglab("chaos", LAB, "clock", "bigip1", "reset")
    wait_for(lambda: link("bigip1", "bigip2").state == "connected", 15, what="connected after clock reset")
    proc = biglab("chaos", LAB, "clock", "client", "+1h", check=False)
    assert proc.returncode == 1 and "no node clock" in proc.stderr


def test_bad_chaos_input_is_refused_and_changes_nothing(healed, capsys):
    from lab.cli import main
    for args, msg in ((["kill", "nosuch"], "no node 'nosuch'"), (["block", "bigip1", "70000"], "port"),
                      (["unblock", "bigip1", "4353"], "not blocked"), (["link", "bigip1", "down"], "NODE:VLAN"),
                      (["link", "bigip1:nosuch", "down"], "no interface on VLAN"),
                      (["netem", "bigip1:ha", "--loss", "lots"], "not valid"),
                      (["clock", "bigip1", "+3x"], "+400d"), (["resume", "bigip1"], "not paused"),
                      (["version", "bigip1", "two"], "MAJOR.MINOR"), (["ntp", "start"], "already running"),
                      (["partition", "bigip1"], "two groups")):
        code = main(["chaos", LAB, *args])
        err = capsys.readouterr().err.replace("\n", " ")
        assert code == 1 and msg in err, (args, err)
    assert "no faults" in chaos_list()


# -- seeing it happen ----------------------------------------------------------------------------
def events() -> list[dict]:
    return [json.loads(line) for line in biglab("events", LAB, "--json").stdout.splitlines()]


def test_events_merge_faults_and_every_kind_of_state_change(healed):
    biglab("chaos", LAB, "kill", active())
    wait_for(lambda: len([e for e in events() if e.get("event") == "garp"]) >= 2, 15, what="a GARP after failover")
    biglab("chaos", LAB, "reset")
    wait_for(settled, 20, what="settled")
    kinds = {e.get("event") for e in events()}
    assert {"fault", "repair", "channel-up", "channel-down", "failover", "garp", "sync-status", "monitor",
            "trust-added", "ntp-sync"} <= kinds
    ts = [e["ts"] for e in events()]
    assert ts == sorted(ts)
    text = biglab("events", LAB).stdout
    assert "chaos" in text and "kill" in text and "Sync status changed" in text


def capturing(cap) -> None:
    """Wait until `biglab capture` says every tcpdump listens (it says so once they all do)."""
    seen = []
    for line in cap.stderr:   # ends if the capture exits; its own --duration bounds the wait
        if line.startswith("capturing VLAN"):
            return
        seen.append(line)
    raise AssertionError("the capture never started:\n" + "".join(seen))


def test_capture_summary_shows_heartbeats_garps_and_handshakes(healed, tmp_path):
    import subprocess
    import sys
    pcap = tmp_path / "ext.pcap"
    cap = subprocess.Popen([sys.executable, "-m", "lab.cli", "capture", LAB, "external", "--duration", "3",
                            "--summary", "--json", "-w", str(pcap)], cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    capturing(cap)
    Lab.open(LAB).tmsh(active(), "run sys failover standby traffic-group traffic-group-1")
    out, err = cap.communicate(timeout=30)
    assert cap.returncode == 0, err
    summary = json.loads(out)
    assert summary["garps"] and {g["address"] for g in summary["garps"]} >= {"10.1.10.10", "10.1.10.100"}
    assert pcap.stat().st_size > 24
    ha = json.loads(biglab("capture", LAB, "ha", "--duration", "1", "--summary", "--json").stdout)
    assert {(f["src"], f["dst"]) for f in ha["heartbeats"]} == {("10.1.30.11", "10.1.30.12"), ("10.1.30.12", "10.1.30.11")}
    # long enough for the redial on a loaded machine (the CLI's start and the renewal come first)
    cap = subprocess.Popen([sys.executable, "-m", "lab.cli", "capture", LAB, "mgmt", "--duration", "6",
                            "--summary", "--json"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    capturing(cap)
    biglab("chaos", LAB, "cert", "bigip2", "renew")          # channels redial: fresh handshakes
    out, _ = cap.communicate(timeout=30)
    steps = {h["step"] for h in json.loads(out)["handshakes"]}
    assert {"4353-syn", "4353-synack", "4353-hello"} <= steps
    proc = biglab("capture", LAB, "nosuch", "--duration", "1", check=False)
    assert proc.returncode == 1 and "no VLAN 'nosuch'" in proc.stderr


# -- scenarios -----------------------------------------------------------------------------------
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.stem for s in SCENARIOS])
def test_shipped_scenario_passes(healed, scenario):
    proc = biglab("scenario", "run", str(scenario), "--lab", LAB, "--json", check=False, timeout=180)
    report = json.loads(proc.stdout)
    assert proc.returncode == 0 and report["passed"], report["text"]
    assert "no faults" in chaos_list()


def test_a_scenario_brings_up_its_own_lab_and_removes_it(tmp_path):
    labs = Labs()
    labs.made["csc"] = []
    try:
        proc = biglab("scenario", "run", str(ROOT / "scenarios" / "single-path-loss.yml"), "--name", "csc",
                      "--mgmt-subnet", "10.253.4.0/24", check=False, timeout=180)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "result: PASS" in proc.stdout and state.load_plan("csc") is None
    finally:
        labs.close()


def test_gtm_scenarios_and_a_short_soak_pass_in_a_gtm_lab(make_lab):
    assert GTM_SCENARIOS
    name = make_lab(ROOT / "topologies" / "gtm-3dc.yml", "cgtm", "10.253.7.0/24")
    for scenario in GTM_SCENARIOS:
        proc = biglab("scenario", "run", str(scenario), "--lab", name, "--json", check=False, timeout=180)
        report = json.loads(proc.stdout)
        assert proc.returncode == 0 and report["passed"], report["text"]
    assert "no faults" in biglab("chaos", name, "list").stdout
    # the soak on GTMs: after each heal every listener answers each client from an available data
    # center (seed 3 kills ltm-sgp, the whole sgp data center, in its second cycle)
    proc = biglab("soak", name, "--minutes", "0.4", "--seed", "3", "--hold", "2", check=False, timeout=300)
    verdict = json.loads(proc.stdout[proc.stdout.index("{"):proc.stdout.rindex("}") + 1])
    assert proc.returncode == 0 and verdict["ok"] and verdict["cycles"] >= 2, proc.stdout + proc.stderr
    history = [json.loads(line) for line in Path(verdict["history"]).read_text().splitlines()]
    observed = [h for h in history if h["kind"] == "observation"]
    assert any(h["fault"] == "kill ltm-sgp" for h in observed)
    answers = [a for h in observed for a in h["obs"]["gslb"]["answers"]]
    assert len(answers) >= 6 * len(observed) and all(a["answer"] for a in answers)


def test_a_failing_expectation_fails_the_run_and_repairs(healed, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("name: never\nsteps:\n  - roles: traffic-group-1\n  - fault: block $standby 4353\n"
                   "  - expect: {sync: {node: $active, status: In Sync}}\n  - wait: 0.1\n"
                   "  - expect: {failover: {node: $active, state: standby}}\n    within: 0.5\n")
    proc = biglab("scenario", "run", str(bad), "--lab", LAB, check=False)
    assert proc.returncode == 1 and "result: FAIL" in proc.stdout and "not within 0.5 s" in proc.stdout
    assert "repaired afterwards: unblock" in proc.stdout and "no faults" in chaos_list()
    bad.write_text("name: x\nsteps:\n  - expect: {gslb: {name: www.example.com}}\n")
    proc = biglab("scenario", "run", str(bad), "--lab", LAB, check=False)
    assert proc.returncode == 1 and "unknown expectation 'gslb'" in proc.stderr
