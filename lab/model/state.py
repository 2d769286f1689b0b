"""Where a lab keeps its state on the host: /run/biglab/<lab>/ (override with BIGLAB_RUN_DIR).

lab.json (the plan) is written before anything is made, so `biglab down` can clean up after a
crash of `biglab` itself. Each node has a directory for its daemon's state, logs and socket.
faults.json records the faults in place (so `list`, `heal` and the repairs work across invocations)
and chaos.jsonl is the timeline of faults and repairs that `biglab events` merges with the logs.
/run is cleared at boot, as are network namespaces: the two never disagree after a reboot.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from node.files import write_atomically

from .plan import Plan


PROJECT = Path(__file__).resolve().parents[2]   # the checkout: node/, image/, certs/
CERTS = PROJECT / "certs"                       # each lab's domain CA, for REST clients on the host


def run_root() -> Path:
    return Path(os.environ.get("BIGLAB_RUN_DIR", "/run/biglab"))


def lab_dir(lab: str) -> Path:
    return run_root() / lab


def node_dir(lab: str, node: str) -> Path:
    return lab_dir(lab) / node


def save_plan(plan: Plan) -> None:
    d = lab_dir(plan.lab)
    d.mkdir(parents=True, exist_ok=True)
    write_atomically(d / "lab.json", json.dumps(plan.to_dict(), indent=1).encode(), 0o644)


def load_plan(lab: str) -> Plan | None:
    path = lab_dir(lab) / "lab.json"
    try:
        return Plan.from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        return None


def labs() -> list[str]:
    root = run_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "lab.json").exists())


def forget(lab: str) -> None:
    shutil.rmtree(lab_dir(lab), ignore_errors=True)


# -- the fault record ---------------------------------------------------------------------------
def load_faults(lab: str) -> dict:
    try:
        return json.loads((lab_dir(lab) / "faults.json").read_text())
    except FileNotFoundError:
        return {}


def save_faults(lab: str, faults: dict) -> None:
    faults = {k: v for k, v in faults.items() if v}
    write_atomically(lab_dir(lab) / "faults.json", json.dumps(faults, indent=1).encode(), 0o644)


def note(lab: str, kind: str, text: str, **fields) -> None:
    """Append a fault or repair to the lab's timeline (chaos.jsonl)."""
    entry = {"ts": round(time.time(), 3), "device": "chaos", "level": "warning" if kind == "fault" else "notice",
             "proc": "biglab", "pid": 0, "id": "", "msg": text, "event": kind, **fields}
    with open(lab_dir(lab) / "chaos.jsonl", "a") as f:
        f.write(json.dumps(entry) + "\n")
