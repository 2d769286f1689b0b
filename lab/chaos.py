"""`biglab chaos LAB ...`: one command a fault, each reversible, each recorded.

Active faults live in the lab's run directory (`faults.json`), so `list`, `heal` and the repairs
work across invocations and `biglab down` forgets them with the lab; nftables tables live in the
nodes' namespaces and go with them. Every fault and repair is also appended to `chaos.jsonl`,
which `biglab events` merges with the nodes' logs. Process control and entering a node go
through the backend (`lab/backends/`), so a container backend gets the same verbs.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from node.clock import write_atomically

from . import engine, state
from .backends import get_backend
from .control import ControlError, call
from .engine import LabError
from .faults import (ChaosError, check_netem, cut_peers, fallback_args, netem_args, parse_port, parse_skew,
                     partition_groups, port_key, ruleset)
from .plan import Plan

PROCESS_STATES = ("killed", "stopped", "paused")


# -- the record ---------------------------------------------------------------------------------
def load(lab: str) -> dict:
    try:
        return json.loads((state.lab_dir(lab) / "faults.json").read_text())
    except FileNotFoundError:
        return {}


def _save(lab: str, faults: dict) -> None:
    faults = {k: v for k, v in faults.items() if v}
    write_atomically(state.lab_dir(lab) / "faults.json", json.dumps(faults, indent=1).encode(), 0o644)


def note(lab: str, kind: str, text: str, **fields) -> None:
    """Append a fault or repair to the lab's timeline (chaos.jsonl)."""
    entry = {"ts": round(time.time(), 3), "device": "chaos", "level": "warning" if kind == "fault" else "notice",
             "proc": "biglab", "pid": 0, "id": "", "msg": text, "event": kind, **fields}
    with open(state.lab_dir(lab) / "chaos.jsonl", "a") as f:
        f.write(json.dumps(entry) + "\n")


def _endpoint(plan: Plan, endpoint: str):
    node, sep, vlan = endpoint.partition(":")
    if not sep or not node or not vlan:
        raise ChaosError(f"{endpoint!r}: give the interface as NODE:VLAN")
    return engine.resolve(plan, node, vlan)


# -- links and impairment -----------------------------------------------------------------------
def link(lab: str, endpoint: str, up: bool) -> str:
    plan = engine.get_plan(lab)
    node, iface = _endpoint(plan, endpoint)
    engine.set_link(lab, node.name, iface.vlan, up)
    faults = load(lab)
    links = faults.setdefault("links", {})
    key = f"{node.name}:{iface.vlan}"
    if up:
        links.pop(key, None)
    else:
        links[key] = "down"
    _save(lab, faults)
    note(lab, "repair" if up else "fault", f"link {key} {'up' if up else 'down'}", node=node.name)
    return f"{key} is {'up' if up else 'down'}"


def netem(lab: str, endpoint: str, spec: dict | None) -> str:
    """Impair a node's interface (its egress) with netem; `spec` None removes the impairment."""
    plan = engine.get_plan(lab)
    node, iface = _endpoint(plan, endpoint)
    key = f"{node.name}:{iface.vlan}"
    faults = load(lab)
    table = faults.setdefault("netem", {})
    if spec is None:
        _tc(plan, node, ["qdisc", "del", "dev", iface.vlan, "root"], missing_ok=True)
        old = table.pop(key, None)
        if old and old.get("_via") == "nftables":
            _apply_firewall(plan, faults, [node.name])
        _save(lab, faults)
        note(lab, "repair", f"netem {key} reset", node=node.name)
        return f"{key}: no impairment"
    spec = check_netem(spec)
    via = _impair(plan, node, iface.vlan, spec)
    table[key] = {**spec, "_via": via} if via != "netem" else spec
    if via != "netem":
        _apply_firewall(plan, faults, [node.name])
    _save(lab, faults)
    text = " ".join(f"{k} {v}" for k, v in spec.items())
    note(lab, "fault", f"netem {key} {text}", node=node.name)
    return f"{key}: {text}" + ("" if via == "netem" else " (no netem in this kernel: loss by nftables, rate by tbf)")


