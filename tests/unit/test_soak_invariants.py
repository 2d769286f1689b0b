"""The soak's draws replay from a seed, and each invariant is checked on one observation."""
import random

from lab.scenario.invariants import draw, violations

BIGIPS = ["bigip1", "bigip2"]


def test_a_seed_replays_the_same_faults():
    one = [draw(random.Random(7), BIGIPS, ["ha"], 3.0) for _ in range(1)]
    rng_a, rng_b = random.Random(42), random.Random(42)
    assert [draw(rng_a, BIGIPS, ["ha", "internal"], 3.0) for _ in range(30)] == \
           [draw(rng_b, BIGIPS, ["ha", "internal"], 3.0) for _ in range(30)]
    kinds = {draw(random.Random(s), BIGIPS, ["ha"], 3.0).inject.split()[0] for s in range(200)}
    assert kinds == {"kill", "pause", "partition", "link", "clock", "block", "tmsh", "crash"} and one


def test_a_kill_is_repaired_by_a_start_and_expected_to_kill():
    plans = [draw(random.Random(s), BIGIPS, ["ha"], 3.0) for s in range(100)]
    kill = next(p for p in plans if p.inject.startswith("kill"))
    assert kill.repair == "start " + kill.inject.split()[1] and kill.kills == (kill.inject.split()[1],)


def test_each_invariant_reports_its_violation():
    good = {"active": {"traffic-group-1": ["bigip1"]}, "arp": {"10.1.10.100": ("aa", "aa")},
            "writes": {"soak_1": {"bigip1": True, "bigip2": True}}, "conflicts": [], "died": []}
    assert violations(good) == []
    assert violations({**good, "active": {"traffic-group-1": ["bigip1", "bigip2"]}}) == [
        "traffic-group-1 is active on 2 devices (bigip1, bigip2)"]
    assert "ARP entry for 10.1.10.100 is bb" in violations({**good, "arp": {"10.1.10.100": ("bb", "aa")}})[0]
    lost = {**good, "writes": {"soak_1": {"bigip1": True, "bigip2": False}}}
    assert violations(lost) == ["acknowledged write soak_1 is missing on bigip2 (no sync conflict reported)"]
    conflict = "dg-ha (Changes Pending): There is a possible change conflict between bigip1 and bigip2"
    assert violations({**lost, "conflicts": [conflict]}) == []
    assert violations({**good, "died": ["bigip2"]}) == ["bigip2's daemon died without being killed"]


def test_with_data_centers_a_whole_one_is_lost_and_a_gtm_crashes_its_dns_listener():
    dcs = {"/Common/nyc": ("ltm-nyc-1", "ltm-nyc-2"), "/Common/lon": ("ltm-lon",)}
    devices = ["gtm1", "ltm-nyc-1", "ltm-nyc-2", "ltm-lon"]
    plans = [draw(random.Random(s), devices, ["mgmt"], 3.0, dcs, ("gtm1",)) for s in range(300)]
    nyc = next(p for p in plans if p.inject == "kill ltm-nyc-1; kill ltm-nyc-2")
    assert nyc.repair == "start ltm-nyc-1; start ltm-nyc-2" and nyc.kills == ("ltm-nyc-1", "ltm-nyc-2")
    crashes = {p.inject for p in plans if p.inject.startswith("crash")}
    assert "crash gtm1 gtmd" in crashes and not any(c.startswith("crash gtm1 ") and c != "crash gtm1 gtmd"
                                                    for c in crashes)
    assert "crash ltm-lon gtmd" not in crashes


def test_gtm_answers_only_from_available_data_centers():
    answer = {"listener": "10.30.0.53", "client": "client-nyc", "wideip": "www.example.com",
              "answer": ["10.10.1.100"], "error": None}
    gslb = {"answers": [answer], "virtuals": {"10.10.1.100": "/Common/nyc", "10.10.2.100": "/Common/lon"},
            "available": ["/Common/lon", "/Common/nyc"]}
    good = {"active": {}, "gslb": gslb}
    assert violations(good) == []
    assert violations({**good, "gslb": {**gslb, "available": ["/Common/lon"]}}) == [
        "GTM 10.30.0.53 to client-nyc for www.example.com: 10.10.1.100 in /Common/nyc, which is not available"]
    stray = {**gslb, "answers": [{**answer, "answer": ["10.40.0.25"]}]}
    assert violations({**good, "gslb": stray}) == [
        "GTM 10.30.0.53 to client-nyc for www.example.com: 10.40.0.25 is no virtual server of a data center"]
    silent = {**gslb, "answers": [{**answer, "answer": []}]}
    assert "nothing, though /Common/lon, /Common/nyc is available" in violations({**good, "gslb": silent})[0]
    assert violations({**good, "gslb": {**silent, "available": []}}) == []   # nothing up: nothing to answer
    dead = {**gslb, "answers": [{**answer, "answer": [], "error": "exit 9: timed out"}]}
    assert violations({**good, "gslb": dead}) == [
        "GTM 10.30.0.53 to client-nyc for www.example.com: no answer (exit 9: timed out)"]
