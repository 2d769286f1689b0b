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