def _impair(plan: Plan, node, vlan: str, spec: dict) -> str:
    """netem if the kernel has it; else loss in nftables and rate with tbf. Returns which."""
    try:
        _tc(plan, node, ["qdisc", "replace", "dev", vlan, "root", "netem", *netem_args(spec)])
        return "netem"
    except ChaosError as exc:
        if "qdisc kind is unknown" not in str(exc):
            raise
    args = fallback_args(spec)
    if args:
        _tc(plan, node, ["qdisc", "replace", "dev", vlan, "root", *args])
    else:
        _tc(plan, node, ["qdisc", "del", "dev", vlan, "root"], missing_ok=True)
    return "nftables"


def _tc(plan: Plan, node, args: list[str], missing_ok: bool = False) -> None:
    proc = get_backend(plan.backend).run(node, ["tc", *args], capture_output=True, text=True)
    if proc.returncode != 0 and not (missing_ok and ("No such file" in proc.stderr
                                                     or "Cannot delete qdisc with handle of zero" in proc.stderr)):
        raise ChaosError(f"tc {' '.join(args)} in {node.name}: {proc.stderr.strip()}")


def apply_topology_netem(plan: Plan) -> None:
    """Impairments declared in the topology (`netem:`), applied at `up`."""
    faults = load(plan.lab)
    for key, spec in plan.netem.items():
        node, iface = _endpoint(plan, key)
        if _impair(plan, node, iface.vlan, spec) != "netem":
            faults.setdefault("topology_loss", {})[key] = spec.get("loss")
            _apply_firewall(plan, faults, [node.name])
    _save(plan.lab, faults)


