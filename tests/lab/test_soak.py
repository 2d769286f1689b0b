"""A short soak (CI): three quarters of a minute of seeded random faults and writes on ha-pair, the invariants
checked after each heal, a history file and a passing verdict."""
import json
from pathlib import Path

from tests.lab.conftest import HA_PAIR, biglab


def test_a_short_soak_keeps_every_invariant(make_lab):
    lab = make_lab(HA_PAIR, "tsoak", "10.250.66.0/24")
    proc = biglab("soak", lab, "--minutes", "0.75", "--seed", "3", "--hold", "2", check=False, timeout=400)
    verdict = json.loads(proc.stdout[proc.stdout.index("{"):proc.stdout.rindex("}") + 1])
    assert proc.returncode == 0 and verdict["ok"], proc.stdout + proc.stderr
    assert verdict["cycles"] >= 2 and verdict["violations"] == 0
    kinds = [json.loads(line)["kind"] for line in Path(verdict["history"]).read_text().splitlines()]
    assert kinds[0] == "start" and kinds[-1] == "verdict" and "observation" in kinds and "write" in kinds
