"""Scenarios: YAML files of faults, waits and expectations, run against a lab with a pass/fail
report (like netlab's validate).

    name: failover on active kill
    topology: ../topologies/ha-pair.yml      # for a run that brings up its own lab
    steps:
      - roles: traffic-group-1                # binds $active and $standby to the devices now
      - run: {node: client, command: [ping, -c1, -W1, 10.1.10.100]}
      - fault: kill $active                   # a `biglab chaos` line
      - expect: {failover: {node: $standby, state: active}}
        within: 10                            # seconds (default 10), polled
      - expect: {mac: {node: client, address: 10.1.10.100, is: "@active:external"}}
      - repair: start $active                 # also a chaos line; recovery is timed from here
      - wait: 1

`$python` is the interpreter biglab runs in, for the lab's own tools in `run` steps
(`[$python, -m, lab.runtime.stream, ...]`). Expectation kinds are the registry in expectations.py; a new kind is one function there. Everything the
runner needs from the lab goes through an environment object, so the runner is tested without
one. Every fault still in place at the end (pass or fail) is repaired (`biglab chaos LAB reset`).
"""
from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .expectations import EXPECTATIONS, REQUIRED

STEP_KINDS = ("roles", "fault", "repair", "wait", "expect", "run", "tmsh")
DEFAULT_WITHIN = 10.0


class ScenarioError(Exception):
    """A scenario file is wrong; the message names the file, the step and the problem."""


@dataclass(frozen=True)
class Step:
    kind: str
    value: object
    within: float = DEFAULT_WITHIN
    index: int = 0

    def describe(self) -> str:
        if self.kind == "expect":
            (what, spec), = self.value.items()
            return f"expect {what} " + " ".join(f"{k}={v}" for k, v in spec.items())
        if self.kind == "run":
            return f"run on {self.value['node']}: {' '.join(self.value['command'])}"
        if self.kind == "tmsh":
            return f"tmsh on {self.value['node']}: {self.value['line']}"
        return f"{self.kind} {self.value}"


@dataclass(frozen=True)
class Scenario:
    name: str
    steps: tuple[Step, ...]
    description: str = ""
    topology: str | None = None
    lab_name: str | None = None
    source: str = ""


def parse(data, file="<scenario>") -> Scenario:
    def bad(where: str, problem: str):
        return ScenarioError(f"{file}: {where}: {problem}" if where else f"{file}: {problem}")

    if not isinstance(data, dict):
        raise bad("", "a scenario is a mapping with name and steps")
    unknown = set(data) - {"name", "description", "topology", "lab", "steps"}
    if unknown:
        raise bad(sorted(map(str, unknown))[0], "unknown key")
    if not isinstance(data.get("name"), str) or not data["name"]:
        raise bad("name", "required: a name for the report")
    steps_in = data.get("steps")
    if not isinstance(steps_in, list) or not steps_in:
        raise bad("steps", "required: a list of steps")
    steps = []
    for i, raw in enumerate(steps_in):
        where = f"steps.{i}"
        if not isinstance(raw, dict):
            raise bad(where, f"a step is a mapping with one of {', '.join(STEP_KINDS)}")
        kinds = [k for k in raw if k in STEP_KINDS]
        extra = set(raw) - set(STEP_KINDS) - {"within"}
        if len(kinds) != 1 or extra:
            raise bad(where, f"a step has exactly one of {', '.join(STEP_KINDS)} (and `within` for expect)"
                      + (f"; unknown: {', '.join(sorted(map(str, extra)))}" if extra else ""))
        kind, value = kinds[0], raw[kinds[0]]
        within = raw.get("within", DEFAULT_WITHIN)
        if "within" in raw and kind != "expect":
            raise bad(f"{where}.within", "only an expect step waits `within` seconds")
        if not isinstance(within, (int, float)) or within <= 0:
            raise bad(f"{where}.within", f"seconds, a positive number (got {within!r})")
        if kind in ("fault", "repair", "roles") and (not isinstance(value, str) or not value.strip()):
            raise bad(f"{where}.{kind}", "a text: " + ("a chaos line (kill bigip1)" if kind != "roles"
                                                        else "a traffic group"))
        if kind == "wait" and (not isinstance(value, (int, float)) or value < 0):
            raise bad(f"{where}.wait", f"seconds, a number (got {value!r})")
        if kind == "run" and not (isinstance(value, dict) and isinstance(value.get("node"), str)
                                  and isinstance(value.get("command"), list) and value["command"]
                                  and all(isinstance(arg, str) for arg in value["command"])):
            raise bad(f"{where}.run", "{node: NODE, command: [ARGV...]} (each argument a text: quote numbers)")
        if kind == "tmsh" and not (isinstance(value, dict) and isinstance(value.get("node"), str)
                                   and isinstance(value.get("line"), str)):
            raise bad(f"{where}.tmsh", "{node: NODE, line: TMSH LINE}")
        if kind == "expect":
            if not isinstance(value, dict) or len(value) != 1:
                raise bad(f"{where}.expect", f"one expectation: {', '.join(EXPECTATIONS)}")
            (what, spec), = value.items()
            if what not in EXPECTATIONS:
                raise bad(f"{where}.expect", f"unknown expectation {what!r} (known: {', '.join(EXPECTATIONS)})")
            if not isinstance(spec, dict):
                raise bad(f"{where}.expect.{what}", "a mapping of what to check")
            missing = [k for k in REQUIRED[what] if k not in spec]
            if missing:
                raise bad(f"{where}.expect.{what}", f"needs {', '.join(missing)}")
        steps.append(Step(kind, value, float(within), i))
    lab = data.get("lab") or {}
    return Scenario(data["name"], tuple(steps), str(data.get("description", "")),
                    data.get("topology"), lab.get("name") if isinstance(lab, dict) else None, str(file))