# -- firewall: blocked ports and partitions -------------------------------------------------------
def _apply_firewall(plan: Plan, faults: dict, nodes) -> None:
    cut = cut_peers([(g[0], g[1]) for g in faults.get("partition", {}).get("groups", [])])
    be = get_backend(plan.backend)
    for name in nodes:
        node = plan.node(name)
        addrs = [i.address.split("/")[0] for other in sorted(cut.get(name, ()))
                 for i in plan.node(other).interfaces]
        losses = {k.split(":")[1]: v["loss"] for k, v in faults.get("netem", {}).items()
                  if k.split(":")[0] == name and v.get("_via") == "nftables" and "loss" in v}
        losses.update({k.split(":")[1]: v for k, v in faults.get("topology_loss", {}).items()
                       if k.split(":")[0] == name and v and k not in faults.get("netem", {})})
        text = ruleset(faults.get("blocks", {}).get(name, []), addrs, losses)
        proc = be.run(node, ["nft", "-f", "-"], input=text, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ChaosError(f"nft in {name}: {proc.stderr.strip()}")


def block(lab: str, node: str, port: str, blocked: bool) -> str:
    plan = engine.get_plan(lab)
    n = engine.resolve(plan, node)
    key = port_key(*parse_port(port))
    faults = load(lab)
    ports = faults.setdefault("blocks", {}).setdefault(n.name, [])
    if blocked and key not in ports:
        ports.append(key)
    elif not blocked:
        if key not in ports:
            raise ChaosError(f"{key} is not blocked on {n.name} (blocked: {', '.join(ports) or 'nothing'})")
        ports.remove(key)
    if not ports:
        faults["blocks"].pop(n.name)
    _apply_firewall(plan, faults, [n.name])
    _save(lab, faults)
    verb = "block" if blocked else "unblock"
    note(lab, "fault" if blocked else "repair", f"{verb} {n.name} {key}", node=n.name)
    return f"{n.name}: {key} {'blocked both ways' if blocked else 'open'}"


def partition(lab: str, how: str = "explicit", a: list[str] | None = None, b: list[str] | None = None) -> str:
    plan = engine.get_plan(lab)
    faults = load(lab)
    if faults.get("partition"):
        raise ChaosError("a partition is already in place: heal it first (biglab chaos LAB heal)")
    names = [n.name for n in plan.nodes if n.runs_daemon] if how != "explicit" else [n.name for n in plan.nodes]
    groups = partition_groups(names, how, a, b)
    faults["partition"] = {"how": how, "groups": [[x, y] for x, y in groups]}
    involved = sorted({n for x, y in groups for n in x + y})
    _apply_firewall(plan, faults, involved)
    _save(lab, faults)
    text = "; ".join(f"{','.join(x)} | {','.join(y)}" for x, y in groups)
    note(lab, "fault", f"partition ({how}) {text}")
    return f"partitioned: {text}"


def heal(lab: str) -> str:
    plan = engine.get_plan(lab)
    faults = load(lab)
    part = faults.pop("partition", None)
    if not part:
        return "no partition to heal"
    involved = sorted({n for x, y in part["groups"] for n in x + y})
    _apply_firewall(plan, faults, involved)
    _save(lab, faults)
    note(lab, "repair", "heal: partition removed")
    return "healed"


# -- processes ------------------------------------------------------------------------------------
def _pid(plan: Plan, node) -> tuple[int | None, str]:
    if node.kind == "host":
        raise ChaosError(f"{node.name} is a host node: it runs no daemon")
    pidfile = "daemon.pid" if node.runs_daemon else "web.pid"
    try:
        return int((state.node_dir(plan.lab, node.name) / pidfile).read_text()), pidfile
    except (FileNotFoundError, ValueError):
        return None, pidfile


def _set_process(lab: str, node: str, value: str | None) -> None:
    faults = load(lab)
    procs = faults.setdefault("processes", {})
    if value:
        procs[node] = value
    else:
        procs.pop(node, None)
    _save(lab, faults)


def process(lab: str, node: str, action: str) -> str:
    """kill (-9), stop (TERM, wait), start (also after kill), pause (STOP), resume (CONT)."""
    plan = engine.get_plan(lab)
    n = engine.resolve(plan, node)
    pid, _ = _pid(plan, n)
    be = get_backend(plan.backend)
    current = load(lab).get("processes", {}).get(n.name)
    alive = pid is not None and pid in be.pids(n) and be.signal(n, pid, 0)
    what = "daemon" if n.runs_daemon else "web server"
    if action == "start":
        if current == "paused":
            raise ChaosError(f"{n.name} is paused: resume it")
        if alive:
            raise ChaosError(f"{n.name}'s {what} is already running (pid {pid})")
        pid = _start(plan, n, load(lab).get("versions", {}).get(n.name))
        _set_process(lab, n.name, None)
        note(lab, "repair", f"start {n.name} ({what} pid {pid})", node=n.name)
        return f"{n.name}: {what} started (pid {pid})"
    if action == "resume":
        if current != "paused":
            raise ChaosError(f"{n.name} is not paused")
        be.signal(n, pid, signal.SIGCONT)
        _set_process(lab, n.name, None)
        note(lab, "repair", f"resume {n.name} (SIGCONT to pid {pid})", node=n.name)
        return f"{n.name}: resumed"
    if not alive:
        raise ChaosError(f"{n.name}'s {what} is not running" + (f" ({current})" if current else ""))
    if action == "kill":
        be.signal(n, pid, signal.SIGKILL)
        _wait_gone(be, n, pid)
        _set_process(lab, n.name, "killed")
        note(lab, "fault", f"kill {n.name} (kill -9 of {what} pid {pid})", node=n.name)
        return f"{n.name}: {what} killed (pid {pid})"
    if action == "stop":
        be.stop_process(n, pid)
        _set_process(lab, n.name, "stopped")
        note(lab, "fault", f"stop {n.name} (SIGTERM to {what} pid {pid})", node=n.name)
        return f"{n.name}: {what} stopped"
    if action == "pause":
        if current == "paused":
            raise ChaosError(f"{n.name} is already paused")
        be.signal(n, pid, signal.SIGSTOP)
        _set_process(lab, n.name, "paused")
        note(lab, "fault", f"pause {n.name} (SIGSTOP to {what} pid {pid})", node=n.name)
        return f"{n.name}: paused (pid {pid})"
    raise ChaosError(f"unknown process action {action!r}")


def _wait_gone(be, node, pid: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while pid in be.pids(node) and time.monotonic() < deadline:
        time.sleep(0.01)


def _start(plan: Plan, node, version: str | None = None) -> int:
    if not node.runs_daemon:
        return engine.start_server(plan, node.name)
    iq = tuple(int(x) for x in version.split(".")) if version else ()
    pid = engine.start_daemon(plan, node.name, iquery_version=iq)
    deadline = time.monotonic() + 15
    while not engine._answers(plan.lab, node.name):
        if not engine._daemon_alive(plan.lab, node.name) or time.monotonic() > deadline:
            out = (state.node_dir(plan.lab, node.name) / "daemon.out").read_text(errors="replace")
            raise LabError(f"{node.name}'s daemon did not come up:\n{out[-1500:]}")
        time.sleep(0.02)
    return pid


def version(lab: str, node: str, value: str) -> str:
    """Restart a bigip's daemon speaking another iQuery protocol version (`reset`: this build's)."""
    plan = engine.get_plan(lab)
    n = engine.resolve(plan, node)
    if not n.runs_daemon:
        raise ChaosError(f"{n.name} is a {n.kind} node: only bigip nodes speak iQuery")
    if value != "reset":
        parts = value.split(".")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise ChaosError(f"{value!r}: give a protocol version as MAJOR.MINOR (e.g. 2.0), or reset")
    faults = load(lab)
    if faults.get("processes", {}).get(n.name) == "paused":
        raise ChaosError(f"{n.name} is paused: resume it first")
    pid, _ = _pid(plan, n)
    if pid is not None:
        get_backend(plan.backend).stop_process(n, pid)
    versions = faults.setdefault("versions", {})
    if value == "reset":
        versions.pop(n.name, None)
    else:
        versions[n.name] = value
    faults.get("processes", {}).pop(n.name, None)
    _save(lab, faults)
    pid = _start(plan, n, None if value == "reset" else value)
    note(lab, "repair" if value == "reset" else "fault",
         f"version {n.name} {value} (daemon restarted, pid {pid})", node=n.name)
    return f"{n.name}: daemon restarted speaking iQuery " + ("this build's version" if value == "reset" else value)


# -- clocks, NTP, certificates ------------------------------------------------------------------
def _bigip(plan: Plan, node: str):
    n = engine.resolve(plan, node)
    if not n.runs_daemon:
        raise ChaosError(f"{n.name} is a {n.kind} node: it has no node clock")
    return n


def clock(lab: str, node: str, skew: str | None, drift_ppm: float | None = None) -> str:
    plan = engine.get_plan(lab)
    n = _bigip(plan, node)
    offset = parse_skew(skew) if skew is not None else None
    if offset is None and drift_ppm is None:
        raise ChaosError("give a skew (+400d, -2h, reset) and/or --drift PPM")
    try:
        result = call(lab, n.name, "clock", offset=offset, drift_ppm=drift_ppm)
    except ControlError as exc:
        raise ChaosError(str(exc)) from None
    faults = load(lab)
    clocks = faults.setdefault("clocks", {})
    entry = clocks.setdefault(n.name, {})
    if skew is not None:
        if skew == "reset":
            entry.pop("skew", None)
        else:
            entry["skew"] = skew
    if drift_ppm is not None:
        entry["drift_ppm"] = drift_ppm
        if drift_ppm == (plan.ntp or {}).get("drift_ppm", 0.0):
            entry.pop("drift_ppm")   # back to the topology's rate: no longer a fault
    if not entry:
        clocks.pop(n.name)
    _save(lab, faults)
    parts = ([f"skew {skew}"] if skew else []) + ([f"drift {drift_ppm:g} ppm"] if drift_ppm is not None else [])
    note(lab, "repair" if skew == "reset" else "fault", f"clock {n.name} {', '.join(parts)}", node=n.name)
    return f"{n.name}: node clock now {result['now']} (offset {result['offset']:+.3f} s)"


def _ntpd_pidfile(lab: str):
    return state.lab_dir(lab) / "ntpd.pid"


def ntpd_pid(lab: str) -> int | None:
    try:
        pid = int(_ntpd_pidfile(lab).read_text())
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return pid if b"lab.ntpd" in f.read() else None
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None


def start_ntpd(plan: Plan) -> int | None:
    """The lab's NTP server on the host's management address (if the topology asks for one)."""
    if not plan.ntp:
        return None
    address = plan.bridge(plan.mgmt_vlan).host_address.split("/")[0]
    with open(state.lab_dir(plan.lab) / "ntpd.out", "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "lab.ntpd", address], stdin=subprocess.DEVNULL,
                                stdout=out, stderr=out, start_new_session=True, close_fds=True,
                                cwd=str(engine.CERTS.parent))
    proc.returncode = 0  # detached on purpose: the lab tracks its pid
    _ntpd_pidfile(plan.lab).write_text(str(proc.pid))
    return proc.pid


def stop_ntpd(lab: str) -> bool:
    from .backends.netns import stop_processes
    pid = ntpd_pid(lab)
    if pid is None:
        return False
    stop_processes([pid])
    _ntpd_pidfile(lab).unlink(missing_ok=True)
    return True


def ntp(lab: str, action: str) -> str:
    plan = engine.get_plan(lab)
    if not plan.ntp:
        raise ChaosError(f"lab {lab} runs no NTP server (add `ntp:` to its topology)")
    faults = load(lab)
    if action == "stop":
        if not stop_ntpd(lab):
            raise ChaosError("the lab's NTP server is not running")
        faults["ntp"] = "stopped"
        _save(lab, faults)
        note(lab, "fault", "ntp stop: the lab's NTP server is down")
        return "NTP server stopped: node clocks now run free"
    if action == "start":
        if ntpd_pid(lab) is not None:
            raise ChaosError("the lab's NTP server is already running")
        pid = start_ntpd(plan)
        faults.pop("ntp", None)
        _save(lab, faults)
        note(lab, "repair", f"ntp start: the lab's NTP server is back (pid {pid})")
        return "NTP server started"
    raise ChaosError(f"unknown ntp action {action!r} (stop, start)")


def cert(lab: str, node: str, valid: float | None = None) -> str:
    """Renew a device certificate (rotation); `valid` seconds makes a short-lived one."""
    plan = engine.get_plan(lab)
    n = _bigip(plan, node)
    try:
        result = call(lab, n.name, "cert-renew", valid=valid)
    except ControlError as exc:
        raise ChaosError(str(exc)) from None
    note(lab, "fault" if valid else "repair", f"cert {n.name} renewed, valid until {result['not_after']}",
         node=n.name)
    return f"{n.name}: new device certificate, valid until {result['not_after']}"


# -- list and reset -----------------------------------------------------------------------------
def listing(lab: str) -> list[str]:
    engine.get_plan(lab)
    f = load(lab)
    out = [f"link {k} down" for k in sorted(f.get("links", {}))]
    if f.get("partition"):
        p = f["partition"]
        out.append(f"partition ({p['how']}) " + "; ".join(f"{','.join(a)} | {','.join(b)}" for a, b in p["groups"]))
    out += [f"netem {k} " + " ".join(f"{o} {v}" for o, v in spec.items() if not o.startswith("_"))
            for k, spec in sorted(f.get("netem", {}).items())]
    out += [f"{state_} {n}" for n, state_ in sorted(f.get("processes", {}).items())]
    out += [f"block {n} {p}" for n, ports in sorted(f.get("blocks", {}).items()) for p in ports]
    for n, c in sorted(f.get("clocks", {}).items()):
        try:
            now = f" (node clock now {call(lab, n, 'clock', timeout=2.0)['offset']:+.3f} s from true time)"
        except ControlError:
            now = ""
        out.append(f"clock {n} " + ", ".join(([f"skew {c['skew']}"] if "skew" in c else [])
                                             + ([f"drift {c['drift_ppm']:g} ppm"] if "drift_ppm" in c else [])) + now)
    out += [f"version {n} {v}" for n, v in sorted(f.get("versions", {}).items())]
    if f.get("ntp") == "stopped":
        out.append("ntp stopped")
    return out


def reset(lab: str) -> list[str]:
    """Undo every recorded fault; returns what was repaired."""
    plan = engine.get_plan(lab)
    f = load(lab)
    done = []
    for key in list(f.get("links", {})):
        link(lab, key, True)
        done.append(f"link {key} up")
    if f.get("partition"):
        heal(lab)
        done.append("heal")
    for key in list(f.get("netem", {})):
        netem(lab, key, None)
        done.append(f"netem {key} reset")
    for n, st in list(f.get("processes", {}).items()):
        process(lab, n, "resume" if st == "paused" else "start")
        done.append(f"{'resume' if st == 'paused' else 'start'} {n}")
    for n, ports in list(f.get("blocks", {}).items()):
        for p in list(ports):
            block(lab, n, p, False)
            done.append(f"unblock {n} {p}")
    for n, v in list(f.get("versions", {}).items()):
        version(lab, n, "reset")
        done.append(f"version {n} reset")
    for n, c in list(f.get("clocks", {}).items()):
        drift = (plan.ntp or {}).get("drift_ppm", 0.0) if "drift_ppm" in c else None
        clock(lab, n, "reset", drift)
        done.append(f"clock {n} reset")
    if f.get("ntp") == "stopped":
        ntp(lab, "start")
        done.append("ntp start")
    return done
