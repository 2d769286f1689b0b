"""Real-lab fixtures: real namespaces, bridges and daemons, removed even when a test fails.

Test labs get their own names and management subnets (10.251.x.0/24), so they run beside a lab a
user brought up with `make lab-up`, and never touch it.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from node.netlink import IPRoute, netns

from lab.model import state
from lab.model.plan import prefix
from lab.runtime import forkserver, wiring
from lab.runtime.control import ControlError
from lab.runtime.guard import guard_sockets

ROOT = Path(__file__).resolve().parents[2]
HA_PAIR = ROOT / "topologies" / "ha-pair.yml"


@pytest.fixture(autouse=True, scope="module")
def lab_addresses_stay_on_host():
    """Every socket a lab test opens from the host goes to a lab's own links or the loopback, or is
    refused before a packet leaves the machine (lab_route)."""
    with guard_sockets():
        yield


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="real-lab tests need root (namespaces, bridges, veth)")
        for item in items:
            if "tests/lab" in str(item.fspath):
                item.add_marker(skip)


def biglab(*args, check=True, timeout=60) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "lab.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"biglab {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def leftovers(lab: str, pids=()) -> list[str]:
    p = prefix(lab)
    left = [f"netns {n}" for n in netns.listnetns() if n.startswith(p)]
    with IPRoute() as ipr:
        left += [f"link {name}" for _, name, _ in wiring.lab_links(ipr, p)]
    if state.lab_dir(lab).exists():
        left.append(f"run dir {state.lab_dir(lab)}")
    left += [f"pid {pid}" for pid in pids if Path(f"/proc/{pid}").exists()
             and any(m in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
                     for m in ("node.daemon", forkserver.MODULE))]   # forked daemons show the server's
    left += [f"fork server {pid}" for pid in forkserver.servers(p)]
    return left


def daemon_pids(lab: str) -> list[int]:
    # a pid file being written (or cut short by a killed `up`) is empty: no daemon known there yet
    return [int(text) for p in state.lab_dir(lab).glob("*/daemon.pid") if (text := p.read_text().strip()).isdigit()]


class Labs:
    """Brings labs up from topology files; `close` takes each down and checks it left nothing."""

    def __init__(self):
        self.made: dict[str, list[int]] = {}

    def __call__(self, src: Path, name: str, mgmt_subnet: str, *extra) -> str:
        self.made[name] = []
        try:
            biglab("up", str(src), "--name", name, "--mgmt-subnet", mgmt_subnet, *extra)
        finally:
            self.made[name] = daemon_pids(name)
        return name

    def close(self) -> None:
        problems = []
        for name, pids in self.made.items():
            pids = set(pids) | set(daemon_pids(name))
            biglab("down", name, check=False)
            left = leftovers(name, pids)
            if left:
                problems.append(f"{name}: {left}")
        assert not problems, f"biglab down left resources behind: {problems}"


@contextlib.contextmanager
def one_lab(src: Path, name: str, mgmt_subnet: str, *extra):
    """One lab for a block (a module-scoped fixture's body): up, yielded by name, always taken down."""
    labs = Labs()
    try:
        yield labs(src, name, mgmt_subnet, *extra)
    finally:
        labs.close()


def module_lab(src: Path, name: str, mgmt_subnet: str, ready=None):
    """A module-scoped fixture: one lab for the module's tests, `ready(lab)` waited for first."""
    @pytest.fixture(scope="module")
    def fixture():
        with one_lab(src, name, mgmt_subnet) as lab:
            if ready is not None:
                ready(lab)
            yield lab
    return fixture


class Shared:
    """One lab for the tests of several modules that run one after another: brought up by the first
    test that asks, taken down after the last one in a row (pytest_runtest_teardown below)."""

    def __init__(self, src: Path, name: str, mgmt_subnet: str, ready=None):
        self.args, self.ready = (src, name, mgmt_subnet), ready
        self.stack: contextlib.ExitStack | None = None
        self.lab: str | None = None

    def get(self) -> str:
        if self.lab is None:
            with contextlib.ExitStack() as stack:
                lab = stack.enter_context(one_lab(*self.args))
                if self.ready is not None:
                    self.ready(lab)
                self.stack, self.lab = stack.pop_all(), lab
        return self.lab

    def close(self) -> None:
        stack, self.stack, self.lab = self.stack, None, None
        if stack is not None:
            stack.close()


SHARED: dict[str, Shared] = {}   # fixture name -> its lab


def for_worker(name: str, mgmt_subnet: str) -> tuple[str, str]:
    """A lab that several modules share, named for the pytest-xdist worker that runs them: `make
    test` runs files on two workers (--dist loadfile), and two of them may want it at once. The
    second worker's copy is NAME1 (a lab name has at most 6 characters: tanscm -> tansc1) on the
    subnet 100 above (10.251.70.0/24 -> 10.251.170.0/24)."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    if not worker:
        return name, mgmt_subnet
    a, b, c, rest = mgmt_subnet.split(".", 3)
    return f"{name[:5]}{worker}", f"{a}.{b}.{int(c) + 100 * worker}.{rest}"


def shared_lab(fixture_name: str, src: Path, name: str, mgmt_subnet: str, ready=None):
    """A fixture whose lab the next test keeps if it uses the fixture too, whatever its module."""
    SHARED[fixture_name] = Shared(src, *for_worker(name, mgmt_subnet), ready)

    @pytest.fixture(name=fixture_name)
    def fixture():
        return SHARED[fixture_name].get()
    return fixture


def pytest_runtest_teardown(item, nextitem):
    for fixture_name, shared in SHARED.items():
        if nextitem is None or fixture_name not in nextitem.fixturenames:
            shared.close()


def ltm_ready(lab: str) -> None:
    """Both members up on both devices (a 1 s monitor), the fastL4 virtual in bigip1's kernel."""
    from lab.runtime.control import call, node_status
    from lab.runtime.lab import Lab
    call(lab, "bigip1", "tmsh", line="create ltm monitor http fast interval 1 timeout 3")
    call(lab, "bigip1", "tmsh", line="modify ltm pool web_pool monitor fast")
    for node in ("bigip1", "bigip2"):
        for m in ("10.1.20.21:80", "10.1.20.22:80"):
            wait_for(lambda: node_status(lab, node).ltm.pools["/Common/web_pool"].members[f"/Common/{m}"].availability == "available",
                     what=f"{m} up on {node}")
    wait_for(lambda: node_status(lab, "bigip1").ltm.virtuals["/Common/vs_l4"].serving, what="vs_l4 in the kernel")

    def both_members_answer() -> bool:   # the kernel's rules, and the servers' way back through the floating
        answers = [Lab.open(lab).run("client", ["curl", "-s", "-m", "2", "http://10.1.10.100:81/"],   # self IP,
                                     capture_output=True, text=True).stdout.split()[:1] for _ in range(4)]   # settle
        return all(answers) and {a[0] for a in answers} == {"web1", "web2"}   # a moment after the status says so
    wait_for(both_members_answer, what="vs_l4 forwarding to both members, every request answered")


# test_ltm.py and test_ltm_dataplane.py: one pair with a virtual per data path (10.250.140-141.0/24)
ltm_lab = shared_lab("ltm_lab", ROOT / "topologies" / "ltm-dataplane.yml", "tltm", "10.250.140.0/24", ltm_ready)


@pytest.fixture
def make_lab():
    labs = Labs()
    yield labs
    labs.close()


@pytest.fixture(scope="module")
def ha_lab():
    """ha-pair as shipped, renamed `tha` with management subnet 10.251.1.0/24."""
    with one_lab(HA_PAIR, "tha", "10.251.1.0/24") as name:
        yield name


def wait_for(check, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except ControlError as exc:  # a daemon (re)starting does not answer yet
            last = exc
        if last and not isinstance(last, ControlError):
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}; last: {last!r}")