def load(path) -> Scenario:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the file: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from None
    return parse(data, path)


# -- variables -----------------------------------------------------------------------------------
_VAR = re.compile(r"\$([a-z_]+)")


def substitute(value, bound: dict):
    """Replace $active, $standby... in every string of a step."""
    if isinstance(value, str):
        def one(m):
            if m.group(1) not in bound:
                raise ScenarioError(f"${m.group(1)} is not bound (add a `roles:` step first)")
            return bound[m.group(1)]
        return _VAR.sub(one, value)
    if isinstance(value, list):
        return [substitute(v, bound) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, bound) for k, v in value.items()}
    return value


# -- running ---------------------------------------------------------------------------------------
@dataclass
class Result:
    step: str
    ok: bool
    elapsed: float
    detail: str = ""
    since: str = ""      # the fault or repair this expectation was timed from
    since_step: int = -1  # its index in the scenario

    def to_dict(self) -> dict:
        return {"step": self.step, "ok": self.ok, "elapsed_s": round(self.elapsed, 3), "detail": self.detail,
                "since": self.since, "since_step": self.since_step}


@dataclass
class Report:
    name: str
    results: list[Result] = field(default_factory=list)
    cleanup: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.ok for r in self.results)

    def timings(self) -> list[dict]:
        """For each fault or repair: how long until every expectation after it held."""
        out: dict[tuple, float] = {}
        for r in self.results:
            if r.since and r.step.startswith("expect"):
                key = (r.since, r.since_step)
                out[key] = max(out.get(key, 0.0), r.elapsed)
        return [{"after": k, "step": i, "settled_s": round(v, 3)} for (k, i), v in out.items()]

    def to_dict(self) -> dict:
        lines = [f"scenario: {self.name}"]
        for r in self.results:
            mark = "PASS" if r.ok else "FAIL"
            lines.append(f"  {mark}  {r.step}" + (f"  ({r.elapsed:.2f} s)" if r.step.startswith("expect") else "")
                         + (f"\n        {r.detail}" if r.detail and (not r.ok or r.step.startswith("expect")) else ""))
        lines.append(f"result: {'PASS' if self.passed else 'FAIL'} ({sum(r.ok for r in self.results)}/"
                     f"{len(self.results)} steps)")
        if self.cleanup:
            lines.append("repaired afterwards: " + "; ".join(self.cleanup))
        return {"scenario": self.name, "passed": self.passed, "steps": [r.to_dict() for r in self.results],
                "timings": self.timings(), "cleanup": self.cleanup, "text": "\n".join(lines)}


def run(scenario: Scenario, env, say=lambda m: None, *, clock=time.monotonic, sleep=time.sleep,
        poll: float = 0.05) -> Report:
    """Run the steps in order; stop at the first failure; always repair what is left."""
    report = Report(scenario.name)
    bound: dict[str, str] = {"python": sys.executable}   # the lab's interpreter: `run` its tools (lab.runtime.stream)
    mark, mark_at, mark_step = "", clock(), -1
    try:
        for step in scenario.steps:
            started = clock()
            try:
                value = substitute(step.value, bound)
                shown = Step(step.kind, value, step.within, step.index).describe()
                if step.kind == "roles":
                    bound.update(env.roles(value))
                    detail = ", ".join(f"${k} = {v}" for k, v in bound.items())
                    result = Result(shown, True, 0.0, detail)
                elif step.kind in ("fault", "repair"):
                    detail = env.chaos(value)
                    mark, mark_at, mark_step = f"{step.kind} {value}", started, step.index
                    result = Result(shown, True, clock() - started, detail)
                elif step.kind == "wait":
                    sleep(float(value))
                    result = Result(shown, True, float(value))
                elif step.kind == "run":
                    result = Result(shown, True, clock() - started, env.run(value["node"], value["command"]))
                elif step.kind == "tmsh":
                    result = Result(shown, True, clock() - started, env.tmsh(value["node"], value["line"]))
                else:
                    result = _expect(value, step.within, env, clock, sleep, poll, shown, mark, mark_at)
                    result.since_step = mark_step
            except ScenarioError:
                raise
            except Exception as exc:  # a refused fault, an unreachable daemon: the step fails
                result = Result(f"{step.kind} {step.value}", False, clock() - started,
                                str(exc) or type(exc).__name__)
            report.results.append(result)
            say(("PASS " if result.ok else "FAIL ") + result.step + (f" ({result.detail})" if result.detail else ""))
            if not result.ok:
                break
    finally:
        report.cleanup = env.cleanup()
    return report


def _expect(value: dict, within: float, env, clock, sleep, poll, shown, mark, mark_at) -> Result:
    (what, spec), = value.items()
    check = EXPECTATIONS[what]
    deadline = clock() + within
    observed = ""
    while True:
        try:
            ok, observed = check(env, spec)
        except Exception as exc:  # a daemon restarting does not answer yet
            ok, observed = False, f"{type(exc).__name__}: {exc}"
        if ok:
            return Result(shown, True, clock() - mark_at if mark else 0.0, observed, mark)
        if clock() >= deadline:
            return Result(shown, False, clock() - mark_at if mark else 0.0,
                          f"not within {within:g} s; last seen: {observed}", mark)
        env.refresh()
        sleep(poll)
