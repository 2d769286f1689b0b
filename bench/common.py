"""Helpers the benchmarks share: run biglab, bring a lab up and down around a block."""
from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from lab.runtime.guard import guard_process, lab_route  # noqa: E402

guard_process()   # every socket a bench opens goes to a lab's own links or the loopback, or is refused
HA_PAIR = ROOT / "topologies" / "ha-pair.yml"


def biglab(*args) -> float:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "lab.cli", *args], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"biglab {' '.join(args)} failed:\n{proc.stderr}")
    return time.monotonic() - started


@contextlib.contextmanager
def lab(name: str, mgmt_subnet: str, topology: Path = HA_PAIR, ha: dict | None = None):
    """A lab from `topology` (its ha section updated with `ha`), removed afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        path = topology
        if ha:
            data = yaml.safe_load(topology.read_text())
            data["ha"].update(ha)
            path = Path(tmp) / topology.name
            path.write_text(yaml.safe_dump(data, sort_keys=False))
        biglab("up", str(path), "--name", name, "--mgmt-subnet", mgmt_subnet)
        try:
            yield name
        finally:
            biglab("down", name)


def host_argv(argv: list[str], addr: str) -> list[str]:
    """A load tool (wrk, dnsperf, curl) run on the host at a lab address: refused unless the address
    is on a lab's own link (lab_route)."""
    lab_route(addr)
    return argv


def lab_args(ap, name: str, net: str) -> None:
    """--name and --net (the first three octets of the first /24) for the labs a bench brings up,
    so runs side by side use their own names and subnets."""
    ap.add_argument("--name", default=name, help=f"lab name prefix (default {name})")
    ap.add_argument("--net", default=net, help=f"first management /24, as A.B.C (default {net})")


def subnet(net: str, i: int = 0) -> str:
    """The i-th /24 from `net` (A.B.C)."""
    a, b, c = net.split(".")
    return f"{a}.{b}.{int(c) + i}.0/24"


def wait(check, timeout: float = 30.0, interval: float = 0.001):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise SystemExit(f"timed out after {timeout} s")


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def dnsperf_figures(out: str) -> dict:
    """dnsperf's report -> queries per second, queries lost, average latency in ms."""
    result = {}
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Queries per second:"):
            result["qps"] = round(float(line.split(":")[1]), 1)
        elif line.startswith("Queries lost:"):
            result["lost"] = int(line.split(":")[1].split()[0])
        elif line.startswith("Average Latency (s):"):
            result["avg_ms"] = round(float(line.split(":")[1].split()[0]) * 1000, 3)
    if "qps" not in result:
        raise SystemExit(f"dnsperf failed: {out[-500:]}")
    return result


def wrk_figures(out: str) -> dict:
    """wrk's report -> requests/s, p99 in ms, and any errors it counted."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    return {"requests_per_s": round(rps, 1), "p99_ms": round(float(p99.group(1)) * scale, 3),
            "errors": errors.group(0) if errors else None}
