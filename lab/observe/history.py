"""A Jepsen-style history of writes to a lab's BIG-IPs and its check: which writes were
acknowledged, and whether the devices still hold each of them whole after kills and restarts.

Each write creates one pool, named for the write, with its description and one member whose
address is the write's own, so one commit makes two objects (the pool and the member's node).
It goes through iControl REST or through tmsh (`biglab exec ... tmsh`), and its outcome is
recorded as the client saw it:

    ok       acknowledged (200, or tmsh exited 0): it must survive anything
    failed   refused with an answer (4xx, a tmsh error): it must not exist
    unknown  no answer (connection refused or reset, a timeout, a 5xx): either

`check` reads every device's pools and nodes and finds lost writes (ok, missing), phantom writes
(failed, present) and half-applied ones (a pool without its node, member or description, or a
node without its pool).
"""
from __future__ import annotations

import random
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import requests
import urllib3

from ..model.plan import Plan
from ..runtime.guard import lab_route

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
PREFIX = "hist-"
REFUSAL = re.compile(r"^\d{8}:\d: |Syntax Error", re.M)


@dataclass
class Write:
    n: int
    via: str                 # rest or tmsh
    outcome: str = "pending"
    detail: str = ""

    @property
    def name(self) -> str:
        return f"{PREFIX}{self.n}"

    @property
    def address(self) -> str:
        return f"10.200.{self.n // 250}.{self.n % 250 + 1}"


@dataclass
class History:
    writes: list[Write] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new(self, via: str) -> Write:
        with self.lock:
            w = Write(len(self.writes), via)
            self.writes.append(w)
            return w

    def counts(self) -> dict:
        out = {"ok": 0, "failed": 0, "unknown": 0}
        for w in self.writes:
            out[w.outcome] = out.get(w.outcome, 0) + 1
        return out

    def check(self, devices: dict[str, tuple[dict, dict]]) -> dict:
        """`devices`: name -> (pools, nodes) as read (`read`). The anomalies on each device."""
        report = {}
        for device, (pools, nodes) in devices.items():
            lost, phantom, half = [], [], []
            ours = {w.name: w for w in self.writes}
            for w in self.writes:
                pool, node = pools.get(w.name), nodes.get(w.address)
                if pool is None and node is None:
                    if w.outcome == "ok":
                        lost.append(w.name)
                    continue
                if w.outcome == "failed":
                    phantom.append(w.name)
                whole = (pool is not None and node is not None and pool.get("description") == w.name
                         and pool.get("members") == [f"{w.address}:80"])
                if not whole:
                    half.append(w.name)
            half += [n for n in pools if n.startswith(PREFIX) and n not in ours]
            report[device] = {"lost": lost, "phantom": phantom, "half_applied": half}
        return report


def _mgmt(plan: Plan, node: str) -> str:
    return lab_route(plan.node(node).mgmt_address)


def rest_post(plan: Plan, node: str, path: str, body: dict, auth=("admin", "admin"),
              timeout: float = 5.0) -> tuple[str, str]:
    """POST to a node's iControl REST: (ok | failed (refused) | unknown (no answer), detail)."""
    try:
        r = requests.post(f"https://{_mgmt(plan, node)}{path}", json=body, auth=auth, verify=False, timeout=timeout)
    except requests.RequestException as exc:
        return "unknown", type(exc).__name__
    outcome = "ok" if r.status_code == 200 else "failed" if 400 <= r.status_code < 500 else "unknown"
    return outcome, "" if r.status_code == 200 else f"{r.status_code} {r.text[:200]}"


def rest_get(plan: Plan, node: str, path: str, auth=("admin", "admin"), timeout: float = 5.0) -> list[dict]:
    """GET /mgmt/tm/<path> on a node's iControl REST: its items (OSError when it does not answer)."""
    try:
        r = requests.get(f"https://{_mgmt(plan, node)}/mgmt/tm/{path}", auth=auth, verify=False, timeout=timeout)
        r.raise_for_status()
    except requests.RequestException as exc:
        raise OSError(f"GET {path} on {node}: {exc}") from None
    return r.json().get("items", [])


