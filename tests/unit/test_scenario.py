"""Scenario files: validation with clear errors, variables, and the runner against a fake lab
on a fake clock (expectations polled until a deadline, stop at the first failure, repairs always)."""
from types import SimpleNamespace

import pytest

from node.status import FailoverStatus

from lab.scenario.runner import EXPECTATIONS, ScenarioError, parse, run, substitute

OK = {"name": "t", "steps": [{"roles": "traffic-group-1"}, {"fault": "kill $active"},
                             {"expect": {"failover": {"node": "$standby", "state": "active"}}, "within": 5},
                             {"repair": "start $active"}]}


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t

    def sleep(self, s):
        self.t += s


class FakeLab:
    """bigip2 becomes active `takeover` seconds after bigip1 is killed."""

    def __init__(self, clock, takeover=3.0):
        self.clock, self.takeover = clock, takeover
        self.killed_at = None
        self.done, self.cleaned = [], False

    def roles(self, tg):
        return {"active": "bigip1", "standby": "bigip2"}

    def chaos(self, line):
        self.done.append(line)
        if line == "kill bigip1":
            self.killed_at = self.clock()
        if line.startswith("bogus"):
            raise RuntimeError("unknown chaos verb 'bogus'")
        return "ok"

    def status(self, node):
        active = self.killed_at is not None and self.clock() - self.killed_at >= self.takeover
        return SimpleNamespace(failover=FailoverStatus(
            device=node, state="active" if (node == "bigip2") == active else "standby", traffic_groups={},
            peers={}, split_brain={}, timeout=3.0, interval=1.0, floating=(), garps_sent=0, bad_heartbeats=0))

    def refresh(self):
        pass

    def cleanup(self):
        self.cleaned = True
        return ["start bigip1"]


def test_a_scenario_passes_and_times_each_expectation_from_its_fault():
    clock = FakeClock()
    lab = FakeLab(clock)
    report = run(parse(OK), lab, clock=clock, sleep=clock.sleep, poll=0.1).to_dict()
    assert report["passed"] and lab.done == ["kill bigip1", "start bigip1"] and lab.cleaned
    expect = report["steps"][2]
    assert expect["ok"] and expect["since"] == "fault kill bigip1" and expect["elapsed_s"] == pytest.approx(3.0, abs=0.11)
    assert report["timings"] == [{"after": "fault kill bigip1", "step": 1, "settled_s": expect["elapsed_s"]}]
    assert "PASS  expect failover node=bigip2 state=active" in report["text"]


def test_an_expectation_not_met_in_time_fails_stops_the_run_and_still_repairs():
    clock = FakeClock()
    lab = FakeLab(clock, takeover=60)
    report = run(parse(OK), lab, clock=clock, sleep=clock.sleep, poll=0.5).to_dict()
    assert not report["passed"] and lab.cleaned
    assert report["steps"][-1]["detail"].startswith("not within 5 s; last seen: standby")
    assert lab.done == ["kill bigip1"]           # the repair step after the failure did not run
    assert "result: FAIL" in report["text"] and "repaired afterwards: start bigip1" in report["text"]


def test_a_refused_fault_fails_its_step_with_the_reason():
    clock = FakeClock()
    scenario = parse({"name": "t", "steps": [{"fault": "bogus thing"}]})
    report = run(scenario, FakeLab(clock), clock=clock, sleep=clock.sleep).to_dict()
    assert not report["passed"] and "unknown chaos verb" in report["steps"][0]["detail"]


@pytest.mark.parametrize("data,match", [
    ([], "a mapping"),
    ({"name": "t"}, "steps: required"),
    ({"name": "t", "steps": [{"fault": "kill a", "wait": 1}]}, "exactly one"),
    ({"name": "t", "steps": [{"expect": {"gslb": {}}}]}, "unknown expectation 'gslb'"),
    ({"name": "t", "steps": [{"expect": {"dns": {"node": "c", "server": "s"}}}]}, "needs name, answer"),
    ({"name": "t", "steps": [{"expect": {"sync": {"node": "a"}}}]}, "needs status"),
    ({"name": "t", "steps": [{"fault": "kill a", "within": 3}]}, "only an expect step"),
    ({"name": "t", "steps": [{"wait": "soon"}]}, "seconds"),
    ({"name": "t", "steps": [{"run": {"node": "client"}}]}, "command"),
    ({"name": "t", "steps": [{"run": {"node": "c", "command": ["ping", "-c", 1]}}]}, "quote numbers"),
    ({"name": "t", "colour": 1, "steps": [{"wait": 1}]}, "colour: unknown key"),
    ({"name": "t", None: 1, "steps": [{"wait": 1}]}, "None: unknown key"),            # found by fuzzing
    ({"name": "t", "steps": [{"wait": 1, None: 2, 3: 4}]}, "unknown: 3, None"),      # found by fuzzing
])
def test_a_bad_scenario_is_refused_naming_the_step(data, match):
    with pytest.raises(ScenarioError, match=match):
        parse(data, "x.yml")


def test_variables_need_a_roles_step():
    assert substitute({"n": ["$active", "x"]}, {"active": "bigip1"}) == {"n": ["bigip1", "x"]}
    with pytest.raises(ScenarioError, match=r"\$standby is not bound"):
        substitute("kill $standby", {})


def test_a_new_expectation_kind_is_one_function():
    assert {"failover", "sync", "channel", "mac", "ntp", "split_brain", "heartbeat", "single_active", "dns"} <= set(EXPECTATIONS)


def test_takeovers_count_the_traffic_groups_going_active_in_a_window():
    env = SimpleNamespace(takeovers=lambda tg, seconds: ["bigip2", "bigip1", "bigip2"] if seconds > 30 else [])
    check = EXPECTATIONS["takeovers"]
    assert check(env, {"traffic_group": "traffic-group-1", "seconds": 60, "at_least": 2}) == (
        True, "3 takeovers in the last 60 s (bigip2, bigip1, bigip2)")
    assert check(env, {"traffic_group": "traffic-group-1", "seconds": 60, "at_most": 0})[0] is False
    assert check(env, {"traffic_group": "traffic-group-1", "seconds": 20, "at_most": 0}) == (
        True, "0 takeovers in the last 20 s")


def test_listed_waits_for_text_in_what_a_tmsh_line_prints_or_for_its_absence():
    env = SimpleNamespace(tmsh=lambda node, line: "cm traffic-group traffic-group-1 {\n    ha-group hg\n}\n")
    check = EXPECTATIONS["listed"]
    assert check(env, {"node": "bigip2", "line": "list cm traffic-group", "text": "ha-group hg"})[0]
    assert not check(env, {"node": "bigip2", "line": "list cm traffic-group", "text": "ha-group hg", "absent": True})[0]
    assert check(env, {"node": "bigip2", "line": "x", "text": "ha-group none"}) == (
        False, "cm traffic-group traffic-group-1 { ha-group hg }")
