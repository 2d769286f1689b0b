"""Where a lab keeps its state on the host: /run/biglab/<lab>/ (override with BIGLAB_RUN_DIR).

lab.json (the plan) is written before anything is made, so `biglab down` can clean up after a
crash of `biglab` itself. Each node has a directory for its daemon's state, logs and socket.
/run is cleared at boot, as are network namespaces: the two never disagree after a reboot.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from node.clock import write_atomically

from .plan import Plan


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