def rest_write(plan: Plan, node: str, w: Write, auth=("admin", "admin"), timeout: float = 5.0) -> None:
    body = {"name": w.name, "description": w.name, "members": [{"name": f"{w.address}:80"}]}
    w.outcome, w.detail = rest_post(plan, node, "/mgmt/tm/ltm/pool", body, auth, timeout)


def tmsh_write(lab: str, node: str, w: Write, timeout: float = 10.0) -> None:
    line = ["tmsh", "create", "ltm", "pool", w.name, "description", w.name, "members", "add", "{",
            f"{w.address}:80", "}"]
    try:
        p = subprocess.run([sys.executable, "-m", "lab.cli", "exec", lab, node, "--", *line], capture_output=True,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        w.outcome, w.detail = "unknown", "timeout"
        return
    text = (p.stdout + p.stderr).strip()
    # a refusal is F5's message (an id, or tmsh's syntax error); anything else is no answer
    w.outcome = "ok" if p.returncode == 0 else "failed" if REFUSAL.search(text) else "unknown"
    w.detail = text[:200]


def read(plan: Plan, node: str, auth=("admin", "admin")) -> tuple[dict, dict]:
    """The device's pools (name -> description, members) and nodes (address -> name), over REST."""
    base = f"https://{_mgmt(plan, node)}/mgmt/tm/ltm"
    pools = requests.get(f"{base}/pool?expandSubcollections=true", auth=auth, verify=False, timeout=10).json()
    nodes = requests.get(f"{base}/node", auth=auth, verify=False, timeout=10).json()
    return ({p["name"]: {"description": p.get("description"),
                         "members": sorted(m["name"] for m in p.get("membersReference", {}).get("items", []))}
             for p in pools.get("items", [])},
            {n["address"]: n["name"] for n in nodes.get("items", [])})


def in_sync(plan: Plan, node: str, auth=("admin", "admin")) -> bool:
    try:
        r = requests.get(f"https://{_mgmt(plan, node)}/mgmt/tm/cm/sync-status", auth=auth, verify=False, timeout=5)
    except requests.RequestException:
        return False
    return r.status_code == 200 and '"In Sync"' in r.text


def _biglab(*args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "lab.cli", *args], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"biglab {' '.join(args)} failed: {proc.stderr.strip()[-1500:]}")


def kill_cycles(lab: str, cycles: int, rnd: random.Random, victims=("bigip1", "bigip1", "bigip1", "bigip2")) -> list:
    """kill -9 a daemon at a random moment and start it again, `cycles` times; who was killed."""
    killed = []
    for _ in range(cycles):
        time.sleep(rnd.uniform(0.1, 1.0))
        victim = rnd.choice(victims)
        _biglab("chaos", lab, "kill", victim)
        killed.append(victim)
        time.sleep(rnd.uniform(0.0, 0.3))
        _biglab("chaos", lab, "start", victim)      # forked again; waits until it answers
    return killed


class Writers:
    """Threads that write through REST and tmsh, one write after another, as fast as they can."""

    def __init__(self, lab: str, plan: Plan, node: str, history: History, vias=("rest", "tmsh")):
        self.lab, self.plan, self.node, self.history = lab, plan, node, history
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(via,), daemon=True) for via in vias]

    def _run(self, via: str) -> None:
        while not self.stopping.is_set():
            w = self.history.new(via)
            if via == "rest":
                rest_write(self.plan, self.node, w)
            else:
                tmsh_write(self.lab, self.node, w)
            if w.outcome != "ok":
                time.sleep(0.05)    # the daemon is down: do not spin

    def __enter__(self) -> "Writers":
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=30)
